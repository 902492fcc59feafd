"""Serve notebook sessions over MCP: what `seer mcp` runs.

With an environment or a task the server holds one session (the fixed mode): it answers `initialize` at
once while the session (run directory, workspace, kernel) starts in the background, and the first tool
call waits for it, which keeps a client's cold start close to the kernel's own start-up time. A
scoped-only session (`scope.mode = "tools"`) is started first, since its tools are the scope server's
functions. With neither, the server is a hub (`seer.hub`): the client starts and stops sessions itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from seer.environment import Environment
from seer.hub import Hub
from seer.prompt import system_prompt
from seer.task import Task
from seer.tools.mcp import bind, build_server, serve_http, serve_stdio
from seer.web import stop_on_signal

__all__ = ["Listen", "Fixed", "serve"]


@dataclass(frozen=True)
class Listen:
    """Where the server talks: `stdio`, or streamable HTTP on `host:port` behind `token`."""

    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    token: str = ""


@dataclass(frozen=True)
class Fixed:
    """The one session of the fixed mode: its environment, task text and (for a graded task) the task."""

    env: Environment
    task: str = ""
    graded: Task | None = None
    label: str = ""


def _say(message: str) -> None:
    print(f"seer: {message}", file=sys.stderr, flush=True)


async def serve(runs_dir: Path, listen: Listen, fixed: Fixed | None = None) -> None:
    """Serve until the client leaves or a signal arrives; every session is closed on the way out."""
    hub = Hub(runs_dir, fixed=fixed is not None)
    async with hub.running() as tasks:
        if fixed is not None:
            label = fixed.label or fixed.env.name
            if fixed.env.scope is not None and fixed.env.scope.mode == "tools":
                await hub.start_scoped(fixed.env, fixed.task, graded=fixed.graded, label=label)
            else:
                tasks.start_soon(_start_fixed, hub, fixed, label)
            hub.instructions = ("## Task\n" + fixed.task.strip() + "\n\n" if fixed.task.strip() else "") + system_prompt(
                fixed.env, style_guide=False, checkpoint=False, functions=[{"name": t.name, "description": t.description} for t in hub.scoped] if hub.scoped else None
            )
        server = build_server(hub)
        tasks.start_soon(stop_on_signal, tasks.cancel_scope)
        if listen.transport == "http":
            sock = bind(listen.host, listen.port)
            url = f"http://{listen.host}:{sock.getsockname()[1]}/mcp"
            _say(f"serving MCP at {url}")
            print(
                f'{{"mcpServers": {{"seer": {{"type": "http", "url": "{url}", '
                f'"headers": {{"Authorization": "Bearer {listen.token}"}}}}}}}}',
                flush=True,
            )
            await serve_http(server, token=listen.token, sock=sock)
        else:
            await serve_stdio(server)
        tasks.cancel_scope.cancel()


async def _start_fixed(hub: Hub, fixed: Fixed, label: str) -> None:
    held = await hub.start(fixed.env, fixed.task, graded=fixed.graded, label=label)
    if held.problem is not None:
        _say(f"the session could not start: {held.problem}")
    else:
        _say(f"session ready: {held.session.run.notebook_path}")
