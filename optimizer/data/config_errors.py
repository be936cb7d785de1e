"""Turning pydantic's validation errors into one InputError with `key.path: message` lines."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from optimizer.data.hints import did_you_mean, quoted
from optimizer.errors import InputError

MISSING_FIX = {
    "history": "add history: {spend: PATH, room: PATH} (paths relative to the config file)",
    "session": 'add session: {start: "YYYY-MM-DD HH:MM", end: "YYYY-MM-DD HH:MM"}',
    "budget": "add budget: the session's spend cap in yuan",
}


def config_error(exc: ValidationError, source: str, root: type[BaseModel]) -> InputError:
    """One InputError, named by `source`, listing every problem in `exc`."""
    lines = [_describe(error, root) for error in exc.errors()]
    if len(lines) == 1:
        return InputError(lines[0], source=source)
    return InputError(
        f"{len(lines)} problems:\n" + "\n".join(f"  {line}" for line in lines), source=source
    )


def _describe(error: dict[str, Any], root: type[BaseModel]) -> str:
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) or "(the config)"
    kind = error["type"]
    if kind == "missing":
        return f"{key}: required key is missing; {MISSING_FIX.get(key, 'add it')}"
    if kind == "extra_forbidden":
        known = _keys_at(root, loc[:-1])
        return (
            f"{key}: unknown key{did_you_mean(loc[-1], known)}; remove it or correct its "
            f"spelling (keys here: {quoted(known)})"
        )
    if kind == "value_error":
        return f"{key}: {error['ctx']['error']}"
    message = error["msg"][:1].lower() + error["msg"][1:]
    value = error.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list) else ""
    return f"{key}: {message}{shown}{_hint(kind, error.get('ctx') or {})}"


def _hint(kind: str, ctx: dict[str, Any]) -> str:
    """What to write instead, for the errors whose pydantic message does not say."""
    if kind in ("float_parsing", "int_parsing"):
        return "; write a plain number, with no thousands separators, units or quotes"
    if kind == "less_than_equal" and ctx.get("le") == 1:
        return "; it is a share, written as a fraction: 0.3 for 30%"
    return ""


def _keys_at(root: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The keys the model at key path `loc` knows (walking models, optionals and dicts)."""
    model: type[BaseModel] | None = root
    parts = list(loc)
    while parts and model is not None:
        field = model.model_fields.get(parts.pop(0))
        if field is None:
            return []
        annotation = field.annotation
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            parts = parts[1:]  # the mapping's own key, e.g. the package name
        model = next(
            (
                a
                for a in get_args(annotation) or (annotation,)
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
    return list(model.model_fields) if model is not None else []
