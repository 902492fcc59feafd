"""JSON schemas from type hints and Google-style docstrings, with no dependency beyond the standard
library (pydantic models are used when pydantic is installed). Runs inside the sandbox."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

__all__ = ["function_schema", "parse_docstring", "type_schema"]

_SIMPLE = {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"}, bool: {"type": "boolean"},
           type(None): {"type": "null"}, dict: {"type": "object"}, list: {"type": "array"}, Any: {}}  # fmt: skip


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """A Google-style docstring's description and its per-argument texts."""
    doc = inspect.cleandoc(doc or "")
    summary, _, rest = doc.partition("\nArgs:\n")
    args: dict[str, str] = {}
    current = None
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break  # the next section (Returns:, Raises:) starts
        match = re.match(r"^\s{2,8}(\w+)(?: \([^)]*\))?:\s*(.*)$", line)
        if match and (current is None or len(line) - len(line.lstrip()) <= 8):
            current = match.group(1)
            args[current] = match.group(2)
        elif current and line.strip():
            args[current] += " " + line.strip()
    return summary.strip(), args


def type_schema(annotation: Any) -> dict[str, Any]:
    """The JSON schema of one annotation.

    Raises:
        TypeError: The annotation has no JSON form (say which in the message).
    """
    if annotation in _SIMPLE:
        return dict(_SIMPLE[annotation])
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        options = [type_schema(a) for a in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (list, tuple, set, frozenset, typing.Sequence):
        return {"type": "array", "items": type_schema(args[0])} if args else {"type": "array"}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1])} if args else {"type": "object"}
    schema = getattr(annotation, "model_json_schema", None)  # a pydantic model
    if callable(schema):
        return schema()
    raise TypeError(f"{annotation!r} has no JSON form; use str, int, float, bool, lists, dicts, Literal or a pydantic model")


def function_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """`{"name", "description", "input_schema"}` for a plain function with type hints and a docstring.

    Raises:
        TypeError: A parameter lacks a type hint or a description, or has a type with no JSON form.
    """
    description, documented = parse_docstring(fn.__doc__ or "")
    if not description:
        raise TypeError(f"{fn.__name__}: an exposed function needs a docstring; the agent reads it")
    hints = typing.get_type_hints(fn, include_extras=False)
    properties, required = {}, []
    for name, param in inspect.signature(fn).parameters.items():
        if name not in hints:
            raise TypeError(f"{fn.__name__}: parameter {name!r} has no type hint")
        if name not in documented:
            raise TypeError(f"{fn.__name__}: parameter {name!r} has no description; add it under Args:")
        prop = {**type_schema(hints[name]), "description": documented[name]}
        if param.default is inspect.Parameter.empty:
            required.append(name)
        else:
            prop["default"] = param.default
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {"name": fn.__name__, "description": description, "input_schema": schema}
