"""Reading the JSON and TOML files a user writes (environments, tasks, rubrics, plans, benches) with errors
that name the file and what is wrong with it, and each validation problem as `field: problem`."""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from seer.errors import SpecError

__all__ = ["field_problem", "read_spec_file"]


def read_spec_file(path: Path, *, missing: str = "no such file") -> Any:
    """The parsed contents of `path`: TOML for a `.toml` file, JSON otherwise.

    Raises:
        SpecError: The file is missing (the message is `path: missing`) or does not parse.
    """
    toml = path.suffix == ".toml"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SpecError(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot be read: {exc}") from None
    try:
        return tomllib.loads(text) if toml else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path}: not valid {'TOML' if toml else 'JSON'}: {exc}") from None


def field_problem(error: Any, model: type[BaseModel]) -> str:
    """`field: problem` for one pydantic error of `model` (with a 'did you mean' for an unknown field)."""
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        known = _known_fields(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        message = f"unknown field; {hint}known fields: {', '.join(sorted(known))}"
    return f"{location or '(top level)'}: {message}"


def _known_fields(model: type[BaseModel], parent: tuple[Any, ...]) -> list[str]:
    """The field names valid at a location in `model`, for 'did you mean' hints."""
    for part in parent:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        args = getattr(annotation, "__args__", (annotation,))
        nested = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)
