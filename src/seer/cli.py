"""`seer …`: the command line. Every command explains itself with `--help`."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer

from pydantic import ValidationError

from seer.agent import commands as agent_commands

from seer.environment import Environment, SandboxSpec
from seer.errors import SeerError

app = typer.Typer(
    name="seer",
    help="Seer: AI agents doing interpretability research in live notebooks, with complete run records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EnvOption = Annotated[
    Path | None, typer.Option("--env", help="Environment TOML file (models, files, skills, init code…).")
]
RunsOption = Annotated[Path, typer.Option("--runs-dir", help="Folder that receives one run directory per session.")]


def _load_env(path: Path | None) -> Environment:
    return Environment.from_toml(path) if path else Environment()


def _fail(exc: SeerError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg="red")
    return typer.Exit(2)


def _seer_command() -> list[str]:
    """How to start this same seer again from another program (Claude Code, Cursor)."""
    found = shutil.which("seer")
    return [found] if found else [sys.executable, "-m", "seer"]


def _client_config(args: list[str], url: str | None, token: str | None) -> str:
    if url:
        entry: dict[str, object] = {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}
    else:
        command = _seer_command()
        entry = {"command": command[0], "args": [*command[1:], *args]}
    return json.dumps({"mcpServers": {"seer": entry}}, indent=2)


@app.command()
def mcp(
    env: EnvOption = None,
    transport: Annotated[
        str, typer.Option(help="`stdio` (Claude Code and Cursor launch seer themselves) or `http`.")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP only: address to bind. Keep 127.0.0.1 unless you must.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP only: port; 0 picks a free one.")] = 8765,
    token: Annotated[
        str | None, typer.Option(envvar="SEER_MCP_TOKEN", help="HTTP only: bearer token; random if not given.")
    ] = None,
    runs_dir: RunsOption = Path("runs"),
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the JSON to add seer to Claude Code or Cursor, and exit.")
    ] = False,
) -> None:
    """Start a notebook session and serve its tools over MCP (stdio or streamable HTTP)."""
    if transport not in ("stdio", "http"):
        raise _fail(SeerError(f"--transport {transport!r} is not known; use `stdio` or `http`"))
    try:
        environment = _load_env(env)
    except SeerError as exc:
        raise _fail(exc) from None
    args = ["mcp", "--runs-dir", str(runs_dir.resolve())] + (["--env", str(env.resolve())] if env else [])
    if print_config:
        typer.echo(_client_config(args, None, None))
        return
    from seer.serve import serve_session

    if transport == "stdio" and sys.stdin.isatty():
        typer.echo(
            "seer mcp speaks MCP on stdin/stdout and is meant to be launched by an MCP client.\n"
            f"Add this to Claude Code (.mcp.json) or Cursor (~/.cursor/mcp.json):\n{_client_config(args, None, None)}",
            err=True,
        )
    token = token or secrets.token_urlsafe(24)
    try:
        anyio.run(serve_session, environment, runs_dir, transport, host, port, token)
    except SeerError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        pass


@app.command()
def demo(
    runs_dir: RunsOption = Path("runs"),
    llm: Annotated[bool, typer.Option("--llm", help="Let Claude investigate (needs ANTHROPIC_API_KEY).")] = False,
    plan: Annotated[Path | None, typer.Option("--plan", hidden=True, help="Replay this scripted plan instead of the baseline.")] = None,
) -> None:
    """Run the offline demo: find a fine-tuned model's hidden preference, then judge the report. Exits
    non-zero when the investigation failed (the judge's outcome is not `graded`)."""
    from seer.agent.commands import format_score
    from seer.demo import run_demo

    try:
        run_path, score = anyio.run(lambda: run_demo(runs_dir, llm=llm, echo=typer.echo, plan=plan))
    except SeerError as exc:
        raise _fail(exc) from None
    report = run_path / "report.md"
    typer.echo("\n=== Report ===\n" + (report.read_text() if report.exists() else "(no report)"))
    typer.echo("\n=== Judge ===\n" + format_score(score))
    typer.echo(f"\nRun directory: {run_path}\nNotebook:      {run_path / 'notebook.ipynb'}\nScore:         {run_path / 'score.json'}")
    if score["outcome"] != "graded":
        typer.echo(f"\nThe investigation FAILED ({score['outcome']}): {score.get('detail', '')}", err=True)
        raise typer.Exit(1)


@app.command()
def doctor(
    provider: Annotated[str | None, typer.Option("--provider", help="Also check a sandbox provider: jupyter, modal or ray (credentials, reachability).")] = None,
    env: EnvOption = None,
    url: Annotated[str | None, typer.Option("--url", help="jupyter: the server's URL (default: the environment's).")] = None,
    token_env: Annotated[str | None, typer.Option("--token-env", help="jupyter: the variable holding its token (default JUPYTER_TOKEN).")] = None,
    address: Annotated[str | None, typer.Option("--address", help="ray: the cluster's address (default: the environment's).")] = None,
) -> None:
    """Check the installation: kernel start, an MCP round trip, optional extras; with --provider, that
    sessions can reach that provider. Says what to fix, within seconds."""
    from seer.doctor import check_provider, run_checks

    if provider is None:
        raise typer.Exit(0 if anyio.run(run_checks, typer.echo) else 1)
    try:
        current = _load_env(env).sandbox
    except SeerError as exc:
        raise _fail(exc) from None
    fields = {
        "provider": provider,
        "url": (url or current.url) if provider == "jupyter" else None,
        "token_env": token_env or current.token_env,
        "address": address or current.address,
    }
    try:
        spec = SandboxSpec.model_validate(fields)
    except ValidationError as exc:
        raise _fail(SeerError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))) from None
    raise typer.Exit(0 if anyio.run(check_provider, spec, typer.echo) else 1)


