"""How many CPU threads a kernel's torch and BLAS may use, set in its environment before torch is imported.

torch's default is one thread per core. Two kernels that each take every core thrash: on a busy 2-core
machine a 32-token reply of the packaged model took 54 s with torch's default and 4.9 s with one
thread. So each kernel gets the cores its session may use: `[sandbox] cpus` where the environment says,
else (local) this machine's usable cores divided between this session and each live Seer kernel or
scope server already running here, counted in a per-user folder (`ProcessRegistry`).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from seer.environment import SandboxSpec

__all__ = ["THREAD_VARIABLES", "ProcessRegistry", "ThreadAllowance", "thread_allowance", "usable_cores"]

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


class ProcessRegistry:
    """A per-user folder with one file per live Seer kernel or scope server on this machine, named by its
    pid and holding its start time (so a reused pid is not counted). Files of dead processes are removed
    when counted: nothing needs to unregister, and a killed harness leaves nothing counted for long. The
    folder is `$SEER_RUNTIME_DIR/processes` (default: `seer-<uid>` in `$XDG_RUNTIME_DIR` or the temporary
    folder)."""

    def __init__(self) -> None:
        default = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"seer-{os.getuid()}"
        self.folder = Path(os.environ.get("SEER_RUNTIME_DIR") or default) / "processes"

    def add(self, pid: int | None) -> None:
        if pid is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.folder / str(pid)).write_text(_started(pid))

    def count(self) -> int:
        """Live Seer processes that use torch on this machine."""
        live = 0
        for entry in self.folder.iterdir() if self.folder.is_dir() else []:
            try:
                same = entry.name.isdigit() and _started(int(entry.name)) == entry.read_text()
            except OSError:
                same = False
            if same:
                live += 1
            else:
                entry.unlink(missing_ok=True)
        return live


def _started(pid: int) -> str:
    """When process `pid` started ("" if it does not exist; "?" where /proc is missing but it lives)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ""
    except PermissionError:
        pass
    return "?"


def thread_allowance(spec: SandboxSpec, *, others: int = 0) -> ThreadAllowance:
    """The thread count for a kernel of a sandbox of `spec`; on this machine `others` Seer kernels or scope
    servers already run."""
    if spec.cpus is not None:
        return ThreadAllowance(max(1, math.floor(spec.cpus)), f"[sandbox] cpus = {spec.cpus:g}")
    if spec.provider in ("modal", "ray"):
        return ThreadAllowance(max(1, math.floor(spec.reserved_cpus)), f"the {spec.reserved_cpus:g} CPUs the sandbox reserves")
    if spec.provider != "local":
        return ThreadAllowance(None, "the Jupyter server's cores are not known here; set [sandbox] cpus to choose")
    host = os.environ.get("OMP_NUM_THREADS", "")
    if host.isdigit() and int(host) > 0:
        return ThreadAllowance(int(host), "OMP_NUM_THREADS set on the host")
    cores = usable_cores()
    return ThreadAllowance(
        max(1, cores // (others + 1)), f"{cores} usable cores, shared with {others} other Seer kernel(s) or scope server(s) running here"
    )
