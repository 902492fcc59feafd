"""What crossing into the scope server costs: a trivial exposed call, round trip, against calling the
same function in-process.

    python bench/scope_overhead.py [--calls 500] [--out bench/results/scope_overhead.json]
                                   [--jupyter-url URL --token-env VAR]

One invocation measures, each `--calls` times after a warm-up:

1. In-process (the baseline): the interface's `echo` function imported and called directly (timed in
   batches of 1000 calls, since one call is far below the clock's resolution).
2. Harness client: `ScopeServer.call("echo", ...)` from the harness (HTTP on loopback, one kept-alive
   connection, JSON both ways, the server's argument check and identity scrubbing).
3. Agent tool: the same call through the scoped `Toolset` (argument model, `ToolResult`), as the agent
   loop and MCP make it.
4. Notebook client: `scope.echo(...)` inside a notebook-plus-scope kernel, timed in the kernel (the
   generated module, urllib, a new connection per call), in a bubblewrap-confined kernel where the
   machine allows it.
5. Concurrency: 8 callers at once, `--calls` calls in all, for a `concurrent=True` function and for
   one that runs under the server's call lock; wall time per call.
6. With `--jupyter-url`: the harness client against a scope server started on that Jupyter server's
   machine (the jupyter provider), each request relayed by a kernel there; reported with its ratio to
   row 2.

Percentiles are nearest-rank. The scope server and kernels are stopped at the end; runs go to a
temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from tool_latency import machine, save_and_print, percentile, summary_ms  # noqa: E402

from seer.environment import Environment  # noqa: E402
from seer.session import Session  # noqa: E402
from seer.tools.base import ToolContext  # noqa: E402
from seer.tools.scoped import scoped_tools  # noqa: E402

INTERFACE = '''
from seer_scope import expose

@expose(concurrent=True)
def echo(text: str) -> str:
    """Return the text.

    Args:
        text: Anything.
    """
    return text

@expose
def echo_serial(text: str) -> str:
    """Return the text, under the server's call lock.

    Args:
        text: Anything.
    """
    return text
'''

IN_KERNEL = """
import json, time
samples = []
scope.echo(text="warm")
for i in range({calls}):
    began = time.perf_counter()
    assert scope.echo(text="ping") == "ping"
    samples.append(time.perf_counter() - began)
