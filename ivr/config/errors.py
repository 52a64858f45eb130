"""Turn pydantic's validation errors into one readable reason per field.

pydantic speaks in `loc` tuples and type names; a city's operator needs
"lines[3].mode: unknown mode 'full': allowed are full_merge (整体并入), ...".
Values of secret fields never appear in a reason.
"""
from __future__ import annotations

import difflib
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from ivr.config.model import Config
from ivr.config.problems import Path

# Chinese names of enum values, so the allowed choices read like the city's plan.
CHINESE = {
    "full_merge": "整体并入", "dual_number": "双号并行", "sub_center": "设分中心",
    "forward": "呼叫转移至12345", "hangup": "提示后挂机",
    "not_in_service": "取消号码", "department": "回归部门",
    "pooled": "座席并入", "retained": "保留座席",
}
SECRET_PATHS: tuple[Path, ...] = (("asterisk", "ami", "secret"), ("web", "tokens"), ("database", "url"))
DATE_FIELDS = ("effective", "transition_end")
NUMBER_FIELDS = ("number", "numbers", "aliases")


def translate(exc: ValidationError, data: Any) -> list[tuple[Path, str]]:
    """(path, reason) per field with errors; several errors on one field are joined."""
    grouped: dict[Path, list[str]] = {}
    for err in exc.errors(include_url=False):
        path = _trim(err["loc"], data, err["type"])
        if _is_number_error(path, err):
            continue  # ivr.config.check reports every malformed number with its own line
        reason = _reason(path, err)
        if reason not in grouped.setdefault(path, []):
            grouped[path].append(reason)
    return [(path, "; ".join(reasons)) for path, reasons in grouped.items() if reasons]


def is_secret(path: Path) -> bool:
    return any(path[: len(s)] == s for s in SECRET_PATHS)


def _trim(loc: tuple, data: Any, kind: str) -> Path:
    """Keep the part of `loc` that names places in the file (drop union tags like 'date')."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            if kind == "missing" and isinstance(node, dict) and isinstance(part, str):
                out.append(part)
            break
        out.append(part)
    return tuple(out)


def _is_number_error(path: Path, err: dict) -> bool:
    keys = [p for p in path if isinstance(p, str)]
    return err["type"] == "value_error" and "malformed number" in err["msg"] and bool(keys) and keys[-1] in NUMBER_FIELDS


def _reason(path: Path, err: dict) -> str:
    kind, msg = err["type"], err["msg"]
    show = not is_secret(path)
    value = err.get("input")
    key = path[-1] if path else ""
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(path)
    if key in DATE_FIELDS and not isinstance(value, (list, dict)):
        return f"expected a date like 2026-11-01 or a date and time like 2026-11-01 08:00:00+08:00, got {value!r}"
    if kind == "enum":
        return _enum_reason(path, value)
    if kind == "literal_error":
        got = f"{value!r} is not allowed" if show else "value not allowed"
        return f"{got}: use {err.get('ctx', {}).get('expected', '')}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "expected a mapping (key: value lines)"
    if kind == "list_type":
        return "expected a list"
    if kind == "string_type":
        return "expected text"
    if kind == "string_pattern_mismatch" and key == "id":
        got = f"id {value!r}" if show else "id"
        return f"{got} must start with a-z or 0-9 and use only a-z, 0-9, '-' and '_'"
    if kind == "too_short" and key in NUMBER_FIELDS:
        return "needs at least one number"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg


def _enum_reason(path: Path, value: Any) -> str:
    enum = _annotation_at(path)
    choices = [m.value for m in enum] if isinstance(enum, type) and issubclass(enum, Enum) else []
    allowed = ", ".join(f"{c} ({CHINESE[c]})" if c in CHINESE else c for c in choices)
    what = "mode" if path[-1:] == ("mode",) else "value"
    return f"unknown {what} {value!r}: allowed are {allowed}"


def _unknown_field(path: Path) -> str:
    key = str(path[-1])
    model = _annotation_at(path[:-1])
    fields = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {key!r}{hint}"


def _annotation_at(path: Path) -> Any:
    """The type the model expects at `path` (a model class, an Enum, ...), or None."""
    ann: Any = Config
    for part in path:
        ann = _unwrap(ann)
        origin = typing.get_origin(ann)
        if isinstance(part, str) and isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part)
            ann = field.annotation if field else None
        elif origin is list and isinstance(part, int):
            ann = typing.get_args(ann)[0]
        elif origin is dict:
            ann = typing.get_args(ann)[1]
        else:
            return None
    return _unwrap(ann)


def _unwrap(ann: Any) -> Any:
    """`X | None` -> X (the first non-None member of a union)."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(ann) if a is not type(None)]
        return members[0] if members else None
    return ann
