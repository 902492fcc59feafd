"""Seer's version, and the handshake with the code it ships into sandboxes (the toolkit, the scope
server): a copy of another version is refused with both versions named."""

from __future__ import annotations

import re

from seer.errors import SandboxError

__all__ = ["__version__", "check_version", "read_shipped_version"]

__version__ = "0.1.0"

_VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def read_shipped_version(source: str) -> str:
    """The version in a shipped `_version.py`'s text ("unknown" if it has none)."""
    found = _VERSION_LINE.search(source)
    return found.group(1) if found else "unknown"


def check_version(what: str, version: str) -> None:
    """Refuse shipped code of another version than this harness.

    Raises:
        SandboxError: The versions differ; the message names both and the fix.
    """
    if version != __version__:
        raise SandboxError(
            f"{what} runs Seer code version {version}, but this harness is version {__version__}; "
            "remove the stale copy (or restart the shared server / rebuild the image with this Seer) so both match"
        )
