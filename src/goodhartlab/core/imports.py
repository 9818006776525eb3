"""Resolve ``"package.module:attribute"`` strings to objects (plugin parts, lazy catalog entries)."""

from __future__ import annotations

import importlib
import re
from typing import Any

from goodhartlab.core.errors import UserError

_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def load_object(spec: str, field: str = "import path") -> Any:
    """Import ``module:attr`` (attr may be dotted) and return it; a bad spec or failed import is a UserError."""
    if not isinstance(spec, str) or not _SPEC.match(spec):
        raise UserError(f"{field}: expected 'package.module:attribute', got {str(spec)[:80]!r}")
    module_name, attr = spec.split(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # a plugin may raise anything while importing; report it in one line
        raise UserError(
            f"{field}: cannot import module '{module_name}' ({exc.__class__.__name__}: {str(exc)[:120]})"
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"{field}: module '{module_name}' has no attribute '{attr}'") from None
    return obj
