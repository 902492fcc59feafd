"""What blindness costs a session's start: a graded task's session, blind, against the same models seen.

    python bench/blind_start.py [--task hidden-preference] [--repeats 3] [--out bench/results/blind_start.json]

One invocation starts, `--repeats` times each and interleaved, three local sessions of the task's
environment (its first variant) and runs one cell in each:

1. **blind**: graded, its models hidden: filtered site-packages, scrubbed model copies under /models;
2. **confined**: the same models not hidden and not graded: bubblewrap, the packaged models mounted
   read-only as they are (the baseline);
3. **unconfined**: `sandbox.isolation = "off"`.

It reports the median wall time from `Session.start` to the end of the first cell (a forward pass of
each model), and the blind-to-confined ratio. The run folders are temporary.
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

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
from tool_latency import machine, save_and_print  # noqa: E402

from seer.environment import Environment  # noqa: E402
from seer.session import Session  # noqa: E402
from seer.task import find_task  # noqa: E402

FIRST_CELL = "import torch\nwith torch.inference_mode():\n    print([globals()[n](torch.tensor([[1, 2, 3]])).logits.shape for n in {names!r}])"


def variants(task_name: str) -> dict[str, tuple[Environment, bool]]:
    task = find_task(task_name)
    if task is None:
        raise SystemExit(f"no task {task_name!r}")
    env = task.environment_for(0 if task.variants else None)
    seen = env.model_dump(mode="json")
    seen["models"] = [{**m, "hidden": False} for m in seen["models"]]
    off = {**seen, "sandbox": {**seen.get("sandbox", {}), "isolation": "off"}}
    return {"blind": (env, True), "confined": (Environment.model_validate(seen), False), "unconfined": (Environment.model_validate(off), False)}


async def start_once(env: Environment, graded: bool, runs: Path) -> tuple[float, dict[str, Any]]:
    names = [m.name for m in env.models]
    began = time.perf_counter()
    async with Session.open(env, runs_dir=runs, graded=graded) as session:
        cell = await session.execute(FIRST_CELL.format(names=names))
        took = time.perf_counter() - began
        assert cell.run.status == "ok", cell.render()[0]
        return took, {"isolation": session.run.read_record()["isolation"]["kernel"], "blind": session.run.read_record().get("blind")}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="hidden-preference")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/blind_start.json"))
    args = parser.parse_args()
    kinds = variants(args.task)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    seen: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for kind, (env, graded) in kinds.items():
                took, seen[kind] = await start_once(env, graded, Path(folder))
                times[kind].append(round(took, 2))
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    report = {"task": args.task, "repeats": args.repeats, "seconds": times, "median_s": medians, "recorded": seen,
              "blind_over_confined": round(medians["blind"] / medians["confined"], 2), "machine": machine()}  # fmt: skip
    save_and_print(args.out, report, table)


def table(report: dict[str, Any]) -> str:
    rows = [f"| {kind} | {report['median_s'][kind]:.1f} s | {', '.join(map(str, report['seconds'][kind]))} |" for kind in report["median_s"]]
    return "\n".join(["| session | median start + first cell | runs |", "|---|---|---|", *rows,
                      f"\nblind / confined: {report['blind_over_confined']}×"])  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