@app.command()
def sandboxes(
    stop: Annotated[bool, typer.Option("--stop", help="Terminate every Modal sandbox Seer left running.")] = False,
    app_name: Annotated[str, typer.Option("--app", help="The Modal app Seer's sandboxes belong to.")] = "seer",
) -> None:
    """List the Modal sandboxes Seer started that are still running (a crash or a killed process can leave
    one, and a GPU bills until it stops); with --stop, terminate them."""
    from seer.sandbox.modal import doctor_modal, list_sandboxes, stop_sandboxes

    problems = anyio.run(doctor_modal, app_name)
    if problems:
        raise _fail(SeerError("; ".join(problems)))
    try:
        if stop:
            typer.echo(f"Stopped {anyio.run(stop_sandboxes, app_name)} sandbox(es).")
            return
        found = anyio.run(list_sandboxes, app_name)
    except SeerError as exc:
        raise _fail(exc) from None
    for box in found:
        typer.echo(f"{box['id']}  " + " ".join(f"{k}={v}" for k, v in sorted(box.get("tags", {}).items())))
    typer.echo(f"{len(found)} running; `seer sandboxes --stop` terminates them." if found else "No Seer sandboxes are running.")


@app.command()
def view(
    runs_dir: Annotated[Path, typer.Argument(help="The folder of run directories to watch.")] = Path("runs"),
    host: Annotated[str, typer.Option("--host", help="Interface to bind; beyond loopback the URL carries a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 takes any free one.")] = 8765,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", metavar="NAME", help="Another name the server answers to (a reverse proxy's); repeatable.")] = None,
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", metavar="DIR", help="A folder launches may use files from (default: the runs folder's parent); repeatable.")] = None,
) -> None:
    """Watch runs in the browser as they happen: the runs list, each notebook and transcript, live.

    Open the printed URL: it carries the server's secret, which launching, stopping and answering need."""
    from seer.web import stop_on_signal
    from seer.viewer.serve import serve_viewer

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stop_on_signal, tasks.cancel_scope)
            await serve_viewer(runs_dir, host=host, port=port, say=lambda line: typer.echo(line, err=True),
                               allow_hosts=tuple(allow_host or ()), allow_paths=tuple(allow_path or ()))  # fmt: skip

    anyio.run(main)


scope_app = typer.Typer(help="Scope servers shared by several sessions.", no_args_is_help=True)
app.add_typer(scope_app, name="scope")


@scope_app.command("serve")
def scope_serve(
    env: Annotated[Path, typer.Option("--env", help="Environment TOML whose scope section names the interface, and the models to load.")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder for the server's files, token and log.")] = Path(".seer-scope"),
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1; 0 takes any free one.")] = 0,
) -> None:
    """Serve an interface's @expose functions to many sessions; the models load once. Stop with Ctrl-C."""
    from seer.scope.shared import serve_shared

    try:
        anyio.run(lambda: serve_shared(_load_env(env), folder, port=port, say=lambda line: typer.echo(line, err=True)))
    except SeerError as exc:
        raise _fail(exc) from None


app.command()(agent_commands.run)
app.command()(agent_commands.chat)
app.command()(agent_commands.resume)
app.command()(agent_commands.prompt)
app.command()(agent_commands.tasks)
app.command()(agent_commands.skills)
app.command()(agent_commands.judge)