print(json.dumps(samples))
"""


def in_process(path: Path, calls: int) -> list[float]:
    sys.path.insert(0, str(Path(__file__).parents[1] / "src" / "seer"))  # so `seer_scope` resolves as in the server
    spec = importlib.util.spec_from_file_location("bench_interface", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["seer_scope"] = importlib.import_module("seer.scope")
    spec.loader.exec_module(module)
    samples = []
    for _ in range(calls):  # a call takes well under a microsecond: time batches of 1000, report per call
        began = time.perf_counter()
        for _ in range(1000):
            module.echo("ping")
        samples.append((time.perf_counter() - began) / 1000)
    return samples


async def timed_calls(call: Any, calls: int) -> list[float]:
    await call()
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - began)
    return samples


async def concurrent_wall(session: Session, name: str, calls: int, callers: int = 8) -> float:
    """Seconds per call with `callers` connections' worth of concurrent requests (one session's token)."""
    assert session.scope is not None
    clients = [dataclasses.replace(session.scope, service=None) for _ in range(callers)]

    async def worker(client: Any, n: int) -> None:
        for _ in range(n):
            assert await client.call(name, {"text": "x"}) == "x"

    began = time.perf_counter()
    await asyncio.gather(*(worker(c, calls // callers) for c in clients))
    wall = time.perf_counter() - began
    for client in clients:
        await client.close()
    return wall / (calls // callers * callers)


async def measure(calls: int, folder: Path, jupyter: dict[str, str] | None = None) -> dict[str, Any]:
    interface = folder / "interface.py"
    interface.write_text(INTERFACE)
    report: dict[str, Any] = {"calls": calls, "machine": machine()}
    per_call = in_process(interface, calls)
    report["in_process"] = {"n_batches": calls, "median_ms": percentile(per_call, 50) * 1000,
                            "p95_ms": percentile(per_call, 95) * 1000}  # fmt: skip
    tools_env = Environment(name="bench", scope={"interface": interface})
    async with Session.open(tools_env, runs_dir=folder / "runs") as session:
        assert session.scope is not None
        server = session.scope
        report["harness_client"] = summary_ms(await timed_calls(lambda: server.call("echo", {"text": "ping"}), calls))
        toolset = await scoped_tools(server)
        ctx = ToolContext(session)
        report["agent_tool"] = summary_ms(await timed_calls(lambda: toolset.call("echo", {"text": "ping"}, ctx), calls))
        report["concurrent_per_call_ms"] = round(1000 * await concurrent_wall(session, "echo", calls), 3)
        report["serial_lock_per_call_ms"] = round(1000 * await concurrent_wall(session, "echo_serial", calls), 3)
    notebook_env = Environment(name="bench-nb", scope={"interface": interface, "mode": "notebook"}, timeouts={"cell_s": 300})
    async with Session.open(notebook_env, runs_dir=folder / "runs") as session:
        cell = await session.execute(IN_KERNEL.format(calls=calls))
        text = cell.render()[0]
        if cell.run.status != "ok":
            raise RuntimeError(f"the in-kernel measurement failed:\n{text}")
        report["notebook_client"] = summary_ms(json.loads(text.strip().splitlines()[-1]))
        report["notebook_isolation"] = session.run.read_record()["isolation"]["kernel"]
    if jupyter is not None:
        remote_env = Environment(name="bench-remote", scope={"interface": interface}, sandbox={"provider": "jupyter", **jupyter})
        async with Session.open(remote_env, runs_dir=folder / "runs") as session:
            assert session.scope is not None
            remote = session.scope
            report["jupyter_relay"] = summary_ms(await timed_calls(lambda: remote.call("echo", {"text": "ping"}), calls))
        report["jupyter_relay"]["ratio_to_harness_client"] = round(report["jupyter_relay"]["median_ms"] / report["harness_client"]["median_ms"], 1)
    base = report["in_process"]["median_ms"]
    for key in ("harness_client", "agent_tool", "notebook_client"):
        report[key]["overhead_vs_in_process_ms"] = round(report[key]["median_ms"] - base, 3)
    return report


def format_table(report: dict[str, Any]) -> str:
    rows = [("in-process call (baseline)", report["in_process"]),
            ("harness client (ScopeServer.call)", report["harness_client"]),
            ("agent tool (scoped Toolset)", report["agent_tool"]),
            (f"notebook `scope.echo` ({report['notebook_isolation']} kernel)", report["notebook_client"])]  # fmt: skip
    lines = ["| path | median | p95 |", "|---|---|---|"]
    lines += [f"| {name} | {1000 * r['median_ms']:.3g} µs | {1000 * r['p95_ms']:.3g} µs |" for name, r in rows]
    lines.append(f"| 8 concurrent callers, `concurrent=True` | {1000 * report['concurrent_per_call_ms']:.1f} µs/call (wall) | |")
    lines.append(f"| 8 concurrent callers, under the call lock | {1000 * report['serial_lock_per_call_ms']:.1f} µs/call (wall) | |")
    if "jupyter_relay" in report:
        relay = report["jupyter_relay"]
        lines.append(f"| harness client, scope server on a Jupyter server (relay kernel) | {1000 * relay['median_ms']:.3g} µs "
                     f"({relay['ratio_to_harness_client']}× row 2) | {1000 * relay['p95_ms']:.3g} µs |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("bench/results/scope_overhead.json"))
    parser.add_argument("--jupyter-url", help="also measure a scope server on this Jupyter server (the jupyter provider)")
    parser.add_argument("--token-env", default="JUPYTER_TOKEN", help="the variable holding that server's token")
    args = parser.parse_args()
    jupyter = {"url": args.jupyter_url, "token_env": args.token_env} if args.jupyter_url else None
    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(measure(args.calls, Path(folder), jupyter))
    save_and_print(args.out, report, format_table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
