"""How many CPU threads a kernel's torch and BLAS may use, set in its environment before torch is imported.

torch's default is one thread per core. Two kernels that each take every core thrash: on a busy 2-core
machine a 32-token reply of the packaged model took 54 s with torch's default and 4.9 s with one
thread. So each kernel gets the cores its session may use: `[sandbox] cpus` where the environment says,
else (local) this machine's usable cores divided among the Seer sessions running on it, counted in a
per-user folder that every local sandbox joins from `start` to `terminate` (`SessionRegistry`). A
session keeps the count it started with: one started alone keeps every core when others join later.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

from seer.environment import SandboxSpec
from seer.run import pid_alive

__all__ = ["THREAD_VARIABLES", "SessionRegistry", "ThreadAllowance", "thread_allowance", "usable_cores"]

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
    """A per-user folder with one file per running local session, named `<harness pid>-<id>` and holding
    the harness's start time, so a dead or reused pid is not counted. Files of dead harnesses are removed
    when counted, and a sandbox that is dropped without `terminate` leaves when it is garbage-collected.
    The folder is `$SEER_RUNTIME_DIR/sessions` (default: `seer-<uid>` in `$XDG_RUNTIME_DIR` or the
    temporary folder)."""

    def __init__(self) -> None:
        default = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"seer-{os.getuid()}"
        self.folder = Path(os.environ.get("SEER_RUNTIME_DIR") or default) / "sessions"
        self._leave: weakref.finalize | None = None

    def join(self) -> None:
        if self._leave is not None and self._leave.alive:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        mine = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        mine.write_text(_started(os.getpid()))
        self._leave = weakref.finalize(self, mine.unlink, missing_ok=True)

    def leave(self) -> None:
        if self._leave is not None:
            self._leave()

    def count(self) -> int:
        """Sessions running on this machine now, this one included once it has joined."""
        live = 0
        for entry in self.folder.iterdir() if self.folder.is_dir() else []:
            pid = entry.name.partition("-")[0]
            try:
                started = _started(int(pid)) if pid.isdigit() else ""
                same = bool(started) and started == entry.read_text()
            except OSError:
                same = False
            if same:
                live += 1
            else:
                entry.unlink(missing_ok=True)
        return live


def _started(pid: int) -> str:
    """When process `pid` started ("" if it is gone; "?" where /proc is missing but it lives)."""
    if not pid_alive(pid):
        return ""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return "?"


def thread_allowance(spec: SandboxSpec, *, sessions: int = 1) -> ThreadAllowance:
    """The thread count for a kernel of a sandbox of `spec`, where `sessions` local sessions (this one
    included) share this machine."""
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
