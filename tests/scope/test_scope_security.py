"""Attacks on a shared scope server, from one session against another and from anyone on loopback: a
session cannot name another (per-session tokens), tokens are checked before a body is read and bodies
are capped, a runaway call times out while other sessions are still answered, and timeouts must be
real numbers."""

import asyncio
import math
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx2
import pytest
from pydantic import ValidationError

from seer.environment import ScopeSpec
from seer.errors import ToolError
from seer.sandbox.local import LocalSandbox
from seer.scope.client import ScopeServer
from seer.scope.library import client_source
from seer.scope.server import MAX_BODY_BYTES, check_timeout
from seer.scope.setup import install_client

pytestmark = pytest.mark.anyio

INTERFACE = '''
import time
from seer_scope import expose, session_state, time_left

@expose
def remember(note: str) -> list[str]:
    """Keep a note for this session and return the session's notes so far.

    Args:
        note: Text to keep.
    """
    return session_state().setdefault("notes", []).append(note) or session_state()["notes"]

@expose
def spin(seconds: float) -> str:
    """Hold the models for a while, ignoring the limit (a runaway call).

    Args:
        seconds: How long.
    """
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    return "done"

@expose(concurrent=True)
def left() -> float:
    """Seconds left before this call's limit."""
    return time_left()
'''
Join = Callable[[str], Awaitable[ScopeServer]]
LIMIT_S = 8.0
"""The call limit of the test server: long enough for a busy machine to answer a short call within it."""


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    started = LocalSandbox(tmp_path / "ws")
    await started.start()
    try:
        yield started
    finally:
        await started.terminate()


