"""The harness side of a scoped session: start the scope server in a workspace, call it, and turn its
manifest into a `Toolset` the agent gets instead of code execution."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from pydantic import ConfigDict, create_model

from seer.environment import ModelSpec
from seer.errors import SandboxError, ToolError
from seer.tools.base import Tool, ToolContext, ToolResult, Toolset

__all__ = ["ScopeServer", "scoped_tools", "start_scope_server"]

_PACKAGE = Path(__file__).parent


@dataclass
class ScopeServer:
    """A running scope server."""

    url: str
    token: str
    process: asyncio.subprocess.Process
    log: Path

    def _client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=600)

    async def _get(self, path: str) -> Any:
        async with self._client() as client:
            return (await client.get(path)).json()

    async def manifest(self) -> list[dict[str, Any]]:
        return await self._get("/manifest")

    async def state(self) -> dict[str, Any]:
        return await self._get("/state")

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call an exposed function.

        Raises:
            ToolError: Bad arguments, an unknown function, or the function raised (message and remote
                traceback included, so the agent can act on it).
        """
        async with self._client() as client:
            reply = await client.post(f"/call/{name}", json=arguments)
        body = reply.json()
        if reply.status_code == 200:
            return body["result"]
        error = body["error"]
        trace = f"\n{error['traceback']}" if error.get("traceback") else ""
        raise ToolError(f"{error['type']}: {error['message']}{trace}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def start_scope_server(
    workspace: Path,
    interface: Path,
    *,
    models: list[ModelSpec] | None = None,
    start_timeout_s: float = 120.0,
    python: str = sys.executable,
) -> ScopeServer:
    """Ship the scope server and the interface into `workspace/.scope`, start it, wait until it serves.

    Raises:
        SandboxError: The server exited during start-up (the message carries its log) or did not answer
            within `start_timeout_s`.
    """
    root = workspace / ".scope"
    for package, name in ((_PACKAGE, "seer_scope"), (_PACKAGE.parent / "interp", "seer_interp")):
        shutil.copytree(package, root / "libs" / name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "client.py"))
    shutil.copy2(interface, root / "interface.py")
    token = secrets.token_urlsafe(24)
    (root / "token").write_text(token)
    (root / "token").chmod(0o600)
    port_file = root / "port"
    port_file.unlink(missing_ok=True)
    specs = [
        {"name": m.name, "id": m.id, "dtype": m.dtype, "adapter": m.adapter, **({"hidden_name": m.name} if m.hidden else {})}
        for m in models or []
    ]
    log = root / "server.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            python, "-m", "seer_scope.server", "--interface", str(root / "interface.py"), "--token-file", str(root / "token"),
            "--port-file", str(port_file), "--models", json.dumps(specs),
            cwd=root, env={"PYTHONPATH": str(root / "libs"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
            stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    loop = asyncio.get_running_loop()
    deadline = loop.time() + start_timeout_s
    while not port_file.exists() or not port_file.read_text().strip():
        if process.returncode is not None:
            raise SandboxError(f"the scope server stopped during start-up (exit {process.returncode}):\n{log.read_text()[-4000:]}")
        if loop.time() > deadline:
            process.kill()
            raise SandboxError(f"the scope server did not start within {start_timeout_s:g} s; its log: {log}")
        await asyncio.sleep(0.05)
    return ScopeServer(f"http://127.0.0.1:{port_file.read_text().strip()}", token, process, log)


async def scoped_tools(server: ScopeServer, *, name: str = "scope") -> Toolset:
    """A toolset with one tool per exposed function; each call goes to the scope server."""
    tools = []
    for spec in await server.manifest():

        async def handler(ctx: ToolContext, _name: str = spec["name"], **arguments: Any) -> ToolResult:
            result = await server.call(_name, arguments)
            return ToolResult(result if isinstance(result, str) else json.dumps(result))

        permissive = create_model(f"{spec['name']}_arguments", __config__=ConfigDict(extra="allow"))
        tools.append(Tool(spec["name"], spec["description"], spec["input_schema"], permissive, handler))
    return Toolset(name, tools)
