"""`seer demo`: the offline demo, an investigation and its grade, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from seer.cli.judge import format_score
from seer.cli.options import SessionRunsOpt, fail
from seer.errors import SeerError

__all__ = ["demo"]


def demo(
    runs_dir: SessionRunsOpt = Path("runs"),
    llm: Annotated[bool, typer.Option("--llm", help="Let Claude investigate (needs ANTHROPIC_API_KEY).")] = False,
    plan: Annotated[Path | None, typer.Option("--plan", hidden=True, help="Replay this scripted plan instead of the baseline.")] = None,
) -> None:
    """Run the offline demo: find a fine-tuned model's hidden preference, then judge the report. Exits
    non-zero when the investigation failed (the judge's outcome is not `graded`)."""
    from seer.demo import run_demo

    try:
        run_path, score = anyio.run(lambda: run_demo(runs_dir, llm=llm, echo=typer.echo, plan=plan))
    except SeerError as exc:
        raise fail(exc) from None
    report = run_path / "report.md"
    typer.echo("\n=== Report ===\n" + (report.read_text() if report.exists() else "(no report)"))
    typer.echo("\n=== Judge ===\n" + format_score(score))
    typer.echo(f"\nRun directory: {run_path}\nNotebook:      {run_path / 'notebook.ipynb'}\nScore:         {run_path / 'score.json'}")
    if score["outcome"] != "graded":
        typer.echo(f"\nThe investigation FAILED ({score['outcome']}): {score.get('detail', '')}", err=True)
        raise typer.Exit(1)
