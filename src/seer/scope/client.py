"""The harness side of a scoped session: start a scope server in a sandbox (or connect to a shared one)
and call it.

```python
server = await ScopeServer.start(sandbox, Path("interface.py"), models=[{"name": "target", "id": "seer:tiny-llama"}])
agent = await server.for_session("run-1")  # a token of its own, naming that session only
print(await agent.call("ask", {"prompt": "Hi"}))
```
`start` and `connect` hold the server's own token, which only the harness keeps; what reaches an agent
or a kernel is a session's token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from seer.errors import SandboxError, ToolError
from seer.sandbox.base import Sandbox, Service
from seer.scope.server import MAX_BODY_BYTES, check_timeout

__all__ = ["ScopeServer"]

_PACKAGE = Path(__file__).parent
_SHIPPED = ("__init__.py", "expose.py", "roles.py", "schema.py", "server.py")
"""The modules that run in the sandbox (the rest of this package is the harness's)."""


@dataclass
class ScopeServer:
    """A scope server reached over HTTP with a bearer token: the server's own, or a session's (see `for_session`)."""

    url: str
    token: str
    session: str | None = None
    """The session whose token this client holds; None: the server's own token (which calls as `default`)."""
    service: Service | None = field(default=None, repr=False)
    """Set when this process started the server (and so stops it)."""
    log: str | None = None
    transport: httpx2.AsyncBaseTransport | None = field(default=None, repr=False)
    """How requests reach the server when it is not on this machine's loopback (a remote sandbox's)."""
    _http: httpx2.AsyncClient | None = field(default=None, init=False, repr=False)

    @classmethod
    async def start(
        cls,
        sandbox: Sandbox,
        interface: Path,
        *,
        models: list[dict[str, Any]] | None = None,
        folder: str | None = None,
        port: int = 0,
        start_timeout_s: float = 600.0,
        call_timeout_s: float = 300.0,
        env: dict[str, str] | None = None,
    ) -> ScopeServer:
        """Ship the server and `interface` into the sandbox's private folder, start it, wait until it serves.

        Args:
            models: `load_model` arguments plus `name` for each model the server loads before the interface.
            folder: Where in the sandbox the server lives (default: `<private>/scope`).
            port: Port on 127.0.0.1; 0 takes any free one.
            call_timeout_s: Limit for one call; past it the caller gets a `CallTimeout` error.
            env: Variables added to the sandbox's base environment (thread counts).

        Raises:
            ValueError: A timeout is not a finite number of seconds above 0 (at most a week).
            SandboxError: The server exited during start-up (the message carries its log) or did not answer
                within `start_timeout_s`.
        """
        check_timeout(start_timeout_s, "start_timeout_s")
        check_timeout(call_timeout_s, "call_timeout_s")
        root = folder or f"{sandbox.private}/scope"
        for name in _SHIPPED:
            await sandbox.upload(_PACKAGE / name, f"{root}/libs/seer_scope/{name}")
        await sandbox.upload(_PACKAGE.parent / "interp", f"{root}/libs/seer_interp")
        await sandbox.upload(interface, f"{root}/interface.py")
        token = secrets.token_urlsafe(24)
        await sandbox.write_file(f"{root}/token", token.encode())
        await sandbox.write_file(f"{root}/port", b"")
        argv = [sandbox.python, "-m", "seer_scope.server", "--interface", f"{root}/interface.py", "--token-file",
                f"{root}/token", "--port-file", f"{root}/port", "--models", json.dumps(models or []), "--port", str(port),
                "--call-timeout-s", repr(float(call_timeout_s))]  # fmt: skip
        log = f"{root}/server.log"
        service = await sandbox.spawn(argv, env={**sandbox.base_env(), **(env or {}), "PYTHONPATH": f"{root}/libs"}, cwd=root, log=log)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + start_timeout_s
        while not (bound := (await sandbox.read_file(f"{root}/port")).strip()):
            if (code := await service.exit_code()) is not None:
                tail = (await sandbox.read_file(log)).decode(errors="replace")[-4000:]
                raise SandboxError(f"the scope server stopped during start-up (exit {code}):\n{tail}")
            if loop.time() > deadline:
                await service.stop()
                raise SandboxError(f"the scope server did not start within {start_timeout_s:g} s; its log: {log}")
            await asyncio.sleep(0.05)
        return cls(f"http://127.0.0.1:{bound.decode()}", token, service=service, log=log, transport=sandbox.service_transport())

    @classmethod
    def connect(cls, url: str, token_file: Path) -> ScopeServer:
        """A shared server someone else started (`seer scope serve`), with its own token from `token_file`."""
        return cls(url.rstrip("/"), token_file.read_text().strip())

    async def for_session(self, session: str) -> ScopeServer:
        """A client of the same server calling as `session`, with a fresh token that names that session
        and no other (asked for with this client's server token); closing it leaves the server running.

        Raises:
            ToolError: This client holds a session's token, or the server refused.
        """
        if self.session is not None:
            raise ToolError(f"this client holds session {self.session!r}'s token; only the server's own token opens sessions")
        opened = self._body(await self._request("POST", "/sessions", json={"session": session}))
        return dataclasses.replace(self, token=opened["token"], session=opened["session"], service=None)

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            headers = {"Authorization": f"Bearer {self.token}"}
            self._http = httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=None, transport=self.transport)
        return self._http

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        try:
            return await self._client().request(method, path, **kwargs)
        except httpx2.TransportError as exc:
            raise ToolError(f"the scope server at {self.url} is not answering ({type(exc).__name__}); it may have stopped") from None

    @staticmethod
    def _body(reply: httpx2.Response) -> Any:
        body = reply.json()
        if reply.status_code == 200:
            return body
        error = body["error"]
        trace = f"\n{error['traceback']}" if error.get("traceback") else ""
        raise ToolError(f"{error['type']}: {error['message']}{trace}")

    async def manifest(self) -> list[dict[str, Any]]:
        """The exposed functions: `name`, `description` and `input_schema` of each."""
        return self._body(await self._request("GET", "/manifest"))

    async def state(self) -> dict[str, Any]:
        """Models loaded (and how often), calls served and calls per session (this client's session only,
        unless it holds the server's token), the exposed functions and the server's version."""
        return self._body(await self._request("GET", "/state"))

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call an exposed function.

        Raises:
            ToolError: Bad arguments (or over 16 MiB of JSON), an unknown function, the function raised
                (message and remote traceback included, so the agent can act on it), it ran past the call
                limit, another call holds the models past it (`Busy`), or the server is gone.
        """
        try:
            body = json.dumps(arguments, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise ToolError(f"BadArguments: {name}: the arguments have no JSON form: {exc}") from None
        if len(body) > MAX_BODY_BYTES:
            raise ToolError(f"BadArguments: {name}: the arguments are {len(body)} bytes of JSON; "
                            f"the scope server takes at most {MAX_BODY_BYTES}")
        reply = await self._request("POST", f"/call/{name}", content=body, headers={"Content-Type": "application/json"})
        return self._body(reply)["result"]

    async def close(self) -> None:
        """Drop the connection, and stop the server if this process started it."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self.service is not None:
            await self.service.stop()
