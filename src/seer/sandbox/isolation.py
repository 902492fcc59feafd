"""OS isolation of a kernel with bubblewrap: the kernel sees the system, its Python and its workspace,
and nothing else of this machine (no other processes, no home folder, no model caches, no run records).

Used where the agent must not reach what the harness holds, for example the scope server's weights and
identity in a notebook-plus-scope session. Where bubblewrap is missing or cannot create namespaces,
`probe` says why, and the session records the weaker guarantee instead of pretending.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from seer.errors import SandboxError

__all__ = ["GUARANTEE", "HOST_GUARANTEE", "Confinement", "confine", "decide", "host_confinement", "probe", "python_roots"]

log = logging.getLogger("seer")

GUARANTEE = (
    "bubblewrap: the kernel runs in its own PID, IPC and user namespaces with no capabilities; it sees "
    "the system folders, its Python read-only and its workspace, and not the scope server's files, "
    "environment, model cache or process"
)
"""What an isolated kernel is promised, as recorded in `run.json`."""
HOST_GUARANTEE = (
    "bubblewrap: the kernel runs in its own PID, IPC and user namespaces with no capabilities; it sees the "
    "system folders, its Python and the models it loads read-only, the workspace and the Hugging Face hub "
    "cache writable, and not the harness's process, environment, .env, run records or your home"
)
"""What a confined kernel of an ordinary session is promised, as recorded in `run.json`."""
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc")


def host_confinement(paths: list[str]) -> Confinement:
    """The confinement of an ordinary session's kernel: `paths` (model folders, the loader) readable, the
    Hugging Face hub cache writable at the place this machine keeps it, caches of torch and Seer readable.
    Never the Hugging Face home itself: its `token` file is a secret."""
    home = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface")
    hub = Path(os.environ.get("HF_HUB_CACHE") or home / "hub")
    with contextlib.suppress(OSError):
        hub.mkdir(parents=True, exist_ok=True)
    caches = [os.environ[name] for name in ("TORCH_HOME", "SEER_CACHE") if name in os.environ]
    readable = tuple(str(Path(p).resolve()) for p in [*paths, *caches] if Path(p).exists())
    env = [("HF_HUB_CACHE", str(hub))] + [(name, os.environ[name]) for name in ("TORCH_HOME", "SEER_CACHE") if name in os.environ]
    return Confinement(readable=readable, writable=(str(hub),) if hub.is_dir() else (), env=tuple(env))

@dataclass(frozen=True)
class Confinement:
    """How to confine a kernel.

    Args:
        hide: Paths the kernel must not see even where a readable folder contains them (a hidden model's
            package inside site-packages, say); each is covered by an empty folder.
    """

    hide: tuple[str, ...] = field(default_factory=tuple)
    readable: tuple[str, ...] = field(default_factory=tuple)
    """More host paths the kernel may read (a model's folder, the model loader)."""
    writable: tuple[str, ...] = field(default_factory=tuple)
    """More host paths the kernel may write (the Hugging Face hub cache, so downloads work)."""
    env: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """Variables set for the kernel (where those paths are)."""
    views: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)
    """Folders shown filtered: (folder, the entries the kernel sees); any other entry is not there at all,
    not even as a name (a blind kernel's site-packages without the harness or a model's wheel)."""
    mounts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(host folder, where the kernel sees it), read-only: a scrubbed model copy at a neutral path."""


async def decide(
    setting: str, field: str, problem: Callable[[], Awaitable[str | None]], guarantee: str, unconfined: str
) -> tuple[bool, dict[str, str]]:
    """Whether to confine a kernel under `setting` (`auto`, `required` or `off`, the value of `field`),
    given `problem` (the sandbox's `isolation_problem`); and what `run.json` records. An unconfined kernel
    is announced in the log, once per session start.

    Raises:
        SandboxError: `setting` is `required` and the kernel cannot be confined.
    """
    reason = f"{field} is 'off'" if setting == "off" else await problem()
    if reason is None:
        return True, {"kernel": "bubblewrap", "guarantee": guarantee}
    if setting == "required":
        raise SandboxError(f"{field} is 'required' but the kernel cannot be isolated: {reason}")
    log.warning("seer: the notebook kernel is NOT isolated (%s). %s", reason, unconfined)
    return False, {"kernel": "none", "guarantee": unconfined, "reason": reason}


@cache
def probe() -> str | None:
    """None if bubblewrap can isolate a process here, otherwise the reason it cannot."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    argv = [bwrap, "--unshare-pid", "--unshare-user", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if done.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {done.stderr.strip()[:300]}"
    return None


@cache
def python_roots(python: str) -> tuple[str, ...]:
    """The folders an interpreter needs to run: its prefix, base prefix and site-packages."""
    code = "import json, site, sys; print(json.dumps([sys.prefix, sys.base_prefix, *site.getsitepackages()]))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    roots = {str(Path(p).resolve()) for p in json.loads(out)}
    roots.add(str(Path(python).resolve().parent.parent))
    return tuple(sorted(p for p in roots if not any(p.startswith(q + "/") for q in roots)))


def confine(argv: list[str], *, python: str, workspace: str, readable: list[str], confinement: Confinement) -> list[str]:
    """`argv` wrapped so it runs confined: writable `workspace`, read-only `readable` and system folders."""
    args = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home",
            "--unsetenv", "JPY_PARENT_PID"]  # fmt: skip  (its parent is not visible: ipykernel would take that as orphaned)
    for path in _SYSTEM:
        args += ["--ro-bind-try", path, path]
    for path in python_roots(python):
        if not any(path == s or path.startswith(s + "/") for s in _SYSTEM):
            args += ["--ro-bind", path, path]
    for folder, entries in confinement.views:
        args += ["--tmpfs", folder]
        for entry in entries:
            args += ["--ro-bind", f"{folder}/{entry}", f"{folder}/{entry}"]
        args += ["--remount-ro", folder]
    for path in [*readable, *confinement.readable]:
        args += ["--ro-bind", path, path]
    for source, target in confinement.mounts:
        args += ["--ro-bind", source, target]
    for path in [workspace, *confinement.writable]:
        args += ["--bind", path, path]
    for device in sorted(glob.glob("/dev/nvidia*")):  # GPUs stay usable
        args += ["--dev-bind", device, device]
    for path in confinement.hide:
        if Path(path).exists():
            args += ["--tmpfs", path] if Path(path).is_dir() else ["--ro-bind", "/dev/null", path]
    return [*args, "--chdir", workspace, "--", *argv]
