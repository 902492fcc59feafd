"""What `seer bench` itself costs: scheduling, judging and aggregation, against the runs' own time.

    python bench/bench_overhead.py [--runs 100] [--parallel 1] [--out bench/results/bench_overhead.json]

One invocation makes a tiny task (a deterministic answer check and a two-step scripted baseline) and a
bench of `--runs` repeats of it with the scripted agent, and runs it. It times every `run_agent` call
(session start to close: what a run costs without any bench) and every `judge_run`, and the whole bench
from the first line to its summary. The harness's overhead is the bench's wall time not spent inside a
run, with `--parallel 1` so the runs do not overlap; judging is part of it and is also shown alone.
Goal: under 2 % of the total. The folders are temporary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
os.environ.setdefault("OMP_NUM_THREADS", "1")
from tool_latency import machine, save_and_print  # noqa: E402

import seer.bench.runner as runner  # noqa: E402
from seer.bench import load_bench, run_bench  # noqa: E402

PLAN = [{"tool": "execute_code", "arguments": {"code": "print('te' + 'a')"}},
        {"tool": "finish", "arguments": {"report": "The word is tea (cell 0).", "answer": {"word": "tea"}}}]  # fmt: skip


def make_bench(root: Path, runs: int, parallel: int) -> Path:
    task = root / "word"
    task.mkdir()
    (task / "task.md").write_text("Find the word and hand it in as the answer.\n")
    (task / "rubric.toml").write_text('summary = "A word."\n[answer]\nword = { type = "string", description = "The word." }\n'
                                      '[[checks]]\nkind = "answer"\nfield = "word"\n')  # fmt: skip
    (task / "ground_truth.json").write_text(json.dumps({"variants": [{"name": "tea", "secret": "tea"}]}))
    (task / "env.toml").write_text('name = "word"\ntoolkit = false\n')
    (task / "baseline.json").write_text(json.dumps(PLAN))
    spec = root / "bench.toml"
    spec.write_text(f'name = "overhead"\ntasks = ["word"]\nrepeats = {runs}\nparallel = {parallel}\n'
                    '[budget]\nmax_turns = 5\n[[agents]]\nname = "baseline"\nprovider = "scripted"\n')  # fmt: skip
    return spec


def timed(function: Any, into: list[float]) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)

    return wrapper


async def measure(runs: int, parallel: int) -> dict[str, Any]:
    in_runs: list[float] = []
    in_judge: list[float] = []
    runner.run_agent = timed(runner.run_agent, in_runs)  # type: ignore[assignment]
    runner.judge_run = timed(runner.judge_run, in_judge)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        spec = load_bench(make_bench(root, runs, parallel))
        began = time.perf_counter()
        result = await run_bench(spec, root / "out", root=root, say=lambda line: None)
        total = time.perf_counter() - began
    solved = sum(bool(r["correct"]) for r in result.rows)
    outside = total - sum(in_runs) if parallel == 1 else None
    return {
        "runs": runs, "parallel": parallel, "solved": solved, "total_s": total, "run_s": in_runs, "judge_s": in_judge,
        "run_median_s": statistics.median(in_runs), "judge_median_s": statistics.median(in_judge),
        "overhead_s": outside, "overhead_fraction": None if outside is None else outside / total,
        "judge_fraction": sum(in_judge) / total,
    }  # fmt: skip


def table(report: dict[str, Any]) -> str:
    r = report["result"]
    share = "—" if r["overhead_fraction"] is None else f"{100 * r['overhead_fraction']:.2f} %"
    return (f"| measure | value |\n|---|---|\n| runs (scripted, one kernel each) | {r['runs']} ({r['solved']} solved), {r['parallel']} at a time |\n"
            f"| bench wall time | {r['total_s']:.1f} s |\n| median run (`run_agent`: session start to close) | {r['run_median_s']:.2f} s |\n"
            f"| median judging of a run | {1000 * r['judge_median_s']:.1f} ms |\n| judging, share of the total | {100 * r['judge_fraction']:.2f} % |\n"
            f"| **harness overhead** (total − time inside runs), share of the total | **{share}** (goal < 2 %) |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/results/bench_overhead.json"))
    args = parser.parse_args()
    result = asyncio.run(measure(args.runs, args.parallel))
    save_and_print(args.out, {"machine": machine(), "result": result}, table)


if __name__ == "__main__":
    main()
