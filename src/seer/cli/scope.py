"""`seer scope …`: scope servers that several sessions share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from seer.cli.options import fail, load_env
from seer.errors import SeerError

__all__ = ["app"]

app = typer.Typer(help="Scope servers shared by several sessions.", no_args_is_help=True)


@app.command("serve")
def serve(
    env: Annotated[Path, typer.Option("--env", help="Environment TOML whose scope section names the interface, and the models to load.")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder for the server's files, token and log.")] = Path(".seer-scope"),
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1; 0 takes any free one.")] = 0,
) -> None:
    """Serve an interface's @expose functions to many sessions; the models load once. Stop with Ctrl-C."""
    from seer.scope.shared import serve_shared

    try:
        anyio.run(lambda: serve_shared(load_env(env), folder, port=port, say=lambda line: typer.echo(line, err=True)))
    except SeerError as exc:
        raise fail(exc) from None
