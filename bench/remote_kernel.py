"""What a cell costs through a Jupyter server (the jupyter provider, also under Ray and Modal), against a
kernel on this machine.

    python bench/remote_kernel.py [--calls 200] [--out bench/results/remote_kernel.json]

One invocation starts a `jupyter server` on 127.0.0.1 (a random token, a temporary root) and measures,
each `--calls` times after a warm-up, the round trip of `Kernel.execute("1")` (request sent → reply and
`idle` received):

1. Local kernel (the baseline): the local provider's kernel, over ZMQ.
2. Jupyter server: the jupyter provider's kernel, over the server's websocket.
3. Jupyter server without quick ACKs: the same with `jupyter_api._ack_at_once` made a no-op, to show
   what it saves (the server sends small frames without TCP_NODELAY; delayed ACKs held every frame
   after the first of a burst).

Percentiles are nearest-rank. The server and kernels are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
from tool_latency import machine, save_and_print, summary_ms  # noqa: E402

from seer.environment import Environment  # noqa: E402
from seer.kernel import Kernel  # noqa: E402
from seer.sandbox import jupyter_api  # noqa: E402
from seer.sandbox.jupyter import JupyterSandbox  # noqa: E402
from seer.sandbox.providers import make_sandbox  # noqa: E402
from tests.providers import start_jupyter_server  # noqa: E402 - the suite's loopback server with a token


async def round_trips(kernel: Kernel, calls: int) -> list[float]:
    await kernel.execute("1", timeout_s=30, store_history=False)
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        run = await kernel.execute("1", timeout_s=30, store_history=False)
        samples.append(time.perf_counter() - began)
        assert run.status == "ok"
    return samples


async def measure(calls: int, folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"calls": calls, "machine": machine()}
    local = make_sandbox(Environment(), folder / "local", "bench")
    await local.start()
    try:
        report["local"] = summary_ms(await round_trips(await local.start_kernel(env={}, start_timeout_s=60), calls))
    finally:
        await local.terminate()
    token = secrets.token_urlsafe(16)
    server, url = start_jupyter_server(folder / "root", token)
    try:
        for key in ("jupyter", "jupyter_no_quick_ack"):
            if key == "jupyter_no_quick_ack":
                jupyter_api._ack_at_once = lambda connection: None  # type: ignore[assignment]
            remote = JupyterSandbox(url, token, folder=f"seer/{key}")
            await remote.start()
            try:
                report[key] = summary_ms(await round_trips(await remote.start_kernel(env={}, start_timeout_s=60), calls))
            finally:
                await remote.terminate()
    finally:
        server.terminate()
        server.wait(10)
    for key in ("jupyter", "jupyter_no_quick_ack"):
        report[key]["ratio_to_local"] = round(report[key]["median_ms"] / report["local"]["median_ms"], 1)
    return report


def format_table(report: dict[str, Any]) -> str:
    rows = [("local kernel over ZMQ (baseline)", report["local"]), ("Jupyter server, websocket", report["jupyter"]),
            ("Jupyter server, websocket, no quick ACK", report["jupyter_no_quick_ack"])]  # fmt: skip
    lines = ["| `Kernel.execute(\"1\")` round trip | median | p95 | × baseline |", "|---|---|---|---|"]
    lines += [f"| {name} | {r['median_ms']:.2f} ms | {r['p95_ms']:.2f} ms | {r.get('ratio_to_local', 1.0)} |" for name, r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/results/remote_kernel.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(measure(args.calls, Path(folder)))
    save_and_print(args.out, report, format_table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
