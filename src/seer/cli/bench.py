"""`seer bench`: run a bench (tasks × agents × configurations × repeats), go on with one, or rebuild its
summary from the run directories."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from seer.cli.options import fail, load_dotenv
from seer.errors import SeerError

if TYPE_CHECKING:
    from seer.bench.runner import BenchProgress, BenchResult
    from seer.bench.spec import BenchSpec

__all__ = ["bench", "report", "run_with_display"]


@contextmanager
def _display() -> Iterator[tuple[Callable[[str], None], Callable[[BenchProgress], None] | None]]:
    """Where lines and progress go: on a terminal, a live bar (done of all, running, failed, spend) under
    the lines; otherwise plain lines (logs, pipes)."""
    if not sys.stdout.isatty():
        yield typer.echo, None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        task = bar.add_task("starting", total=None)

        def progress(now: BenchProgress) -> None:
            bar.update(task, completed=now.done, total=now.total,
                       description=f"running {now.running} · failed {now.failed} · spent ${now.spent_usd:.4f}")  # fmt: skip

        yield (lambda line: bar.console.print(line, markup=False, highlight=False)), progress


def bench(
    target: Annotated[Path, typer.Argument(help="A bench spec (.toml or .py), or a bench folder to go on with.", show_default=False)],
    bench_dir: Annotated[Path | None, typer.Option("--dir", help="The bench folder (default: benches/<name>).")] = None,
    report_only: Annotated[bool, typer.Option("--report-only", help="Only rebuild results.jsonl, summary.md, summary.csv and the plots from the run directories.")] = False,
) -> None:
    """Run every task × agent × configuration × repeat of a bench, judge each run as it ends, and write
    results.jsonl, summary.md, summary.csv and plots.

    Run it again on the same spec or folder to go on: finished runs are kept, cut-off ones run again.
    Ctrl-C stops the running runs cleanly (they run again next time); a second Ctrl-C quits at once.
    """
    from seer.bench import load_bench
    from seer.bench.runner import load_bench_dir, write_report

    load_dotenv()
    try:
        if target.is_dir():
            spec, root = load_bench_dir(target)
            bench_dir = bench_dir or target
        else:
            spec, root = load_bench(target), target.resolve().parent
            bench_dir = bench_dir or Path("benches") / spec.name
        if report_only:
            cells = spec.cells(spec.load_tasks(root, audits=bench_dir / "tasks"))
            typer.echo(f"Summary: {write_report(bench_dir, spec.name, len(cells))[1]}")
            return

        result = run_with_display(spec, bench_dir, root)
    except SeerError as exc:
        raise fail(exc) from None
    report(result, bench_dir)


def run_with_display(spec: BenchSpec, bench_dir: Path, root: Path) -> BenchResult | None:
    """Run the bench with a live display; Ctrl-C stops it cleanly, a second quits (None)."""
    from seer.bench import run_bench

    async def go() -> BenchResult | None:
        stop, result = anyio.Event(), None
        async with anyio.create_task_group() as group:

            async def ctrl_c() -> None:
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        if stop.is_set():
                            say("[quitting]")
                            group.cancel_scope.cancel()
                            return
                        say("[stopping: no more runs start, the running ones end; Ctrl-C again to quit at once]")
                        stop.set()

            group.start_soon(ctrl_c)
            result = await run_bench(spec, bench_dir, root=root, say=say, progress=progress, stop=stop)
            group.cancel_scope.cancel()
        return result

    with _display() as (say, progress):
        return anyio.run(go)


def report(result: BenchResult | None, bench_dir: Path) -> None:
    """Say where the summary is, and exit non-zero when the bench was cut short."""
    if result is None:  # a second Ctrl-C
        raise typer.Exit(130)
    typer.echo(f"Summary: {result.summary}")
    if result.stopped:
        typer.echo(f"Stopped: {result.stopped}; run `seer bench {bench_dir}` to go on")
        raise typer.Exit(130 if "request" in result.stopped else 3)
