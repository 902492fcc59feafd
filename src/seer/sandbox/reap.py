"""Finding every process a kernel left behind, however it detached (`os.setsid`, a double fork), so
that a restart or a close ends them all and a stray child cannot hold the kernel's ports.

Each kernel's environment carries a tag (`TAG=<random>`); its descendants inherit it, and Linux shows
a process's starting environment in `/proc/<pid>/environ`, so the tag finds them wherever they were
reparented. A process that re-executes itself with a scrubbed environment escapes this; a confined
kernel's PID namespace catches that case too (every process in it ends with the sandbox).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from pathlib import Path

__all__ = ["TAG", "kill_tagged", "new_tag", "tagged"]

TAG = "SEER_KERNEL_TAG"


def new_tag() -> str:
    """A tag no other kernel has."""
    return f"{os.getpid()}-{secrets.token_hex(8)}"


def tagged(tag: str) -> list[int]:
    """The pids of live processes whose environment carries `tag` (none where there is no /proc)."""
    marker = f"{TAG}={tag}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return [pid for pid in found if pid != os.getpid()]


def kill_tagged(tag: str) -> int:
    """SIGKILL every process carrying `tag`; how many there were."""
    pids = tagged(tag)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)
