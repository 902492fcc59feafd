"""The local sandbox: a workspace folder on this machine, subprocesses, and local kernels.

The kernel does not inherit the host environment: it gets a short list of harmless variables
(PATH, HOME, locale, caches…) plus what the session adds, so API keys and tokens stay out unless
the environment's secrets policy lets them in. With a `Confinement`, kernels also run under
bubblewrap and see only the system, their Python and the workspace (`seer.sandbox.isolation`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import IO, Literal

from seer.environment import Environment, SandboxSpec
from seer.errors import SandboxError
from seer.kernel import Kernel, LocalKernelLink
from seer.sandbox.base import ExecResult, SandboxPlugin, Service
from seer.sandbox.isolation import Confinement, confine, probe
from seer.sandbox.reap import TAG, kill_tagged, new_tag
from seer.sandbox.threads import SessionRegistry

__all__ = ["PASSTHROUGH", "PROVIDER", "LocalSandbox", "LocalSpec"]

PASSTHROUGH = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE", "XDG_CACHE_HOME", "TORCH_HOME", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "SEER_CACHE", "SSL_CERT_FILE", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
)  # fmt: skip
"""Host variables every kernel gets: none of them is a credential."""
_CACHES = ("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "TORCH_HOME", "SEER_CACHE", "HOME")
"""Variables naming host folders a confined kernel cannot see; it gets its own in a private /tmp."""


class LocalSpec(SandboxSpec):
    """`[sandbox] provider = "local"` (the default): this machine."""

    isolation: Literal["auto", "required", "off"] = "auto"
    """Confine the notebook kernel with bubblewrap (own PID namespace, no view of the harness, its
    environment, your home or `.env`; writable workspace only). `auto` confines wherever bubblewrap works
    and says once where it does not; `required` refuses to start without it. A scoped session follows
    `scope.isolation` instead."""


class LocalSandbox:
    """Runs everything on this machine, in `workspace`.

    Args:
        workspace: The working folder (created if missing).
        python: The interpreter for kernels and set-up commands; defaults to Seer's own.
        log_path: Where kernel processes write their own stdout and stderr.
        private: A folder for services the kernel must not see (default: `.private` beside the workspace).
        confinement: Run kernels under bubblewrap (check `isolation.probe()` first).
    """

    def __init__(
        self,
        workspace: Path,
        *,
        python: str | None = None,
        log_path: Path | None = None,
        private: Path | None = None,
        confinement: Confinement | None = None,
    ) -> None:
        self._root = workspace.resolve()
        self.workspace = str(self._root)
        self.private = str((private or self._root.parent / ".private").resolve())
        self.python = python or sys.executable
        self.confinement = confinement
        self._log_path = log_path or self._root / ".kernel.log"
        self._log: IO[bytes] | None = None
        self._kernels: list[Kernel] = []
        self._services: list[Service] = []
        self._registry = SessionRegistry()

    async def start(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        Path(self.private).mkdir(parents=True, exist_ok=True, mode=0o700)
        self._registry.join()

    def sessions_here(self) -> int:
        """Seer sessions running on this machine now, this one included (their kernels share its cores)."""
        return self._registry.count()

    def _path(self, path: str) -> Path:
        return self._root / path

    async def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self._root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise SandboxError(f"could not run {argv[0]!r}: {exc}") from None
        try:
            async with asyncio.timeout(timeout_s):
                out, err = await process.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            out, err = await process.communicate()
            return ExecResult(argv, -9, out.decode(errors="replace"), err.decode(errors="replace"), timed_out=True)
        return ExecResult(argv, process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))

    async def read_file(self, path: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(path).read_bytes)
        except OSError as exc:
            raise SandboxError(f"could not read {path!r} in the workspace: {exc.strerror}") from None

    async def write_file(self, path: str, data: bytes) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(target.write_bytes, data)

    async def upload(self, source: Path, dest: str) -> None:
        target = self._path(dest)
        if target.exists() and source.resolve() == target.resolve():
            return  # already in place (a resumed run's own copy)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            await asyncio.to_thread(shutil.copytree, source, target, dirs_exist_ok=True, ignore=ignore)
        else:
            await asyncio.to_thread(shutil.copy2, source, target)

    def base_env(self) -> dict[str, str]:
        """The host variables every kernel gets (see `PASSTHROUGH`)."""
        return {key: os.environ[key] for key in PASSTHROUGH if key in os.environ}

    async def start_kernel(self, *, env: dict[str, str], start_timeout_s: float) -> Kernel:
        if self._log is None:
            self._log = self._log_path.open("ab")
        argv = [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        base, connection_file = self.base_env(), None
        if self.confinement is not None:  # the connection file goes where only this kernel can read it
            folder = Path(self.private) / f"kernel-{len(self._kernels)}"
            folder.mkdir(parents=True, exist_ok=True)
            connection_file = str(folder / "connection.json")
            argv = confine(argv, python=self.python, workspace=self.workspace, readable=[str(folder)], confinement=self.confinement)
            base = {k: v for k, v in base.items() if k not in _CACHES} | {"HOME": "/tmp/home"} | dict(self.confinement.env)
        tag = new_tag()
        link = LocalKernelLink(
            argv,
            cwd=self.workspace,
            env={**base, **env, TAG: tag},
            reap=lambda: kill_tagged(tag),
            log=self._log,
            connection_file=connection_file,
            interrupt_mode="signal" if self.confinement is None else "message",
        )
        kernel = await Kernel.launch(link, lambda exc: f"the kernel did not start ({exc}); its log is {self._log_path}", start_timeout_s=start_timeout_s)
        self._kernels.append(kernel)
        return kernel

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> Service:
        """Start a long-running process (a scope server), unconfined, with exactly `env`; stopped by `terminate`."""
        with open(log, "ab") as sink:  # the child keeps its own copy of the descriptor
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=sink,
                    stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            except OSError as exc:
                raise SandboxError(f"could not run {argv[0]!r}: {exc}") from None
        service = _LocalService(process)
        self._services.append(service)
        return service

    def service_transport(self) -> None:
        """Processes here are on this machine's loopback: reached directly."""
        return None

    async def isolation_problem(self) -> str | None:
        return await asyncio.to_thread(probe)

    async def terminate(self) -> None:
        for service in self._services:
            await service.stop()
        self._services.clear()
        for kernel in self._kernels:
            with contextlib.suppress(Exception):
                await kernel.shutdown()
        self._kernels.clear()
        if self._log is not None:
            self._log.close()
            self._log = None
        self._registry.leave()


class _LocalService:
    """A process started by `LocalSandbox.spawn`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid

    async def exit_code(self) -> int | None:
        return self._process.returncode

    async def stop(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(5):
                    await self._process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                await self._process.wait()


def _make(env: Environment, run_path: Path, run_id: str) -> LocalSandbox:
    return LocalSandbox(run_path / "workspace", log_path=run_path / "kernel.log", private=run_path / "private")


PROVIDER = SandboxPlugin(make=_make, spec=LocalSpec)
