"""`seer view`: the live viewer, served from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

__all__ = ["view"]


def view(
    runs_dir: Annotated[Path, typer.Argument(help="The folder of run directories to watch.")] = Path("runs"),
    host: Annotated[str, typer.Option("--host", help="Interface to bind; beyond loopback the URL carries a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 takes any free one.")] = 8765,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", metavar="NAME", help="Another name the server answers to (a reverse proxy's); repeatable.")] = None,
    benches: Annotated[Path | None, typer.Option("--benches", help="The folder of bench folders (default: benches beside the runs folder).")] = None,
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", metavar="DIR", help="A folder launches may use files from (default: the runs folder's parent); repeatable.")] = None,
) -> None:
    """Watch runs in the browser as they happen: the runs list, each notebook and transcript, the benches'
    matrices, live.

    Open the printed URL: it carries the server's secret, which launching, stopping and answering need."""
    from seer.viewer.serve import serve_viewer
    from seer.web import stop_on_signal

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stop_on_signal, tasks.cancel_scope)
            await serve_viewer(runs_dir, host=host, port=port, say=lambda line: typer.echo(line, err=True),
                               allow_hosts=tuple(allow_host or ()), allow_paths=tuple(allow_path or ()), benches_dir=benches)  # fmt: skip

    anyio.run(main)
