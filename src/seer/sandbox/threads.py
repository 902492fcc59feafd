"""How many CPU threads a kernel's torch and BLAS may use, set in its environment before torch is imported.

torch's default is one thread per core. Two kernels that each take every core thrash: on a busy 2-core
machine a 32-token reply of the packaged model took 54 s with torch's default and 4.9 s with one
thread. So each kernel gets the cores its session may use: `[sandbox] cpus` where the environment says,
else (local) this machine's usable cores divided among the Seer sessions running on it, counted in a
per-user folder of live sessions that every local sandbox joins while it runs.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from seer.environment import SandboxSpec

__all__ = ["THREAD_VARIABLES", "ThreadAllowance", "SessionRegistry", "thread_allowance", "usable_cores"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""What torch (OpenMP) and the BLAS libraries read at import for their thread pools."""


@dataclass(frozen=True)
class ThreadAllowance:
    """A kernel's CPU thread count (None: left to the library defaults) and why, as `run.json` records it."""

    threads: int | None
    reason: str

    def env(self) -> dict[str, str]:
        return {name: str(self.threads) for name in THREAD_VARIABLES} if self.threads else {}

    def record(self) -> dict[str, object]:
        return asdict(self)


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


class SessionRegistry:
    """A folder with one file per running local session, named `<pid>-<id>`; files of dead processes
    are removed when counted, so a killed harness is not counted for long. The folder is
    `$SEER_RUNTIME_DIR/sessions` (default: `seer-<uid>` in `$XDG_RUNTIME_DIR` or the temporary folder)."""

    def __init__(self) -> None:
        base = os.environ.get("SEER_RUNTIME_DIR") or Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"seer-{os.getuid()}"
        self.folder = Path(base) / "sessions"
        self._mine: Path | None = None

    def join(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._mine = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._mine.touch()

    def leave(self) -> None:
        if self._mine is not None:
            self._mine.unlink(missing_ok=True)
            self._mine = None

    def count(self) -> int:
        """Live sessions on this machine, this one included once it has joined."""
        live = 0
        for entry in self.folder.glob("*-*") if self.folder.is_dir() else []:
            if _alive(entry.name.partition("-")[0]):
                live += 1
            else:
                entry.unlink(missing_ok=True)
        return live


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def thread_allowance(spec: SandboxSpec, *, sessions: int = 1) -> ThreadAllowance:
    """The thread count for a kernel of a sandbox of `spec`, with `sessions` sessions on a local machine."""
    if spec.cpus is not None:
        return ThreadAllowance(max(1, math.floor(spec.cpus)), f"[sandbox] cpus = {spec.cpus:g}")
    if spec.provider in ("modal", "ray"):
        return ThreadAllowance(max(1, math.floor(spec.reserved_cpus)), f"the {spec.reserved_cpus:g} CPUs the sandbox reserves")
    if spec.provider != "local":
        return ThreadAllowance(None, "the Jupyter server's cores are not known here; set [sandbox] cpus to choose")
    host = os.environ.get("OMP_NUM_THREADS", "")
    if host.isdigit() and int(host) > 0:
        return ThreadAllowance(int(host), "OMP_NUM_THREADS set on the host")
    cores, sessions = usable_cores(), max(1, sessions)
    return ThreadAllowance(max(1, cores // sessions), f"{cores} usable cores / {sessions} Seer session(s) running here")
