"""Two sessions at once on this machine: kernels with Seer's thread allowance against torch's default.

    python bench/kernel_threads.py [--rounds 3] [--tokens 32] [--out bench/results/kernel_threads.json]

Each condition starts two local sessions together, each with the packaged SmolLM2-135M-Instruct loaded
in its kernel, and then, `--rounds` times, has both kernels generate one greedy `--tokens`-token reply
at the same moment; the figure is the median seconds a reply took, timed inside the kernel:

1. Allowance (Seer's default): each kernel's threads are this machine's cores divided among the
   sessions running on it (recorded in each run's `run.json`).
2. torch's default (the baseline): `OMP_NUM_THREADS` set to the machine's cores in both kernels, as
   torch does by itself when nothing is set.
3. One session alone, with the allowance (for reference: what a reply costs on a quiet machine).

Every kernel reports `torch.get_num_threads()`, so the table says what each condition really ran with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
from tool_latency import machine  # noqa: E402

from seer.environment import Environment  # noqa: E402
from seer.sandbox.threads import usable_cores  # noqa: E402
from seer.session import Session  # noqa: E402

REPLY = """import time, torch
from seer_interp import generate
_t = time.perf_counter()
generate(model, model_tokenizer, "Tell me a short story about a lighthouse.", max_new_tokens={tokens}, min_new_tokens={tokens})
print(torch.get_num_threads(), time.perf_counter() - _t)"""


async def condition(sessions: int, runs: Path, rounds: int, tokens: int, env: dict[str, str]) -> dict[str, Any]:
    """Median reply seconds with `sessions` sessions generating at once."""
    spec = Environment(name="threads", models=[{"id": "seer:smollm2-135m-instruct"}], env=env, timeouts={"cell_s": 600})
    opened = await asyncio.gather(*(Session.start(spec, runs_dir=runs) for _ in range(sessions)))
    try:
        warm = REPLY.format(tokens=2)
        await asyncio.gather(*(s.execute(warm) for s in opened))
        seconds, threads = [], set()
        for _ in range(rounds):
            cells = await asyncio.gather(*(s.execute(REPLY.format(tokens=tokens)) for s in opened))
            for cell in cells:
                assert cell.run.status == "ok", cell.render()[0]
                count, took = cell.render()[0].splitlines()[-1].split()
                threads.add(int(count))
                seconds.append(float(took))
        recorded = [s.run.read_record()["threads"] for s in opened]
    finally:
        await asyncio.gather(*(s.close() for s in opened))
    return {"sessions": sessions, "torch_threads": sorted(threads), "recorded": recorded,
            "reply_s": seconds, "median_s": statistics.median(seconds)}  # fmt: skip


async def measure(rounds: int, tokens: int) -> dict[str, Any]:
    cores = usable_cores()
    with tempfile.TemporaryDirectory(prefix="seer-bench-threads-") as folder:
        runs = Path(folder)
        allowance = await condition(2, runs, rounds, tokens, {})
        default = await condition(2, runs, rounds, tokens, {"OMP_NUM_THREADS": str(cores)})
        alone = await condition(1, runs, rounds, tokens, {})
    return {
        "benchmark": "kernel_threads",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine() | {"usable_cores": cores},
        "tokens": tokens,
        "rounds": rounds,
        "allowance": allowance,
        "torch_default": default,
        "alone": alone,
        "speedup": default["median_s"] / allowance["median_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "kernel_threads.json")
    args = parser.parse_args()
    report = asyncio.run(measure(args.rounds, args.tokens))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"kernel_threads · {report['date']} · {report['machine']['usable_cores']} usable cores · {args.tokens} tokens a reply")
    for name in ("allowance", "torch_default", "alone"):
        row = report[name]
        print(f"{name:>13}: {row['sessions']} session(s), torch threads {row['torch_threads']}, median reply {row['median_s']:.2f} s")
    print(f"two sessions at once: the allowance is {report['speedup']:.1f}x faster than torch's default")


if __name__ == "__main__":
    main()
