"""Reading the JSON and TOML files a user writes (environments, tasks, rubrics, plans) with errors that name
the file and what is wrong with it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from seer.errors import SpecError

__all__ = ["read_spec_file"]


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
