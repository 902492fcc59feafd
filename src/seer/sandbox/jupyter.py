"""The jupyter sandbox: any running Jupyter server (a lab GPU box, a cluster node, a cloud notebook),
reached with its URL and token.

The run's folders live under `folder` in the server's root: `workspace/` (the kernels' working folder)
and `private/`. Files move through the contents API; kernels start, stop and restart over REST and
talk over one websocket each. Shell commands (package checks, pip) and long-running processes (a scope
server beside the model) run through a helper kernel the agent never sees, which also relays the
harness's HTTP requests to such a process on the machine's 127.0.0.1. The server cannot pass
environment variables to a kernel it starts, so each kernel runs a hidden prelude that sets them (and
its import path) after every start and restart.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
from pathlib import Path

import httpx2
from pydantic import Field, field_validator

from seer.environment import Environment, SandboxSpec
from seer.errors import SandboxError, SpecError
from seer.kernel import Kernel
from seer.sandbox.base import ExecResult, SandboxPlugin, Service
from seer.sandbox.jupyter_api import JupyterServer, RemoteKernelLink
from seer.sandbox.jupyter_services import KernelTransport, RemoteService, marked_output

__all__ = ["PROVIDER", "JupyterSandbox", "JupyterSpec"]

_SKIP = ("__pycache__", ".pyc")

_WRITE = """\
import base64 as _b64, pathlib as _pl
_pl.Path({path!r}).parent.mkdir(parents=True, exist_ok=True)
_pl.Path({path!r}).write_bytes(_b64.b64decode({data!r}))
"""
_READ = "import base64, sys; sys.stdout.write(base64.b64encode(open(sys.argv[1], 'rb').read()).decode())"

_EXEC = """\
import json as _json, os as _os, signal as _signal, subprocess as _subprocess
_p = _subprocess.Popen({argv!r}, cwd={cwd!r}, stdin=_subprocess.DEVNULL, stdout=_subprocess.PIPE,
                       stderr=_subprocess.PIPE, text=True, errors="replace", start_new_session=True)
try:
    _out, _err = _p.communicate(timeout={timeout!r})
    _result = [_p.returncode, _out, _err, False]
except _subprocess.TimeoutExpired:
    _os.killpg(_p.pid, _signal.SIGKILL)
    _out, _err = _p.communicate()
    _result = [-9, _out, _err, True]