@pytest.fixture
async def server(sandbox: LocalSandbox, tmp_path: Path) -> AsyncIterator[ScopeServer]:
    """A scope server with the test interface; this client holds the server's own token."""
    (tmp_path / "interface.py").write_text(INTERFACE)
    started = await ScopeServer.start(sandbox, tmp_path / "interface.py", call_timeout_s=LIMIT_S)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def join(server: ScopeServer) -> AsyncIterator[Join]:
    """Opens a session on the server (with the server's token, as a harness does); closed after the test."""
    opened: list[ScopeServer] = []

    async def open_session(name: str) -> ScopeServer:
        opened.append(await server.for_session(name))
        return opened[-1]

    yield open_session
    for client in opened:
        await client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_session_can_neither_read_nor_write_another_sessions_state(
    server: ScopeServer, join: Join, sandbox: LocalSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = await join("one"), await join("two")
    assert len({server.token, one.token, two.token}) == 3
    assert await one.call("remember", {"note": "a"}) == ["a"]
    assert await two.call("remember", {"note": "b"}) == ["b"]
    assert (await two.state())["sessions"] == {"two": 1}  # not even the other session's name
    async with httpx2.AsyncClient(base_url=server.url) as raw:
        forged = await raw.post("/call/remember", json={"note": "forged"}, headers={**bearer(two.token), "X-Seer-Session": "one"})
        assert forged.json() == {"result": ["b", "forged"]}  # the header changes nothing: the token names the session
        stolen = await raw.post("/sessions", json={"session": "one"}, headers=bearer(two.token))
        assert stolen.status_code == 403 and "only the server's own token" in stolen.json()["error"]["message"]
        assert (await raw.get("/state", headers=bearer(two.token + "x"))).status_code == 401
        assert (await raw.get("/state", headers={"Authorization": two.token})).status_code == 401  # no scheme
    with pytest.raises(ToolError, match="only the server's own token opens sessions"):
        await two.for_session("one")
    assert await one.call("remember", {"note": "c"}) == ["a", "c"]
    assert (await server.state())["sessions"] == {"one": 2, "two": 2}  # the harness sees all

    libs = tmp_path / "libs"
    with pytest.raises(ValueError, match="session's token"):
        await install_client(sandbox, server, str(libs))
    kernel_env = await install_client(sandbox, two, str(libs))
    assert kernel_env == {"SEER_SCOPE_URL": server.url, "SEER_SCOPE_TOKEN": two.token}
    for name, value in kernel_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEER_SCOPE_SESSION", "one")  # the old way of naming a session: ignored
    kernel: dict[str, object] = {}
    exec(compile(client_source(await two.manifest()), "scope.py", "exec"), kernel)  # noqa: S102 - our own generated code
    remember: Callable[[str], list[str]] = kernel["remember"]  # type: ignore[assignment]
    assert await asyncio.to_thread(remember, "from the kernel") == ["b", "forged", "from the kernel"]
    with pytest.raises(kernel["ScopeError"], match=f"takes at most {MAX_BODY_BYTES}"):  # type: ignore[arg-type]
        remember("x" * (MAX_BODY_BYTES + 1))


async def test_a_web_page_or_a_rebound_name_cannot_reach_the_scope_server(server: ScopeServer, join: Join) -> None:
    one = await join("one")
    port = server.url.rsplit(":", 1)[1]
    async with httpx2.AsyncClient(base_url=server.url, headers=bearer(one.token)) as raw:
        rebound = await raw.post("/call/remember", json={"note": "x"}, headers={"Host": f"attacker.example:{port}"})
        from_page = await raw.post("/call/remember", json={"note": "x"}, headers={"Origin": "http://127.0.0.1:9"})
        by_name = await raw.get("/state", headers={"Host": f"localhost:{port}"})
    assert rebound.status_code == 421 and "attacker.example" in rebound.json()["error"]["message"]
    assert from_page.status_code == 403 and "web pages are refused" in from_page.json()["error"]["message"]
    assert by_name.status_code == 200 and by_name.json()["sessions"] == {}  # neither refused call ran


def ask_without_body(port: int, token: str, length: int) -> bytes:
    """Send a POST's headers announcing `length` bytes but no body; the whole answer, read until the server
    closes (it would hang, and the read time out, if the server waited for the body)."""
    head = (f"POST /call/remember HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n")  # fmt: skip
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


async def test_tokens_are_checked_before_a_body_is_read_and_bodies_are_capped(server: ScopeServer, join: Join) -> None:
    one = await join("one")
    port = int(server.url.rsplit(":", 1)[1])
    refused = await asyncio.to_thread(ask_without_body, port, "wrong", MAX_BODY_BYTES + 1)
    assert refused.startswith(b"HTTP/1.1 401") and b"Connection: close" in refused
    too_big = await asyncio.to_thread(ask_without_body, port, one.token, MAX_BODY_BYTES + 1)
    assert too_big.startswith(b"HTTP/1.1 413") and f"reads at most {MAX_BODY_BYTES}".encode() in too_big
    with pytest.raises(ToolError, match=f"takes at most {MAX_BODY_BYTES}"):
        await one.call("remember", {"note": "x" * MAX_BODY_BYTES})
    async with httpx2.AsyncClient(base_url=server.url, headers=bearer(one.token)) as raw:
        nan = await raw.post("/call/remember", content=b'{"note": NaN}')
        assert nan.status_code == 400 and "NaN is not JSON" in nan.json()["error"]["message"]
    assert await one.call("remember", {"note": "still up"}) == ["still up"]


async def test_a_runaway_call_times_out_and_other_sessions_are_still_answered(server: ScopeServer, join: Join) -> None:
    one, two = await join("one"), await join("two")
    runaway = asyncio.create_task(one.call("spin", {"seconds": 600}))
    for _ in range(200):  # until the server has taken the call (bounded: 20 s)
        if (await server.state())["sessions"].get("one"):
            break
        await asyncio.sleep(0.1)
    left = await two.call("left", {})  # a concurrent function: answered while the runaway holds the models
    assert not runaway.done() and 0 < left <= LIMIT_S
    with pytest.raises(ToolError, match=f"CallTimeout: spin did not finish within the {LIMIT_S:g} s call limit; it runs on"):
        await runaway
    began = time.monotonic()
    with pytest.raises(ToolError, match=r"Busy: busy: another call has been running for \d+ s \(limit 8 s, past the limit"):
        await two.call("remember", {"note": "waits"})
    assert time.monotonic() - began < LIMIT_S  # fails at once rather than waiting out another limit
    assert 0 < await two.call("left", {}) <= LIMIT_S
    assert (await two.state())["sessions"] == {"two": 3}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e308, 0, -1.0, True])
async def test_timeouts_must_be_real_numbers_of_seconds(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ValueError, match="must be a number of seconds above 0"):
        check_timeout(bad, "call_timeout_s")
    (tmp_path / "interface.py").write_text(INTERFACE)
    sandbox = LocalSandbox(tmp_path / "ws")
    for field in ("start_timeout_s", "call_timeout_s"):
        with pytest.raises(ValueError, match=f"{field} must be a number of seconds"):
            await ScopeServer.start(sandbox, tmp_path / "interface.py", **{field: bad})
    if not isinstance(bad, bool):
        with pytest.raises(ValidationError, match="call_timeout_s"):
            ScopeSpec(interface=tmp_path / "interface.py", call_timeout_s=bad)


def test_the_server_refuses_a_call_limit_that_is_not_a_number_of_seconds(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    started = subprocess.run(
        [sys.executable, "-m", "seer.scope.server", "--interface", str(tmp_path / "none.py"), "--token-file",
         str(tmp_path / "token"), "--port-file", str(tmp_path / "port"), "--call-timeout-s", "nan"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert started.returncode == 2 and "--call-timeout-s must be a number of seconds" in started.stderr
