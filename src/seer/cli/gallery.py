"""`seer gallery`: the example gallery (`make examples`), scripted baselines run offline and rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seer.cli.options import fail
from seer.errors import SeerError

__all__ = ["gallery"]


def gallery(
    out: Annotated[Path, typer.Option("--out", help="Folder that receives the pages and the index README.md.")] = Path("docs/examples"),
    task: Annotated[list[str] | None, typer.Option("--task", metavar="NAME|PATH", help="A task with a baseline (a packaged name or a folder); repeatable. Default: every packaged task whose rubric has a `replication` table.")] = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Keep the run directories here (default: a temporary folder).")] = None,
) -> None:
    """Build the example gallery: run each task's scripted baseline offline (seed 0), judge it by its
    deterministic checks, and write one self-contained HTML page per task plus an index README.md. A run
    that fails is shown with its outcome, not left out."""
    from seer.gallery import build_gallery

    try:
        entries = build_gallery(out, task or None, runs_dir, echo=typer.echo)
    except SeerError as exc:
        raise fail(exc) from None
    if not entries:
        typer.echo("No packaged task has a `[replication]` table and a baseline yet; name tasks with --task.")
    not_graded = [e["task"] for e in entries if e["outcome"] != "graded"]
    if not_graded:
        typer.echo(f"Not graded (see their pages): {', '.join(not_graded)}", err=True)
    typer.echo(f"Written: {out / 'README.md'}")
