"""The config base every experiment's ``Config`` extends, and its resolution from CLI input.

Resolution order: field defaults, then a named preset, then a YAML file, then
``--set field=value`` pairs, then ``--seed``. Every step is validated by
pydantic; any failure becomes one :class:`UserError` line naming the field and
what is allowed.

Input is bounded before it is parsed (README, "Bounds"): a YAML text of at most
``MAX_YAML_BYTES`` whose node graph, with every alias expanded, has at most
``MAX_YAML_NODES`` nodes (so an anchor bomb, "billion laughs", is refused
before anything walks it). Numbers are strict: every float anywhere in a
config must be finite, and a boolean is not accepted where a number is asked.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from goodhartlab.core.errors import UserError, did_you_mean, shown

MAX_YAML_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 64  # brackets; PyYAML's scanner is quadratic in flow depth, so this is checked on the raw text


class ExperimentConfig(BaseModel):
    """Base for experiment configs: frozen, unknown fields rejected, presets by name, finite numbers only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(0, ge=0, le=2**32 - 1, description="Run seed; every random stream derives from it.")

    # Named presets: partial overrides of the field defaults. "default" means no override.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, data: Any) -> Any:
        # pydantic's lax mode reads True as 1: `--set seeds=true` would silently mean one seed.
        if isinstance(data, dict):
            problem = _bool_for_number(cls, data, "")
            if problem:
                raise ValueError(f"field '{problem[0]}': a number is required, got {problem[1]!r} (a boolean)")
            problem = _non_finite(data, "")  # before the fields' own checks, so the message is the same everywhere
            if problem:
                raise ValueError(f"field '{problem[0]}': must be a finite number, got {problem[1]}")
        return data

    @model_validator(mode="after")
    def _finite_numbers(self):
        # NaN passes every `x < 0` check and inf every `x > 0` one; refuse both everywhere, once, here.
        problem = _non_finite(self, "")
        if problem:
            raise ValueError(f"field '{problem[0]}': must be a finite number, got {problem[1]}")
        return self

    def hash(self) -> str:
        """A stable identity for this resolved config (seed included)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _arms(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of a Union / Optional / Annotated annotation (itself otherwise)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _arms(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for arm in typing.get_args(annotation) for a in _arms(arm))
    return (annotation,)


def _bool_for_number(model: type[BaseModel], data: dict, prefix: str) -> tuple[str, Any] | None:
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is not None:
            found = _check_bool(field.annotation, value, f"{prefix}{key}")
            if found:
                return found
    return None


def _check_bool(annotation: Any, value: Any, path: str) -> tuple[str, Any] | None:
    arms = _arms(annotation)
    if isinstance(value, bool):
        takes_bool = any(
            a is bool
            or a is Any
            or (typing.get_origin(a) is typing.Literal and any(isinstance(v, bool) for v in typing.get_args(a)))
            for a in arms
        )
        numeric = any(a is int or a is float for a in arms)
        return (path, value) if numeric and not takes_bool else None
    for arm in arms:
        origin, args = typing.get_origin(arm), typing.get_args(arm)
        if isinstance(value, dict) and isinstance(arm, type) and issubclass(arm, BaseModel):
            return _bool_for_number(arm, value, f"{path}.")
        if isinstance(value, (list, tuple)) and origin in (list, tuple, set, frozenset) and args:
            for i, item in enumerate(value):
                item_ann = (
                    args[0]
                    if origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)
                    else (args[i] if i < len(args) else None)
                )
                found = _check_bool(item_ann, item, f"{path}.{i}") if item_ann is not None else None
                if found:
                    return found
        if isinstance(value, dict) and origin is dict and len(args) == 2:
            for k, item in value.items():
                found = _check_bool(args[1], item, f"{path}.{k}")
                if found:
                    return found
    return None


def _non_finite(value: Any, path: str) -> tuple[str, float] | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, BaseModel):
        items = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the YAML graph with every alias expanded (an alias is a shared node), or raise past ``limit``."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if children_done:
            on_path.discard(id(node))
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > limit:
                raise UserError(f"more than {limit} values once its aliases are expanded")
            sizes[id(node)] = total
            continue
        if id(node) in on_path:
            raise UserError("an alias refers to itself (a recursive structure)")
        on_path.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                raise UserError("an alias refers to itself (a recursive structure)")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def read_yaml(text: str, what: str) -> Any:
    """Parse YAML safely and within bounds; ``what`` names the input in an error ("--config 'x.yaml'")."""
    if len(text) > MAX_YAML_BYTES:
        raise UserError(f"{what}: {len(text)} characters is more than the {MAX_YAML_BYTES} allowed")
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_YAML_DEPTH:
        raise UserError(f"{what}: nested more than {MAX_YAML_DEPTH} brackets deep")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            _expanded_size(node, MAX_YAML_NODES)
        except UserError as exc:
            raise UserError(f"{what}: {exc}") from None
        return loader.construct_document(node)
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise UserError(f"{what}: {exc}") from None
    except RecursionError:
        raise UserError(f"{what}: nested too deeply") from None
    finally:
        loader.dispose()


def parse_assignment(text: str) -> tuple[str, Any]:
    """``'a.b=1.5'`` -> ``('a.b', 1.5)``; the value is read as YAML so numbers and lists type themselves."""
    if "=" not in text:
        raise UserError(f"--set expects field=value, got {shown(text)}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UserError(f"--set expects field=value, got {shown(text)}")
    try:
        value = read_yaml(raw, f"--set {shown(key)}") if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return key, value


def _field_list(names: list[str], limit: int = 240) -> str:
    text = ", ".join(sorted(names))
    return text if len(text) <= limit else text[:limit].rsplit(", ", 1)[0] + f", ... ({len(names)} fields)"


def _check_keys(cls: type[BaseModel], values: dict[str, Any], prefix: str = "") -> None:
    fields = cls.model_fields
    for key, value in values.items():
        if key not in fields:
            name = f"{prefix}{key}"
            raise UserError(
                f"unknown field {shown(name)}{did_you_mean(str(key), fields)}; fields are: {_field_list(list(fields))}"
            )
        sub = fields[key].annotation
        if isinstance(value, dict) and isinstance(sub, type) and issubclass(sub, BaseModel):
            _check_keys(sub, value, prefix=f"{prefix}{key}.")


def _set_dotted(values: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"field {shown(key)}: {shown(part)} is not a group of fields")
    node[parts[-1]] = value


def load_yaml(path: Path) -> dict[str, Any]:
    """A ``--config`` file: UTF-8 YAML holding a mapping of field: value, within the bounds above."""
    where = f"--config '{shown(str(path))[1:-1]}'"
    try:
        found = path.is_file()
    except OSError as exc:  # Python 3.11's is_file raises on a name too long for the file system
        raise UserError(f"{where}: not a usable path ({exc.strerror or exc})") from None
    if not found:
        raise UserError(f"--config: no such file '{shown(str(path))[1:-1]}'")
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise UserError(f"{where}: {size} bytes is more than the {MAX_YAML_BYTES} allowed")
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    try:
        data = read_yaml(text, where)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{where} is not valid YAML{at}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{where} must hold a mapping of field: value, got {type(data).__name__}")
    if isinstance(data.get("config"), dict) and "experiment" in data:  # a run's own config.json: its resolved config
        return data["config"]
    return data


def describe_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if not field:  # a check across several fields (model validator), or the base's checks that name a field
        return msg if msg.startswith("field '") else f"invalid combination of fields: {msg}"
    got = err.get("input")
    echo = f" (got {shown(got)})" if not isinstance(got, dict) else ""
    return f"field '{field}': {msg}{echo}"


def resolve(
    cls: type[ExperimentConfig],
    preset: str | None = None,
    config_file: Path | None = None,
    assignments: list[str] | None = None,
    seed: int | None = None,
) -> ExperimentConfig:
    """Build a validated config from a preset, a YAML file, ``--set`` pairs and a seed."""
    values: dict[str, Any] = {}
    if preset and preset != "default":
        if preset not in cls.presets:
            names = ["default", *cls.presets]
            raise UserError(
                f"unknown preset {shown(preset)}{did_you_mean(preset, names)}; presets are: {', '.join(names)}"
            )
        # A deep copy: a dotted --set writes into nested dicts, which must not be the class's presets.
        values.update(copy.deepcopy(cls.presets[preset]))
    if config_file is not None:
        for key, value in load_yaml(Path(config_file)).items():
            _set_dotted(values, str(key), value)
    for text in assignments or []:
        key, value = parse_assignment(text)
        _set_dotted(values, key, value)
    if seed is not None:
        values["seed"] = seed
    _check_keys(cls, values)
    try:
        return cls(**values)
    except ValidationError as exc:
        raise UserError(describe_error(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError, OSError) as exc:
        # An experiment's validator that trips over an odd value instead of rejecting it: still one line.
        raise UserError(f"invalid config: {type(exc).__name__}: {exc}") from None
