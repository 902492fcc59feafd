"""`seer bench`: run a bench (tasks × agents × configurations × repeats), go on with one, or rebuild its
summary from the run directories."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from seer.cli.options import fail, load_dotenv
from seer.errors import SeerError

if TYPE_CHECKING:
    from seer.bench.runner import BenchResult

__all__ = ["bench"]


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
    from seer.bench import load_bench, read_rows, run_bench, write_summary
    from seer.bench.results import write_rows
    from seer.bench.runner import load_bench_dir

    load_dotenv()
    try:
        if target.is_dir():
            spec, root = load_bench_dir(target)
            bench_dir = bench_dir or target
        else:
            spec, root = load_bench(target), target.resolve().parent
            bench_dir = bench_dir or Path("benches") / spec.name
        if report_only:
            rows = read_rows(bench_dir)
            write_rows(bench_dir, rows)
            typer.echo(f"Summary: {write_summary(bench_dir, spec.name, rows, expected=len(spec.cells(spec.load_tasks(root))))}")
            return

        async def go() -> BenchResult | None:
            stop, result = anyio.Event(), None
            async with anyio.create_task_group() as group:

                async def ctrl_c() -> None:
                    with anyio.open_signal_receiver(signal.SIGINT) as signals:
                        async for _ in signals:
                            if stop.is_set():
                                typer.echo("\n[quitting]")
                                group.cancel_scope.cancel()
                                return
                            typer.echo("\n[stopping: no more runs start, the running ones end; Ctrl-C again to quit at once]")
                            stop.set()

                group.start_soon(ctrl_c)
                result = await run_bench(spec, bench_dir, root=root, say=typer.echo, stop=stop)
                group.cancel_scope.cancel()
            return result

        result = anyio.run(go)
    except SeerError as exc:
        raise fail(exc) from None
    if result is None:  # a second Ctrl-C
        raise typer.Exit(130)
    typer.echo(f"Summary: {result.summary}")
    if result.stopped:
        typer.echo(f"Stopped: {result.stopped}; run `seer bench {bench_dir}` to go on")
        raise typer.Exit(130 if "request" in result.stopped else 3)
