"""Sandboxes that provision a machine, start a Jupyter server on it, and hand every call to a
`JupyterSandbox` driving that server (Modal, Ray)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx2

from seer.errors import SandboxError
from seer.kernel import Kernel
from seer.sandbox.base import ExecResult, Service

if TYPE_CHECKING:
    from seer.sandbox.jupyter import JupyterSandbox

__all__ = ["HostedJupyter"]


class HostedJupyter:
    """The Sandbox protocol, through `self.jupyter`; a subclass's `start` provisions the machine and sets
    it, its `terminate` ends both."""

    confinement = None  # a remote server's kernels are as isolated as the server makes them
    jupyter: JupyterSandbox | None = None
    """The jupyter sandbox that drives the server, once started."""

    def _started(self) -> JupyterSandbox:
        if self.jupyter is None:
            raise SandboxError(f"the {type(self).__name__} is not started; call `await sandbox.start()` first")
        return self.jupyter

    @property
    def workspace(self) -> str:
        return self._started().workspace

    @property
    def python(self) -> str:
        return self._started().python

    @property
    def private(self) -> str:
        return self._started().private

    async def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        return await self._started().exec(argv, timeout_s=timeout_s)

    async def read_file(self, path: str) -> bytes:
        return await self._started().read_file(path)

    async def write_file(self, path: str, data: bytes) -> None:
        await self._started().write_file(path, data)

    async def upload(self, source: Path, dest: str) -> None:
        await self._started().upload(source, dest)

    async def start_kernel(self, *, env: dict[str, str], start_timeout_s: float) -> Kernel:
        return await self._started().start_kernel(env=env, start_timeout_s=start_timeout_s)

    def base_env(self) -> dict[str, str]:
        """Nothing of the host's: kernels have the remote machine's own environment."""
        return {}

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> Service:
        return await self._started().spawn(argv, env=env, cwd=cwd, log=log)

    def service_transport(self) -> httpx2.AsyncBaseTransport | None:
        return self._started().service_transport()

    async def isolation_problem(self) -> str | None:
        return await self._started().isolation_problem()
