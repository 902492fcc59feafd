"""The notebook tools over streamable HTTP on loopback: auth, two clients at once, answers during a long cell."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from seer.session import Session
from seer.tools.base import ToolContext
from seer.tools.mcp import ToolsApp, bind, build_server, serve_http
from seer.tools.notebook import notebook_tools
from tests.helpers import cell_text, http_seer_process, images_of, only_run, read_valid_notebook, text_of

pytestmark = pytest.mark.anyio

TOKEN = "test-token-123"


@asynccontextmanager
async def http_seer(session: Session) -> AsyncIterator[str]:
    """Serve `session`'s notebook tools on a free loopback port; yields the URL."""

    async def context() -> ToolContext:
        return ToolContext(session)

    sock = bind("127.0.0.1", 0)
    ready = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: serve_http(build_server(ToolsApp(notebook_tools, context)), token=TOKEN, sock=sock, ready=ready))
        with anyio.fail_after(10):
            await ready.wait()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        tasks.cancel_scope.cancel()


@asynccontextmanager
async def client_for(url: str, token: str = TOKEN) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


async def test_a_real_client_runs_code_over_http(session: Session) -> None:
    async with http_seer(session) as url, client_for(url) as client:
        with anyio.fail_after(30):
            await client.call_tool("execute_code", {"code": "y = 5"})
            result = await client.call_tool("execute_code", {"code": "print(y * 2)\ny + 1"})
            plot = await client.call_tool("execute_code", {"code": "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"})
            failed = await client.call_tool("execute_code", {"code": "undefined_name"})
    assert failed.is_error and "NameError: name 'undefined_name' is not defined" in text_of(failed)
    assert text_of(result).endswith("10\n6\n")
    assert images_of(plot)[0].startswith(b"\x89PNG")


async def test_requests_without_the_bearer_token_are_rejected(session: Session) -> None:
    async with http_seer(session) as url:
        async with httpx2.AsyncClient(timeout=10) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
            headers = {"Accept": "application/json, text/event-stream"}
            bare = await http.post(url, json=body, headers=headers)
            wrong = await http.post(url, json=body, headers={**headers, "Authorization": "Bearer nope"})
        assert bare.status_code == wrong.status_code == 401
        assert "Authorization: Bearer" in bare.json()["error"]
        async with client_for(url) as client:  # the server is still fine for the right token
            assert (await client.list_tools()).tools


async def test_two_clients_firing_overlapping_calls_each_get_their_own_outputs(session: Session) -> None:
    replies: dict[str, str] = {}

    async def fire(client: Client, who: str, i: int) -> None:
        code = f"import time, random\ntime.sleep(random.random() / 20)\nprint('{who}-{i}')"
        replies[f"{who}-{i}"] = text_of(await client.call_tool("execute_code", {"code": code}))

    async with http_seer(session) as url, client_for(url) as first, client_for(url) as second:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for i in range(15):
                    tasks.start_soon(fire, first, "alpha", i)
                    tasks.start_soon(fire, second, "beta", i)
    for marker, reply in replies.items():
        assert reply.endswith(f"{marker}\n"), (marker, reply)
    notebook = read_valid_notebook(session.run.notebook_path)
    assert len(notebook.cells) == 30
    for cell in notebook.cells:
        (marker,) = re.findall(r"print\('(\w+-\d+)'\)", cell.source)
        assert cell_text(cell) == f"{marker}\n"


async def test_read_notebook_and_interrupt_answer_while_a_long_cell_runs(session: Session) -> None:
    async with http_seer(session) as url, client_for(url) as runner, client_for(url) as watcher:
        async with anyio.create_task_group() as tasks:
            outcome: dict[str, str] = {}

            async def long_cell() -> None:
                code = "import time\nprint('working', flush=True)\ntime.sleep(60)"
                outcome["text"] = text_of(await runner.call_tool("execute_code", {"code": code}))

            tasks.start_soon(long_cell)
            with anyio.fail_after(15):
                while "working" not in text_of(await watcher.call_tool("read_notebook", {})):
                    await anyio.sleep(0.05)
                shown = text_of(await watcher.call_tool("read_notebook", {}))
                interrupted = text_of(await watcher.call_tool("interrupt_kernel", {}))
    assert "code · running" in shown
    assert interrupted.startswith("Interrupt sent")
    assert "interrupted" in outcome["text"] and "KeyboardInterrupt" in outcome["text"]


async def test_the_http_command_prints_its_config_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The hub over HTTP: a session started by the client is closed whole when the server is stopped."""
    async with http_seer_process(tmp_path) as (url, token), client_for(url, token) as client:
        with anyio.fail_after(30):
            started = await client.call_tool("start_session", {"environment": {"name": "http"}})
            assert not started.is_error, text_of(started)
            assert text_of(await client.call_tool("execute_code", {"code": "6 * 7"})).endswith("42\n")
    record = json.loads((only_run(tmp_path) / "run.json").read_text())
    assert record["status"] == "closed" and record["cells"] == 1
    assert not Path(f"/proc/{record['kernel_pid']}").exists()


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Server-sent events, each as its fields (`id`, `retry`, `data`)."""
    event: dict[str, str] = {}
    async for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        key, _, value = line.partition(":")
        event[key] = event.get(key, "") + value.removeprefix(" ")


async def test_a_dropped_stream_is_resumed_from_its_last_event_id(session: Session) -> None:
    """A client of protocol 2025-11-25 gets a priming event (an id, a retry hint, no data) first; after it
    drops the connection mid-call, a GET with `Last-Event-ID` brings the call's result."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "execute_code", "arguments": {"code": "import time\ntime.sleep(1)\nprint(6 * 7)"}}}  # fmt: skip
    async with http_seer(session) as url, httpx2.AsyncClient(headers=headers, timeout=30) as http:
        with anyio.fail_after(30):
            started = await http.post(url, json=init)
            headers = {"mcp-session-id": started.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
            await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
            async with http.stream("POST", url, json=call, headers=headers) as response:
                priming = await anext(_events(response.aiter_lines()))  # then the connection is dropped
            async with http.stream("GET", url, headers={**headers, "last-event-id": priming["id"]}) as resumed:
                async for event in _events(resumed.aiter_lines()):
                    message = json.loads(event["data"]) if event.get("data") else {}
                    if message.get("id") == 1:
                        break
    assert priming["id"] and priming["retry"] == "2000" and not priming.get("data")
    assert message["result"]["content"][0]["text"].endswith("42\n")
