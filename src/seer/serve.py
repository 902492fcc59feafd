"""Serve one notebook session over MCP: what `seer mcp` runs.

The server answers `initialize` at once while the session (run directory, workspace, kernel) starts
in the background; the first tool call waits for it. That keeps a client's cold start close to the
kernel's own start-up time. A scoped-only session (`scope.mode = "tools"`) is started first, since
its tools are the scope server's functions: the client gets those, `finish` and the skill tools.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from seer.environment import Environment
from seer.errors import SeerError
from seer.session import Session
from seer.tools.base import ToolContext
from seer.tools.mcp import bind, build_server, serve_http, serve_stdio
from seer.tools.notebook import notebook_tools
from seer.tools.scoped import scoped_session_tools
from seer.web import stop_on_signal

__all__ = ["serve_session"]

SCOPED_INSTRUCTIONS = (
    "Functions an experimenter exposed for studying a model; there is no code execution. Call them to "
    "investigate, and hand in your final report with finish."
)
INSTRUCTIONS = (
    "A live Jupyter notebook session for interpretability research. Run Python with execute_code; the "
    "kernel keeps state. Write notes with add_markdown, inspect the notebook with read_notebook, and hand "
    "in your final report with finish."
)


def _say(message: str) -> None:
    print(f"seer: {message}", file=sys.stderr, flush=True)


async def serve_session(env: Environment, runs_dir: Path, transport: str, host: str, port: int, token: str) -> None:
    """Start a session and serve the notebook tools until the client leaves or a signal arrives."""
    holder: dict[str, Session] = {}
    problem: list[SeerError] = []
    ready = anyio.Event()
    tools, instructions = notebook_tools, INSTRUCTIONS
    if env.scope is not None and env.scope.mode == "tools":
        holder["session"] = session = await Session.start(env, runs_dir=runs_dir)
        assert session.scope is not None
        tools = await scoped_session_tools(session.scope)
        instructions = SCOPED_INSTRUCTIONS

    async def start() -> None:
        if "session" in holder:
            ready.set()
            return
        try:
            with anyio.CancelScope(shield=True):  # a client that leaves early gets a run closed whole, not failed
                holder["session"] = await Session.start(env, runs_dir=runs_dir)
            _say(f"session ready: {holder['session'].run.notebook_path}")
        except Exception as exc:  # every start failure must reach the client as a result, not a dead pipe
            problem.append(exc if isinstance(exc, SeerError) else SeerError(f"unexpected error: {exc!r}"))
            _say(f"the session could not start: {problem[0]}")
        finally:
            ready.set()

    async def context() -> ToolContext:
        await ready.wait()
        if problem:
            raise problem[0]
        return ToolContext(holder["session"])

    server = build_server(tools, context, instructions=instructions)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(start)
            tasks.start_soon(stop_on_signal, tasks.cancel_scope)
            if transport == "http":
                sock = bind(host, port)
                url = f"http://{host}:{sock.getsockname()[1]}/mcp"
                _say(f"serving MCP at {url}")
                print(
                    f'{{"mcpServers": {{"seer": {{"type": "http", "url": "{url}", '
                    f'"headers": {{"Authorization": "Bearer {token}"}}}}}}}}',
                    flush=True,
                )
                await serve_http(server, token=token, sock=sock)
            else:
                await serve_stdio(server)
            tasks.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await ready.wait()
            if "session" in holder:
                await holder["session"].close()