print({marker!r} + _json.dumps(_result))
"""


class JupyterSpec(SandboxSpec):
    """`[sandbox] provider = "jupyter"`: any Jupyter server you can reach."""

    url: str = Field("", validate_default=True)
    """The server's URL, e.g. 'http://gpu-box:8888'."""
    token_env: str = Field("JUPYTER_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """The host variable holding the server's token (the token itself never goes in a file)."""

    @field_validator("url", mode="before")
    @classmethod
    def _a_url(cls, value: object) -> object:
        if not (isinstance(value, str) and re.match(r"^https?://", value)):
            raise ValueError("provider 'jupyter' needs `url`, the server's address, e.g. 'http://gpu-box:8888'")
        return value


class JupyterSandbox:
    """A sandbox on a Jupyter server.

    Args:
        url: The server's address, e.g. `http://gpu-box:8888`.
        token: The server's token (never empty).
        folder: Where the run's folders go, relative to the server's root (default: `seer/<random>`).
        request_timeout_s: The longest any one HTTP request may take.
    """

    confinement = None  # a remote server's kernels are as isolated as the server makes them

    def __init__(self, url: str, token: str, *, folder: str | None = None, request_timeout_s: float = 30.0) -> None:
        self.server = JupyterServer(url, token, timeout_s=request_timeout_s)
        self.folder = (folder or f"seer/{secrets.token_hex(6)}").strip("/")
        self.workspace = ""
        self.private = ""
        self.python = "python3"
        self.server_version = ""
        self._root = ""
        self._helper: Kernel | None = None
        self._kernels: list[Kernel] = []
        self._services: list[RemoteService] = []
        self._folders: set[str] = set()

    async def start(self) -> None:
        """Check the server and the token, make the run's folders, and learn the kernels' paths."""
        self.server_version = await self.server.version()
        for name in ("workspace", "private"):
            await self._mkdir(f"{self.folder}/{name}")
        self._helper = Kernel(RemoteKernelLink(self.server, f"{self.folder}/workspace"), start_timeout_s=60)
        await self._helper.start()
        run = await self._helper.execute("import json, os, sys\nprint(json.dumps([os.getcwd(), sys.executable]))", timeout_s=30)
        text = "".join(o.get("text", "") for o in run.outputs)
        if run.status != "ok":
            raise SandboxError(f"the Jupyter server at {self.server.url} could not run a kernel: {text or run.note}")
        self.workspace, self.python = json.loads(text)
        self.private = self.workspace.rsplit("/", 1)[0] + "/private"
        self._root = self.workspace.removesuffix(f"/{self.folder}/workspace")

    def _relative(self, path: str) -> str:
        """A sandbox path (absolute, or relative to the workspace) as a path under the server's root."""
        if not path.startswith("/"):
            return f"{self.folder}/workspace/{path}"
        if not path.startswith(self._root + "/"):
            raise SandboxError(f"{path!r} is outside the Jupyter server's root ({self._root}); its contents API cannot reach it")
        return path[len(self._root) + 1 :]

    async def _mkdir(self, folder: str) -> None:
        if folder and folder not in self._folders:
            await self.server.mkdir(folder)
            self._folders.add(folder)

    async def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        marker = f"seer-exec-{secrets.token_hex(4)}:"
        code = _EXEC.format(argv=argv, cwd=self.workspace, timeout=timeout_s, marker=marker)
        run = await self._started().execute(code, timeout_s=(timeout_s or 86_400) + 30, store_history=False)
        answer = marked_output(run.outputs, marker)
        if answer is None:
            text = "".join(o.get("text", "") for o in run.outputs)
            raise SandboxError(f"could not run {argv[0]!r} on the Jupyter server: {text[-2000:] or run.note}")
        code_, out, err, timed_out = json.loads(answer)
        return ExecResult(argv, code_, out, err, timed_out=timed_out)

    async def read_file(self, path: str) -> bytes:
        target = self._relative(path)
        if not _hidden(target):
            return await self.server.get(target)
        result = await self.exec([self.python, "-c", _READ, f"{self._root}/{target}"], timeout_s=60)
        if result.exit_code != 0:
            raise SandboxError(f"could not read {path!r} in the workspace: {result.stderr.strip()[-500:]}")
        return base64.b64decode(result.stdout)

    async def write_file(self, path: str, data: bytes) -> None:
        target = self._relative(path)
        if _hidden(target):  # the contents API refuses hidden paths unless the server allows them
            await self._write_through_kernel(f"{self._root}/{target}", data)
            return
        await self._mkdir(target.rpartition("/")[0])
        await self.server.put(target, data)

    async def _write_through_kernel(self, path: str, data: bytes) -> None:
        code = _WRITE.format(path=path, data=base64.b64encode(data).decode())
        run = await self._started().execute(code, timeout_s=120, store_history=False)
        if run.status != "ok":
            raise SandboxError(f"could not write {path!r} on the Jupyter server: {run.outputs[-1:] or run.note}")

    async def upload(self, source: Path, dest: str) -> None:
        if source.is_file():
            await self.write_file(dest, source.read_bytes())
            return
        await self._mkdir(self._relative(dest))
        for item in sorted(source.rglob("*")):
            if item.is_file() and not any(part in _SKIP or part.endswith(_SKIP[1]) for part in item.parts):
                await self.write_file(f"{dest}/{item.relative_to(source).as_posix()}", item.read_bytes())

    def base_env(self) -> dict[str, str]:
        """Nothing of the host's: a remote kernel has the server's own environment."""
        return {}

    async def start_kernel(self, *, env: dict[str, str], start_timeout_s: float) -> Kernel:
        kernel = await Kernel.launch(
            RemoteKernelLink(self.server, f"{self.folder}/workspace"),
            lambda exc: f"the kernel did not start on the Jupyter server at {self.server.url}: {exc}",
            start_timeout_s=start_timeout_s, prelude=_prelude(env),
        )  # fmt: skip
        self._kernels.append(kernel)
        return kernel

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> Service:
        """Start a long-running process (a scope server) on the server's machine, through the helper kernel."""
        service = await RemoteService.spawn(self._started(), argv, env=env, cwd=cwd, log=log)
        self._services.append(service)
        return service

    def service_transport(self) -> httpx2.AsyncBaseTransport:
        """HTTP to the server machine's 127.0.0.1 goes through the helper kernel."""
        return KernelTransport(self._started())

    async def isolation_problem(self) -> str | None:
        return "kernels on a Jupyter server are started by that server, which cannot run them under bubblewrap"

    def _started(self) -> Kernel:
        if self._helper is None:
            raise SandboxError("the jupyter sandbox is not started")
        return self._helper

    async def terminate(self) -> None:
        """Stop the processes and shut down every kernel this sandbox started (the files stay on the
        server); safe to call twice."""
        for service in self._services:
            with contextlib.suppress(Exception):  # the server may be gone; nothing more to stop
                await service.stop()
        self._services.clear()
        for kernel in [*self._kernels, *([self._helper] if self._helper else [])]:
            try:
                await kernel.shutdown()
            except Exception:  # noqa: BLE001 - the server may be gone; nothing more to stop
                pass
        self._kernels.clear()
        self._helper = None
        await self.server.close()


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


def _prelude(env: dict[str, str]) -> str:
    """Kernel code that sets `env` (PYTHONPATH entries also go on `sys.path`), leaving no names behind."""
    paths = [p for p in env.get("PYTHONPATH", "").split(":") if p]
    return (
        "import os as _os, sys as _sys\n"
        f"_os.environ.update({env!r})\n"
        f"_sys.path[:0] = [p for p in {paths!r} if p not in _sys.path]\n"
        "del _os, _sys\n"
    )


def _token(spec: JupyterSpec) -> str | None:
    return os.environ.get(spec.token_env) or None


def _make(env: Environment, run_path: Path, run_id: str) -> JupyterSandbox:
    spec = env.sandbox
    assert isinstance(spec, JupyterSpec)
    token = _token(spec)
    if token is None:
        raise SpecError(f"sandbox: the Jupyter server's token is read from ${spec.token_env}, which is not set; export it (or set `token_env`)")
    return JupyterSandbox(spec.url, token, folder=f"seer/{run_id}")


async def _check(spec: JupyterSpec) -> list[str]:
    token = _token(spec)
    if token is None:
        return [f"${spec.token_env} is not set: export the server's token (`jupyter server list` on that machine shows it)"]
    server = JupyterServer(spec.url, token, timeout_s=5)
    try:
        await server.version()
    except SandboxError as exc:
        return [str(exc)]
    finally:
        await server.close()
    return []


PROVIDER = SandboxPlugin(make=_make, spec=JupyterSpec, check=_check)
