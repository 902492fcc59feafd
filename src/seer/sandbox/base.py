"""The Sandbox protocol: where code runs. One provider per file; `local` is the default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

from seer.kernel import Kernel
from seer.sandbox.isolation import Confinement

if TYPE_CHECKING:
    from seer.environment import Environment, SandboxSpec

__all__ = ["ExecResult", "Sandbox", "SandboxPlugin", "Service"]


@dataclass(frozen=True)
class ExecResult:
    """What a shell command did."""

    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False


class Service(Protocol):
    """A long-running process a sandbox started."""

    pid: int

    async def exit_code(self) -> int | None:
        """None while it runs."""
        ...

    async def stop(self) -> None:
        """Stop it (and its children); safe to call twice."""
        ...


class Sandbox(Protocol):
    """A place with a workspace folder, a shell and Jupyter kernels."""

    workspace: str
    """The workspace's path as the kernel sees it."""
    python: str
    """The interpreter kernels and set-up commands run with, as the sandbox sees it."""
    private: str
    """A folder for services (a scope server) that kernels must not see, as the sandbox sees it."""
    confinement: Confinement | None
    """Set before `start_kernel` to isolate kernels (a sandbox that cannot keeps it None)."""

    async def start(self) -> None:
        """Make the workspace ready."""
        ...

    async def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        """Run a command in the workspace and collect its output; a timeout kills it and its children."""
        ...

    async def read_file(self, path: str) -> bytes:
        """Read a file; relative paths are relative to the workspace."""
        ...

    async def write_file(self, path: str, data: bytes) -> None:
        """Write a file (parents created); relative paths are relative to the workspace."""
        ...

    async def upload(self, source: Path, dest: str) -> None:
        """Copy a host file or folder into the workspace at `dest`."""
        ...

    async def start_kernel(self, *, env: dict[str, str], start_timeout_s: float) -> Kernel:
        """Start a kernel in the workspace whose environment is the sandbox's base plus `env`."""
        ...

    def base_env(self) -> dict[str, str]:
        """The host variables every process the sandbox starts gets (none of them a credential)."""
        ...

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> Service:
        """Start a long-running process with `env` (on top of nothing but `base_env` here; on a remote
        machine, on top of that machine's own environment), writing its output to `log`."""
        ...

    def service_transport(self) -> httpx2.AsyncBaseTransport | None:
        """How the harness reaches a spawned process listening on the sandbox's 127.0.0.1 (None: directly)."""
        ...

    async def isolation_problem(self) -> str | None:
        """None if this sandbox can run kernels under bubblewrap (`confinement`), else why it cannot."""
        ...

    async def terminate(self) -> None:
        """Stop every kernel and process the sandbox started; safe to call twice."""
        ...


@dataclass(frozen=True)
class SandboxPlugin:
    """What a sandbox provider registers: a built-in one as `PROVIDER` in its module, another package under
    the `seer.sandbox_providers` entry-point group (see `seer.plugins`)."""

    make: Callable[[Environment, Path, str], Sandbox]
    """`(environment, run directory, run id)` → a new, unstarted sandbox for one run; `environment.sandbox`
    is an instance of `spec`."""
    spec: type[SandboxSpec]
    """The provider's `[sandbox]` settings: `SandboxSpec` plus its own fields, validated when the
    environment loads (an unknown field is an error that names the known ones)."""
    check: Callable[[Any], Awaitable[list[str]]] | None = None
    """For `seer doctor`: given a `spec`, what stops sessions from reaching the provider, within seconds
    (empty: nothing)."""
