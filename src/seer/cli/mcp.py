"""`seer mcp`: a notebook session's tools served over MCP, and the JSON that adds seer to an MCP client."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer

from seer.cli.options import EnvOpt, SessionRunsOpt, fail, load_env
from seer.errors import SeerError

__all__ = ["mcp"]


def _seer_command() -> list[str]:
    """How to start this same seer again from another program (Claude Code, Cursor)."""
    found = shutil.which("seer")
    return [found] if found else [sys.executable, "-m", "seer"]


def _client_config(args: list[str]) -> str:
    """The JSON that adds this seer, started with `args`, to Claude Code or Cursor."""
    command = _seer_command()
    return json.dumps({"mcpServers": {"seer": {"command": command[0], "args": [*command[1:], *args]}}}, indent=2)


def mcp(
    env: EnvOpt = None,
    transport: Annotated[
        str, typer.Option(help="`stdio` (Claude Code and Cursor launch seer themselves) or `http`.")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP only: address to bind. Keep 127.0.0.1 unless you must.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP only: port; 0 picks a free one.")] = 8765,
    token: Annotated[
        str | None, typer.Option(envvar="SEER_MCP_TOKEN", help="HTTP only: bearer token; random if not given.")
    ] = None,
    runs_dir: SessionRunsOpt = Path("runs"),
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the JSON to add seer to Claude Code or Cursor, and exit.")
    ] = False,
) -> None:
    """Start a notebook session and serve its tools over MCP (stdio or streamable HTTP)."""
    if transport not in ("stdio", "http"):
        raise fail(SeerError(f"--transport {transport!r} is not known; use `stdio` or `http`"))
    try:
        environment = load_env(env)
    except SeerError as exc:
        raise fail(exc) from None
    args = ["mcp", "--runs-dir", str(runs_dir.resolve())] + (["--env", str(env.resolve())] if env else [])
    if print_config:
        typer.echo(_client_config(args))
        return
    from seer.serve import serve_session

    if transport == "stdio" and sys.stdin.isatty():
        typer.echo(
            "seer mcp speaks MCP on stdin/stdout and is meant to be launched by an MCP client.\n"
            f"Add this to Claude Code (.mcp.json) or Cursor (~/.cursor/mcp.json):\n{_client_config(args)}",
            err=True,
        )
    token = token or secrets.token_urlsafe(24)
    try:
        anyio.run(serve_session, environment, runs_dir, transport, host, port, token)
    except SeerError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        pass
