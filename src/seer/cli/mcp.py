"""`seer mcp`: a notebook session's tools served over MCP, and the JSON that adds seer to an MCP client."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from seer.cli.options import EnvOpt, SessionRunsOpt, SkillOpt, fail, load_env
from seer.errors import SeerError, SpecError
from seer.skills import Equipment
from seer.task import find_task, packaged_tasks

if TYPE_CHECKING:
    from seer.serve import Fixed

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
    task: Annotated[
        str | None, typer.Option("--task", metavar="NAME|FOLDER", help="Serve one session on a packaged task (`seer tasks`) or a task folder.")
    ] = None,
    skill: SkillOpt = None,
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
    """Serve notebook sessions over MCP (stdio or streamable HTTP).

    With --env or --task: one session, started as the server comes up. With neither: the client starts,
    attaches to and stops sessions itself (start_session, attach, stop_session; list_tasks shows what ships).
    """
    if transport not in ("stdio", "http"):
        raise fail(SeerError(f"--transport {transport!r} is not known; use `stdio` or `http`"))
    try:
        fixed = _fixed(env, task, skill or [])
    except SeerError as exc:
        raise fail(exc) from None
    args = ["mcp", "--runs-dir", str(runs_dir.resolve())] + (["--env", str(env.resolve())] if env else [])
    args += [a for flag, given in [("--task", task), *(("--skill", s) for s in skill or [])] if given
             for a in (flag, str(Path(given).resolve()) if Path(given).exists() else given)]  # fmt: skip
    if print_config:
        typer.echo(_client_config(args))
        return
    from seer.serve import Listen, serve

    if transport == "stdio" and sys.stdin.isatty():
        typer.echo(
            "seer mcp speaks MCP on stdin/stdout and is meant to be launched by an MCP client.\n"
            f"Add this to Claude Code (.mcp.json) or Cursor (~/.cursor/mcp.json):\n{_client_config(args)}",
            err=True,
        )
    listen = Listen(transport, host, port, token or secrets.token_urlsafe(24))
    try:
        anyio.run(serve, runs_dir, listen, fixed)
    except SeerError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        pass


def _fixed(env: Path | None, task: str | None, skills: list[str]) -> Fixed | None:
    """The one session `--env`/`--task` ask for (None: the hub mode); `--skill`s are added to it.

    Raises:
        SeerError: The task or environment cannot be read, or a skill is not there.
    """
    from seer.serve import Fixed

    if env is None and task is None:
        if skills:
            raise SpecError("--skill equips the session of --env or --task; without them, pass skills to start_session")
        return None
    found = find_task(task) if task is not None else None
    if task is not None and found is None:
        raise SpecError(f"--task {task!r} is not a packaged task or a task folder; the tasks are: {', '.join(packaged_tasks())}")
    environment = load_env(env) if env is not None else found.environment if found is not None else load_env(None)
    graded = found if found is not None and (found.path / "ground_truth.json").is_file() else None
    label = found.name if found is not None else environment.name
    return Fixed(Equipment(skills).apply(environment), found.agent_prompt if found else "", graded, label)
