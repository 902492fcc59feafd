"""A print flood through a local session: what it costs the notebook, the harness's memory and the clock.

    python bench/output_flood.py [--mb 200] [--baseline-mb 2] [--repeats 3] [--out bench/results/output_flood.json]

One invocation starts a local session (limits at their defaults) and runs, `--repeats` times each, a
cell writing `--mb` lines of 1,000,000 characters to stdout, and the baseline, the same cell writing
`--baseline-mb` lines, measured in the same session. For each run:

1. wall time of `Session.execute` (request sent → outputs saved to the notebook);
2. the harness's peak RSS growth: the peak (VmHWM) is reset to the current RSS before the cell
   (`/proc/self/clear_refs`) and read after it;
3. what the cell adds to `notebook.ipynb` (its JSON), and the spill file's size;
4. the kernel's RSS growth.

Medians are reported, with the flood-to-baseline ratios. The run folder is temporary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
from tool_latency import machine, save_and_print  # noqa: E402

from seer.environment import Environment  # noqa: E402
from seer.session import Session  # noqa: E402

FLOOD = "import sys\nchunk = 'x' * 999_999 + '\\n'\nfor _ in range({lines}):\n    sys.stdout.write(chunk)"


def reset_peak() -> int:
    """Make this process's peak RSS its current RSS; returns that."""
    Path("/proc/self/clear_refs").write_text("5")
    return psutil.Process().memory_info().rss


def peak() -> int:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


async def one(session: Session, lines: int) -> dict[str, Any]:
    kernel = psutil.Process(session.kernel.pid)
    kernel_before = kernel.memory_info().rss
    before = reset_peak()
    began = time.perf_counter()
    cell = await session.execute(FLOOD.format(lines=lines))
    wall = time.perf_counter() - began
    assert cell.run.status == "ok", cell.render()[0][-2000:]
    spilled = cell.run.cap.files if cell.run.cap else []
    return {
        "wall_s": round(wall, 3),
        "harness_peak_growth_mib": round((peak() - before) / 2**20, 1),
        "cell_json_kib": round(len(json.dumps(session.notebook.cells[cell.index])) / 1024, 1),
        "spill_mb": round(sum((session.run.path / f).stat().st_size for f in spilled) / 1e6, 1),
        "kernel_growth_mib": round((kernel.memory_info().rss - kernel_before) / 2**20, 1),
    }


async def measure(mb: int, baseline_mb: int, repeats: int, folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"mb": mb, "baseline_mb": baseline_mb, "repeats": repeats, "machine": machine()}
    async with Session.open(Environment(name="flood", timeouts={"cell_s": 600}), runs_dir=folder) as session:
        await session.execute("1")
        for key, lines in (("baseline", baseline_mb), ("flood", mb)):
            runs = [await one(session, lines) for _ in range(repeats)]
            report[key] = {"runs": runs, **{k: statistics.median(r[k] for r in runs) for k in runs[0]}}
        report["notebook_mib"] = round(session.run.notebook_path.stat().st_size / 2**20, 2)
    report["ratio"] = {k: round(report["flood"][k] / report["baseline"][k], 1) if report["baseline"][k] else None
                       for k in ("wall_s", "harness_peak_growth_mib", "cell_json_kib")}  # fmt: skip
    return report


def format_table(report: dict[str, Any]) -> str:
    base, flood, ratio = report["baseline"], report["flood"], report["ratio"]
    rows = [
        ("wall time", "wall_s", "s"),
        ("harness peak RSS growth", "harness_peak_growth_mib", "MiB"),
        ("added to notebook.ipynb", "cell_json_kib", "KiB"),
        ("spill file", "spill_mb", "MB"),
        ("kernel RSS growth", "kernel_growth_mib", "MiB"),
    ]
    lines = [f"| median of {report['repeats']} | {report['mb']} MB flood | {report['baseline_mb']} MB (baseline) | ratio |", "|---|---|---|---|"]
    for name, key, unit in rows:
        lines.append(f"| {name} | {flood[key]} {unit} | {base[key]} {unit} | {ratio.get(key) or ''} |")
    lines.append(f"\nnotebook.ipynb after all {2 * report['repeats'] + 1} cells: {report['notebook_mib']} MiB")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--baseline-mb", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/output_flood.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(measure(args.mb, args.baseline_mb, args.repeats, Path(folder)))
    save_and_print(args.out, report, format_table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
