"""A Jupyter server's HTTP API as the jupyter provider uses it: kernels over REST and one websocket each,
files over the contents API. Every request carries the token and is bounded in time."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx2
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from seer.errors import KernelDied, SandboxError
from seer.kernel import Handler

__all__ = ["JupyterServer", "RemoteKernelLink"]

_PROTOCOL_VERSION = "5.3"
_RUNNING = ("idle", "busy", "starting")
_PROBE_INTERVAL_S = 0.5
_IOPUB_PATIENCE_S = 5.0


class JupyterServer:
    """One Jupyter server, reached at `url` with `token`.

    Raises (from every method):
        SandboxError: The server is unreachable, refused the token, or answered with an error; the
            message names the server and the fix.
    """

    def __init__(self, url: str, token: str, *, timeout_s: float = 30.0) -> None:
        if not token:
            raise SandboxError(f"no token for the Jupyter server at {url}; a server without a token is open to anyone who reaches it")
        self.url = url.rstrip("/") + "/"
        self.token = token
        self._http = httpx2.AsyncClient(base_url=self.url, headers={"Authorization": f"token {token}"}, timeout=timeout_s)

    async def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> httpx2.Response:
        """`method` on `api/<path>`; an unexpected status is a SandboxError naming it."""
        try:
            reply = await self._http.request(method, f"api/{path}".rstrip("/"), **kwargs)
        except httpx2.HTTPError as exc:
            raise SandboxError(f"could not reach the Jupyter server at {self.url} ({type(exc).__name__}: {exc}); is it running, and is the URL right?") from None
        if reply.status_code in (401, 403):
            raise SandboxError(f"the Jupyter server at {self.url} refused the token (HTTP {reply.status_code}); pass the token it was started with (`jupyter server list` shows it)")
        if reply.status_code not in expect:
            detail = reply.text[:500]
            raise SandboxError(f"the Jupyter server at {self.url} answered {method} api/{path} with HTTP {reply.status_code}: {detail}")
        return reply

    async def version(self) -> str:
        """The server's version; also checks the URL and the token."""
        await self.request("GET", "status")
        return str((await self.request("GET", "")).json().get("version", "unknown"))

    # ---- contents ---------------------------------------------------------------------------------

    async def mkdir(self, path: str) -> None:
        """Make the folder `path` (relative to the server's root) and its parents."""
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            reply = await self.request("GET", f"contents/{quote(folder)}", params={"content": "0"}, expect=(200, 404))
            if reply.status_code == 404:
                await self.request("PUT", f"contents/{quote(folder)}", json={"type": "directory"}, expect=(200, 201))

    async def put(self, path: str, data: bytes) -> None:
        """Write the file `path`; its folder must exist."""
        body = {"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}
        await self.request("PUT", f"contents/{quote(path)}", json=body, expect=(200, 201))

    async def get(self, path: str) -> bytes:
        """Read the file `path`."""
        reply = await self.request("GET", f"contents/{quote(path)}", params={"type": "file", "format": "base64", "content": "1"}, expect=(200, 404))
        if reply.status_code == 404:
            raise SandboxError(f"no file {path!r} on the Jupyter server at {self.url}")
        model = reply.json()
        return base64.b64decode(model["content"]) if model["format"] == "base64" else model["content"].encode()

    # ---- kernels ----------------------------------------------------------------------------------

    async def start_kernel(self, path: str, name: str = "python3") -> str:
        """Start a kernel whose working folder is `path`; returns its id."""
        reply = await self.request("POST", "kernels", json={"name": name, "path": path}, expect=(201, 200))
        return str(reply.json()["id"])

    async def kernel_state(self, kernel_id: str) -> str:
        """`idle`, `busy`, `starting`, `restarting`, `dead`…, or `gone` when the server no longer has it."""
        reply = await self.request("GET", f"kernels/{kernel_id}", expect=(200, 404))
        return str(reply.json().get("execution_state", "unknown")) if reply.status_code == 200 else "gone"

    def channels_url(self, kernel_id: str) -> str:
        ws = "wss" if self.url.startswith("https") else "ws"
        return f"{ws}{self.url[self.url.index(':'):]}api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"

    async def close(self) -> None:
        await self._http.aclose()


class RemoteKernelLink:
    """A kernel on a Jupyter server: started, interrupted and restarted over REST, its messages over one
    websocket. The server restarts a kernel that dies on its own and says so on the websocket; that is
    how a death is noticed here."""

    pid: int | None = None

    def __init__(self, server: JupyterServer, path: str) -> None:
        self._server = server
        self._path = path
        self.kernel_id: str | None = None
        self._session = uuid.uuid4().hex
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._died = False

    async def start(self) -> None:
        self.kernel_id = await self._server.start_kernel(self._path)

    async def connect(self, on_iopub: Handler, on_shell: Handler, *, timeout_s: float) -> None:
        """Open the kernel's channels and return once both shell and iopub carry messages.

        A fresh websocket can answer on shell while its iopub subscription is not yet live (it happens right
        after a restart); a cell sent then would run but its outputs and end would never arrive. So the
        kernel is probed until an iopub message about a probe comes back, and the websocket is reopened if
        none does within a few seconds.
        """
        assert self.kernel_id is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            await self._open(deadline - loop.time())
            if await self._until_live(on_iopub, on_shell, min(_IOPUB_PATIENCE_S, deadline - loop.time())):
                return
            await self.disconnect()
            if loop.time() >= deadline:
                raise KernelDied(f"the kernel did not answer on both its channels within {timeout_s:g} s")

    async def _open(self, timeout_s: float) -> None:
        headers = {"Authorization": f"token {self._server.token}"}
        try:
            self._socket = await asyncio.wait_for(
                connect(self._server.channels_url(str(self.kernel_id)), additional_headers=headers, max_size=None),
                max(timeout_s, 0.1),
            )
        except (OSError, TimeoutError, InvalidStatus) as exc:
            raise KernelDied(f"could not open the kernel's channels on {self._server.url}: {exc}") from None
        _ack_at_once(self._socket)

    async def _until_live(self, on_iopub: Handler, on_shell: Handler, timeout_s: float) -> bool:
        """Probe with kernel_info requests until one is answered on shell and seen on iopub."""
        probes: set[str] = set()
        shell_live, iopub_live = asyncio.Event(), asyncio.Event()

        def iopub(msg: dict[str, Any]) -> None:
            if msg.get("parent_header", {}).get("msg_id") in probes:
                iopub_live.set()
            on_iopub(msg)

        def shell(msg: dict[str, Any]) -> None:
            if msg.get("parent_header", {}).get("msg_id") in probes:
                shell_live.set()
            on_shell(msg)

        self._died = False
        self._reader = asyncio.create_task(self._read(iopub, shell))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout_s, 0.1)):
                while not (shell_live.is_set() and iopub_live.is_set()):
                    probes.add(await self._send("shell", "kernel_info_request", {}))
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(_PROBE_INTERVAL_S):
                            await shell_live.wait()
                            await iopub_live.wait()
                return True
        return False

    async def _read(self, on_iopub: Handler, on_shell: Handler) -> None:
        assert self._socket is not None
        try:
            async for frame in self._socket:
                _ack_at_once(self._socket)
                msg = json.loads(frame)
                channel = msg.get("channel")
                if channel == "iopub":
                    if msg["msg_type"] == "status" and msg["content"].get("execution_state") in ("restarting", "dead"):
                        self._died = True  # the server's own notice: the kernel process is gone
                    on_iopub(msg)
                elif channel == "shell":
                    on_shell(msg)
        except ConnectionClosed:
            pass
        self._died = True  # the channel closed under us: treat the kernel as gone

    async def _send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        if self._socket is None:
            raise KernelDied("the kernel is not connected")
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self._session, "username": "seer",
                  "version": _PROTOCOL_VERSION, "date": datetime.now(UTC).isoformat()}  # fmt: skip
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": []}
        try:
            await self._socket.send(json.dumps(message))
        except ConnectionClosed:
            raise KernelDied("the kernel's channel closed") from None
        return msg_id

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
            self._socket = None

    async def execute(self, code: str, *, store_history: bool) -> str:
        content = {"code": code, "silent": False, "store_history": store_history, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}  # fmt: skip
        return await self._send("shell", "execute_request", content)

    async def interrupt(self) -> None:
        await self._server.request("POST", f"kernels/{self.kernel_id}/interrupt", expect=(204, 200))

    async def restart(self) -> None:
        if not self._died:
            await self._server.request("POST", f"kernels/{self.kernel_id}/restart", expect=(200,))
            return
        for _ in range(120):  # the server is restarting it already: wait for that (bounded, 60 s)
            state = await self._server.kernel_state(str(self.kernel_id))
            if state in _RUNNING:
                return
            if state in ("dead", "gone"):
                raise KernelDied(f"the Jupyter server at {self._server.url} could not bring the kernel back (state: {state})")
            await asyncio.sleep(0.5)
        raise KernelDied("the kernel did not come back within 60 s of dying")

    async def is_alive(self) -> bool:
        return not self._died

    async def exit_code(self) -> int | None:
        return None  # the server does not tell

    async def shutdown(self) -> None:
        await self.disconnect()
        if self.kernel_id is not None:
            with contextlib.suppress(SandboxError):
                await self._server.request("DELETE", f"kernels/{self.kernel_id}", expect=(204, 404))
            self.kernel_id = None


def _ack_at_once(connection: ClientConnection) -> None:
    """Acknowledge received data at once (Linux's TCP_QUICKACK, which the kernel clears, so it is set
    again after every frame). Jupyter servers send small websocket frames without TCP_NODELAY: with the
    usual delayed acknowledgement, every frame after the first of a burst waited ~40 ms for it."""
    sock = connection.transport.get_extra_info("socket")
    if sock is not None and hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
