"""Long-running processes on a Jupyter server's machine (a scope server beside the model) and the way
the harness reaches them: both through a kernel on that machine, since the server exposes nothing
else. A spawned process is a child of the spawning kernel; HTTP to the machine's 127.0.0.1 is relayed
by a kernel that makes the request there and prints the reply."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import httpx2

from seer.errors import SandboxError
from seer.kernel import Kernel

__all__ = ["KernelTransport", "RemoteService", "marked_output"]

_SPAWN = """\
import os as _os, subprocess as _subprocess
_seer_services = globals().setdefault("_seer_services", {{}})
with open({log!r}, "ab") as _sink:
    _p = _subprocess.Popen({argv!r}, cwd={cwd!r}, env={{**_os.environ, **{env!r}}}, stdin=_subprocess.DEVNULL,
                           stdout=_sink, stderr=_subprocess.STDOUT, start_new_session=True)
_seer_services[_p.pid] = _p
print({marker!r} + str(_p.pid))
"""
_POLL = "print({marker!r} + repr(_seer_services[{pid}].poll()))"
_STOP = """\
import os as _os, signal as _signal, subprocess as _subprocess
_p = _seer_services[{pid}]
if _p.poll() is None:
    try:
        _os.killpg(_p.pid, _signal.SIGTERM)
        _p.wait(5)
    except _subprocess.TimeoutExpired:
        _os.killpg(_p.pid, _signal.SIGKILL)
        _p.wait()
    except ProcessLookupError:
        pass
"""
_RELAY = """\
import base64 as _b64, json as _json, urllib.error as _ue, urllib.request as _ur
_request = _ur.Request({url!r}, data=_b64.b64decode({body!r}) or None, method={method!r}, headers={headers!r})
try:
    with _ur.urlopen(_request, timeout={timeout!r}) as _reply:
        _answer = [_reply.status, list(_reply.headers.items()), _b64.b64encode(_reply.read()).decode()]
except _ue.HTTPError as _error:
    _answer = [_error.code, list(_error.headers.items()), _b64.b64encode(_error.read()).decode()]
except (OSError, _ue.URLError) as _error:
    _answer = [None, [], str(_error)]
print({marker!r} + _json.dumps(_answer))
"""


def marked_output(outputs: list[dict[str, Any]], marker: str) -> str | None:
    """The text after `marker` on a line of a hidden cell's printed output, if it printed one."""
    text = "".join(o.get("text", "") for o in outputs)
    return next((line[len(marker) :] for line in text.splitlines() if line.startswith(marker)), None)


class RemoteService:
    """A process started by a kernel on the server's machine; stopped through that kernel."""

    def __init__(self, kernel: Kernel, pid: int) -> None:
        self._kernel = kernel
        self.pid = pid

    @classmethod
    async def spawn(cls, kernel: Kernel, argv: list[str], *, env: dict[str, str], cwd: str, log: str) -> RemoteService:
        """Start `argv` in its own process group, with the kernel's environment plus `env`, output to `log`.

        Raises:
            SandboxError: The process could not be started.
        """
        marker = f"seer-spawn-{secrets.token_hex(4)}:"
        run = await kernel.execute(_SPAWN.format(argv=argv, cwd=cwd, env=env, log=log, marker=marker), timeout_s=60, store_history=False)
        pid = marked_output(run.outputs, marker)
        if pid is None:
            raise SandboxError(f"could not start {argv[0]!r} on the Jupyter server: {run.outputs[-1:] or run.note}")
        return cls(kernel, int(pid))

    async def exit_code(self) -> int | None:
        marker = f"seer-poll-{secrets.token_hex(4)}:"
        run = await self._kernel.execute(_POLL.format(pid=self.pid, marker=marker), timeout_s=30, store_history=False)
        answer = marked_output(run.outputs, marker)
        return -1 if answer is None else (None if answer == "None" else int(answer))  # -1: its kernel lost it

    async def stop(self) -> None:
        await self._kernel.execute(_STOP.format(pid=self.pid), timeout_s=30, store_history=False)


class KernelTransport(httpx2.AsyncBaseTransport):
    """An httpx transport that makes each request from a kernel on the server's machine, so `127.0.0.1`
    in a URL is that machine's loopback. A failed connection there is an `httpx2.ConnectError` here."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        timeout = (request.extensions.get("timeout") or {}).get("read")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length", "accept-encoding")}
        marker = f"seer-relay-{secrets.token_hex(4)}:"
        code = _RELAY.format(url=str(request.url), body=base64.b64encode(body).decode(), method=request.method,
                             headers=headers, timeout=timeout, marker=marker)  # fmt: skip
        run = await self._kernel.execute(code, timeout_s=(timeout or 86_400) + 30, store_history=False)
        answer = marked_output(run.outputs, marker)
        if answer is None:
            raise httpx2.ConnectError(f"the relay kernel did not answer: {run.outputs[-1:] or run.note}", request=request)
        status, reply_headers, payload = json.loads(answer)
        if status is None:
            raise httpx2.ConnectError(f"{request.url.host}:{request.url.port} on the Jupyter server's machine: {payload}", request=request)
        return httpx2.Response(status, headers=reply_headers, content=base64.b64decode(payload), request=request)
