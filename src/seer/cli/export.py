"""`seer export inspect`: runs and benches as Inspect AI eval logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seer.cli.options import fail
from seer.errors import SeerError

__all__ = ["app"]

app = typer.Typer(name="export", help="Write runs and benches in other tools' formats.", no_args_is_help=True)


@app.command("inspect")
def inspect_logs(
    target: Annotated[Path, typer.Argument(help="A judged run folder, or a bench folder.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Where the logs go.")] = Path("inspect-logs"),
) -> None:
    """Write Inspect AI eval logs (one per task, agent and configuration; a run is one sample, a repeat one
    epoch) that `inspect view` opens. Hidden answers are never written. Needs `pip install 'seer-interp[inspect]'`."""
    from seer.bench.inspect_log import export_inspect

    try:
        written = export_inspect(target, out)
    except SeerError as exc:
        raise fail(exc) from None
    for path in written:
        typer.echo(f"Written: {path}")
