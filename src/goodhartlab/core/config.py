"""The config base every experiment's ``Config`` extends, and its resolution from CLI input.

Resolution order: field defaults, then a named preset, then a YAML file, then
``--set field=value`` pairs, then ``--seed``. Every step is validated by
pydantic; any failure becomes one :class:`UserError` line naming the field and
what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from goodhartlab.core.errors import UserError, did_you_mean


class ExperimentConfig(BaseModel):
    """Base for experiment configs: frozen, unknown fields rejected, presets by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(0, ge=0, le=2**32 - 1, description="Run seed; every random stream derives from it.")

    # Named presets: partial overrides of the field defaults. "default" means no override.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def hash(self) -> str:
        """A stable identity for this resolved config (seed included)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def parse_assignment(text: str) -> tuple[str, Any]:
    """``'a.b=1.5'`` -> ``('a.b', 1.5)``; the value is read as YAML so numbers and lists type themselves."""
    if "=" not in text:
        raise UserError(f"--set expects field=value, got '{text}'")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UserError(f"--set expects field=value, got '{text}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return key, value


def _check_keys(cls: type[BaseModel], values: dict[str, Any], prefix: str = "") -> None:
    fields = cls.model_fields
    for key, value in values.items():
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise UserError(
                f"unknown field '{prefix}{key}'{did_you_mean(key, fields)}; fields are: {allowed}"
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
            raise UserError(f"field '{key}': '{part}' is not a group of fields")
    node[parts[-1]] = value


def load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"--config: no such file '{path}'")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"--config: '{path}' is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"--config: '{path}' must hold a mapping of field: value, got {type(data).__name__}")
    if isinstance(data.get("config"), dict) and "experiment" in data:  # a run's own config.json: its resolved config
        return data["config"]
    return data


def describe_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if not field:  # a check across several fields (model validator)
        return f"invalid combination of fields: {msg}"
    got = err.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict) else ""
    return f"field '{field}': {msg}{shown}"


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
            raise UserError(f"unknown preset '{preset}'{did_you_mean(preset, names)}; presets are: {', '.join(names)}")
        values.update(copy.deepcopy(cls.presets[preset]))  # --set a.b=... must not edit the preset itself
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
