"""Tool-call latency of `seer mcp` over stdio, measured against a bare Jupyter kernel on the same machine.

    python bench/tool_latency.py [--calls 200] [--out bench/results/tool_latency.json]

One invocation measures:

1. Bare kernel (the floor): `jupyter_client.manager.start_new_kernel`, then `1+1` executed `--calls`
   times (after one warm-up), each timed from sending the request to the kernel's `idle` status for
   it on iopub. Its cold start (launch → first `1+1` result) is taken three times.
2. Seer warm round trip: `execute_code("1+1")` through a `seer mcp` stdio server, `--calls` times
   after one warm-up, in one growing notebook.
3. Growth: the median of the first 20 of those calls against the median of the last 20.
4. Streaming: 50 flushed prints 20 ms apart, five times through seer and five through the bare kernel.
5. MCP floor: a tool that touches neither kernel nor notebook (`list_skills`), `--calls` times, to
   show how much of seer's round trip is the stdio transport itself.
6. Seer cold start: from launching the server process to the first `execute_code` result, three
   times, a fresh server each time.
7. The hub (`seer mcp` with no environment): `start_session` on an environment without models, then
   `execute_code("1+1")` `--calls` times, to show what choosing the session per call adds.

Items 2 to 6 serve one fixed session (`seer mcp --env`, an environment without models).

Percentiles are nearest-rank. Every wait is bounded. Every kernel and server is shut down at the end,
and a seer kernel still alive after its server has gone is killed and reported as leaked. The runs
go to a temporary folder that is deleted afterwards. The figures are printed as a table and written
as JSON (raw samples included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import anyio
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from seer.run import pid_alive

ONE_PLUS_ONE = "1+1"
STREAM_CODE = "import time\nfor i in range(50):\n    print(i, flush=True)\n    time.sleep(0.02)"
STREAM_LAST_LINE = "49"
STREAM_REPEATS = 5
COLD_REPEATS = 3
GROWTH_WINDOW = 20
CALL_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0
EXIT_GRACE_S = 10.0

GOAL_WARM_RATIO = 2.0
GOAL_COLD_S = 3.0
GOAL_GROWTH_RATIO = 1.2
GOAL_STREAM_RATIO = 1.2

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "tool_latency.json"


class BenchError(RuntimeError):
    """A measurement could not be taken: the kernel or server failed, answered wrongly, or hung."""


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups; task groups wrap what a client context raises."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank `p`-th percentile (0 < p ≤ 100)."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def summary_ms(samples_s: list[float]) -> dict[str, Any]:
    """Median, p95, min and max in milliseconds, plus the raw samples (ms, rounded to µs)."""
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "median_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "samples_ms": [round(x, 3) for x in ms],
    }


def _expect(got: str, wanted: str, what: str) -> None:
    """Check the last line of an output (IPython may print warnings before it, e.g. a full output cache)."""
    lines = got.strip().splitlines()
    if not lines or lines[-1].strip() != wanted:
        raise BenchError(f"{what}: expected {wanted!r} as the last line, got {got!r}")


# --- bare kernel -------------------------------------------------------------------------------------


@contextmanager
def bare_kernel() -> Iterator[BlockingKernelClient]:
    """A fresh kernel with a ready blocking client; the kernel is shut down on exit."""
    manager, client = start_new_kernel(
        startup_timeout=START_TIMEOUT_S, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def bare_execute(client: BlockingKernelClient, code: str) -> tuple[float, str]:
    """Run `code`; the seconds from sending it to its `idle` status, and the text it printed or returned."""
    deadline = time.monotonic() + CALL_TIMEOUT_S

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"bare kernel: no idle status within {CALL_TIMEOUT_S:g} s for {code!r}")
        return left

    started = time.perf_counter()
    msg_id = client.execute(code, allow_stdin=False)
    text: list[str] = []
    try:
        while True:
            msg = client.get_iopub_msg(timeout=remaining())
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind == "execute_result":
                text.append(content["data"].get("text/plain", "") + "\n")
            elif kind == "error":
                raise BenchError(f"bare kernel: {content.get('ename')}: {content.get('evalue')}")
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        elapsed = time.perf_counter() - started
        while client.get_shell_msg(timeout=remaining())["parent_header"].get("msg_id") != msg_id:
            pass  # drain this request's execute_reply (outside the timed span) so the shell queue stays empty
    except queue.Empty:
        raise BenchError(f"bare kernel: no message within {CALL_TIMEOUT_S:g} s for {code!r}") from None
    return elapsed, "".join(text)


def measure_bare(calls: int) -> dict[str, Any]:
    """Cold starts, warm `1+1` round trips and streaming through a bare kernel."""
    cold: list[float] = []
    for _ in range(COLD_REPEATS):
        started = time.perf_counter()
        with bare_kernel() as client:
            _, text = bare_execute(client, ONE_PLUS_ONE)
            cold.append(time.perf_counter() - started)
            _expect(text, "2", "bare kernel 1+1")
    with bare_kernel() as client:
        bare_execute(client, ONE_PLUS_ONE)
        warm = [bare_execute(client, ONE_PLUS_ONE)[0] for _ in range(calls)]
        stream: list[float] = []
        for _ in range(STREAM_REPEATS):
            elapsed, text = bare_execute(client, STREAM_CODE)
            _expect(text, STREAM_LAST_LINE, "bare kernel streaming")
            stream.append(elapsed)
    return {"cold_s": cold, "warm_s": warm, "stream_s": stream}


# --- seer over MCP stdio -----------------------------------------------------------------------------


@dataclass
class SeerServer:
    """Where one `seer mcp` server keeps its run and its stderr."""

    runs_dir: Path
    log_path: Path
    hub: bool = False
    """No environment: the client starts its session with `start_session`."""

    def params(self) -> StdioServerParameters:
        fixed: list[str] = []
        if not self.hub:
            env_file = self.runs_dir.parent / f"{self.runs_dir.name}.env.toml"
            env_file.write_text('name = "bench"\n')
            fixed = ["--env", str(env_file)]
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", "seer", "mcp", "--runs-dir", str(self.runs_dir), *fixed],
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def kernel_pid(self) -> int | None:
        """The kernel pid the session recorded in its `run.json`, if it got that far."""
        for record in self.runs_dir.glob("*/run.json"):
            pid = json.loads(record.read_text()).get("kernel_pid")
            if isinstance(pid, int):
                return pid
        return None


async def open_seer(stack: AsyncExitStack, server: SeerServer) -> Client:
    """Launch `seer mcp` and complete the MCP handshake; the server is stopped when `stack` closes.

    The handshake is bounded by the client's read timeout (a cancel scope cannot wrap entering the
    client, whose task groups outlive it); each tool call is bounded in `seer_execute`.
    """
    log: TextIO = stack.enter_context(server.log_path.open("w"))
    client = Client(stdio_client(server.params(), errlog=log), read_timeout_seconds=START_TIMEOUT_S)
    try:
        return await stack.enter_async_context(client)
    except Exception as exc:  # the client's task groups wrap the cause (an MCPError) in exception groups
        reasons = "; ".join(sorted({f"{type(leaf).__name__}: {leaf}" for leaf in _leaves(exc)}))
        raise BenchError(f"seer: the MCP handshake failed ({reasons})\n{server.log_tail()}") from None


async def seer_execute(client: Client, server: SeerServer, code: str) -> tuple[float, str]:
    """Call `execute_code`; the seconds the call took and the cell's output text (without its header)."""
    started = time.perf_counter()
    try:
        with anyio.fail_after(CALL_TIMEOUT_S):
            result = await client.call_tool("execute_code", {"code": code})
    except TimeoutError:
        raise BenchError(
            f"seer: execute_code({code!r}) did not answer within {CALL_TIMEOUT_S:g} s\n{server.log_tail()}"
        ) from None
    except MCPError as exc:
        raise BenchError(f"seer: execute_code({code!r}) failed: {exc}\n{server.log_tail()}") from None
    elapsed = time.perf_counter() - started
    block = result.content[0] if result.content else None
    text = block.text if isinstance(block, TextContent) else ""
    head, _, body = text.partition("\n")
    if result.is_error or " · ok · " not in head:
        raise BenchError(f"seer: execute_code({code!r}) failed: {text!r}\n{server.log_tail()}")
    return elapsed, body


async def seer_noop(client: Client) -> float:
    """Seconds for one `list_skills` call: the MCP round trip with no kernel or notebook work."""
    started = time.perf_counter()
    with anyio.fail_after(CALL_TIMEOUT_S):
        result = await client.call_tool("list_skills", {})
    if result.is_error:
        raise BenchError(f"seer: list_skills failed: {result.content!r}")
    return time.perf_counter() - started


async def warm_round_trips(client: Client, server: SeerServer, calls: int, label: str) -> list[float]:
    """One warm-up, then `calls` timed `1+1` round trips in one growing notebook."""
    await seer_execute(client, server, ONE_PLUS_ONE)
    warm: list[float] = []
    for _ in range(calls):
        elapsed, text = await seer_execute(client, server, ONE_PLUS_ONE)
        _expect(text, "2", label)
        warm.append(elapsed)
    return warm


async def measure_seer_warm(calls: int, server: SeerServer) -> dict[str, Any]:
    """Warm `1+1` round trips in one growing notebook, then streaming and the MCP floor, through one server."""
    async with AsyncExitStack() as stack:
        client = await open_seer(stack, server)
        warm = await warm_round_trips(client, server, calls, "seer 1+1")
        stream: list[float] = []
        for _ in range(STREAM_REPEATS):
            elapsed, text = await seer_execute(client, server, STREAM_CODE)
            _expect(text, STREAM_LAST_LINE, "seer streaming")
            stream.append(elapsed)
        noop = [await seer_noop(client) for _ in range(calls)]
    return {"warm_s": warm, "stream_s": stream, "noop_s": noop}


async def measure_seer_hub(calls: int, server: SeerServer) -> dict[str, Any]:
    """Through the hub: the seconds `start_session` took (no models), then warm `1+1` round trips."""
    async with AsyncExitStack() as stack:
        client = await open_seer(stack, server)
        started = time.perf_counter()
        with anyio.fail_after(START_TIMEOUT_S):
            result = await client.call_tool("start_session", {"environment": {"name": "bench"}})
        start_s = time.perf_counter() - started
        if result.is_error:
            raise BenchError(f"seer hub: start_session failed: {result.content!r}\n{server.log_tail()}")
        warm = await warm_round_trips(client, server, calls, "seer hub 1+1")
    return {"hub_warm_s": warm, "hub_start_s": start_s}


async def measure_seer_cold(server: SeerServer) -> float:
    """Seconds from launching a fresh server to its first `execute_code` result."""
    async with AsyncExitStack() as stack:
        started = time.perf_counter()
        client = await open_seer(stack, server)
        _, text = await seer_execute(client, server, ONE_PLUS_ONE)
        elapsed = time.perf_counter() - started
        _expect(text, "2", "seer cold 1+1")
    return elapsed


async def reap_kernel(server: SeerServer) -> int | None:
    """After a server has gone: wait for its kernel to exit; kill it if it does not. Returns a leaked pid."""
    pid = server.kernel_pid()
    if pid is None:
        return None
    with anyio.move_on_after(EXIT_GRACE_S):
        while pid_alive(pid):
            await anyio.sleep(0.05)
        return None
    os.kill(pid, signal.SIGKILL)
    return pid


async def measure_seer(calls: int, root: Path) -> dict[str, Any]:
    """All seer measurements, each server in its own runs folder under `root`."""
    servers: list[SeerServer] = []

    def fresh(name: str, hub: bool = False) -> SeerServer:
        server = SeerServer(root / name, root / f"{name}.stderr.log", hub)
        servers.append(server)
        return server

    leaked: list[int] = []
    try:
        found = await measure_seer_warm(calls, fresh("warm"))
        found["cold_s"] = [await measure_seer_cold(fresh(f"cold{i}")) for i in range(COLD_REPEATS)]
        found |= await measure_seer_hub(calls, fresh("hub", hub=True))
    finally:
        for server in servers:
            pid = await reap_kernel(server)
            if pid is not None:
                leaked.append(pid)
    found["leaked_kernel_pids"] = leaked
    return found


# --- report ------------------------------------------------------------------------------------------


def save_and_print(out: Path, report: dict[str, Any], table: Callable[[dict[str, Any]], str]) -> None:
    """Write `report` as JSON to `out` and print its table for bench/RESULTS.md."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(table(report))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu_model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    versions = {name: metadata.version(name) for name in ("seer-interp", "mcp", "jupyter_client", "ipykernel")}
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model or platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def build_report(calls: int, bare: dict[str, Any], seer: dict[str, Any]) -> dict[str, Any]:
    """Summaries, ratios and goals from the raw samples (seconds) of both sides."""
    warm_bare, warm_seer = summary_ms(bare["warm_s"]), summary_ms(seer["warm_s"])
    first = seer["warm_s"][:GROWTH_WINDOW]
    last = seer["warm_s"][-GROWTH_WINDOW:]
    growth_first, growth_last = summary_ms(first), summary_ms(last)
    stream_bare, stream_seer = summary_ms(bare["stream_s"]), summary_ms(seer["stream_s"])
    cold_seer, cold_bare = summary_ms(seer["cold_s"]), summary_ms(bare["cold_s"])
    warm_ratio = warm_seer["median_ms"] / warm_bare["median_ms"]
    warm_hub = summary_ms(seer["hub_warm_s"])
    growth_ratio = growth_last["median_ms"] / growth_first["median_ms"]
    stream_ratio = stream_seer["median_ms"] / stream_bare["median_ms"]
    return {
        "benchmark": "tool_latency",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "calls": calls,
        "bare": {"warm": warm_bare, "cold_start": cold_bare, "stream": stream_bare},
        "seer": {
            "warm": warm_seer,
            "cold_start": cold_seer,
            "growth": {
                "window": GROWTH_WINDOW,
                "first_calls": f"1-{GROWTH_WINDOW}",
                "last_calls": f"{calls - GROWTH_WINDOW + 1}-{calls}",
                "first": growth_first,
                "last": growth_last,
            },
            "stream": stream_seer,
            "mcp_noop": summary_ms(seer["noop_s"]),
            "hub": {"warm": warm_hub, "start_session_s": round(seer["hub_start_s"], 3)},
            "leaked_kernel_pids": seer["leaked_kernel_pids"],
        },
        "ratios": {
            "warm_median_seer_over_bare": round(warm_ratio, 3),
            "growth_last_over_first": round(growth_ratio, 3),
            "stream_median_seer_over_bare": round(stream_ratio, 3),
            "hub_warm_median_over_bare": round(warm_hub["median_ms"] / warm_bare["median_ms"], 3),
            "hub_warm_median_over_fixed": round(warm_hub["median_ms"] / warm_seer["median_ms"], 3),
        },
        "goals": {
            "warm_ratio_le_2": {"goal": GOAL_WARM_RATIO, "met": warm_ratio <= GOAL_WARM_RATIO},
            "cold_start_median_lt_3s": {"goal_s": GOAL_COLD_S, "met": cold_seer["median_ms"] < GOAL_COLD_S * 1000},
            "no_growth": {"goal_ratio_le": GOAL_GROWTH_RATIO, "met": growth_ratio <= GOAL_GROWTH_RATIO},
            "stream_ratio_le_1_2": {"goal": GOAL_STREAM_RATIO, "met": stream_ratio <= GOAL_STREAM_RATIO},
            "no_leaked_kernels": {"met": not seer["leaked_kernel_pids"]},
        },
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    bare, seer, ratios, goals = report["bare"], report["seer"], report["ratios"], report["goals"]
    growth = seer["growth"]

    def ok(goal: str) -> str:
        return "yes" if goals[goal]["met"] else "NO"

    def secs(summary: dict[str, Any]) -> str:
        return f"{summary['median_ms'] / 1000:.2f} s"

    noop = seer["mcp_noop"]["median_ms"]
    cold_each = ", ".join(f"{x / 1000:.2f}" for x in seer["cold_start"]["samples_ms"])
    rows = [
        ("measure", "seer", "bare kernel", "ratio", "goal", "met"),
        (
            f"warm 1+1 median (n={seer['warm']['n']})",
            f"{seer['warm']['median_ms']:.2f} ms",
            f"{bare['warm']['median_ms']:.2f} ms",
            f"{ratios['warm_median_seer_over_bare']:.2f}x",
            f"<= {GOAL_WARM_RATIO:g}x",
            ok("warm_ratio_le_2"),
        ),
        ("warm 1+1 p95", f"{seer['warm']['p95_ms']:.2f} ms", f"{bare['warm']['p95_ms']:.2f} ms", "", "", ""),
        (
            f"cold start median (n={seer['cold_start']['n']})",
            secs(seer["cold_start"]),
            secs(bare["cold_start"]),
            "",
            f"< {GOAL_COLD_S:g} s",
            ok("cold_start_median_lt_3s"),
        ),
        ("cold start each (s)", cold_each, "", "", "", ""),
        (
            f"growth: calls {growth['first_calls']} -> {growth['last_calls']}",
            f"{growth['first']['median_ms']:.2f} -> {growth['last']['median_ms']:.2f} ms",
            "",
            f"{ratios['growth_last_over_first']:.2f}x",
            f"<= {GOAL_GROWTH_RATIO:g}x",
            ok("no_growth"),
        ),
        (
            f"50 prints x 20 ms median (n={seer['stream']['n']})",
            secs(seer["stream"]),
            secs(bare["stream"]),
            f"{ratios['stream_median_seer_over_bare']:.2f}x",
            f"<= {GOAL_STREAM_RATIO:g}x",
            ok("stream_ratio_le_1_2"),
        ),
        (f"MCP floor: list_skills median (n={seer['mcp_noop']['n']})", f"{noop:.2f} ms", "", "", "", ""),
        (
            f"hub: warm 1+1 median (n={seer['hub']['warm']['n']})",
            f"{seer['hub']['warm']['median_ms']:.2f} ms",
            f"{bare['warm']['median_ms']:.2f} ms",
            f"{ratios['hub_warm_median_over_bare']:.2f}x ({ratios['hub_warm_median_over_fixed']:.2f}x fixed)",
            "",
            "",
        ),
        ("hub: start_session, no models", f"{seer['hub']['start_session_s']:.2f} s", "", "", "", ""),
        ("leaked seer kernels", str(len(seer["leaked_kernel_pids"])), "", "", "0", ok("no_leaked_kernels")),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    m = report["machine"]
    head = (
        f"tool_latency · {report['date']} · {m['cpu_count']} CPU {m['cpu_model']} · {m['platform']} "
        f"· Python {m['python']}"
    )
    return head + "\n\n" + "\n".join(lines)


def measure(calls: int) -> dict[str, Any]:
    """Take every measurement and return the report."""
    print(f"bare kernel: {COLD_REPEATS} cold starts, {calls} warm calls, {STREAM_REPEATS} streams…", flush=True)
    bare = measure_bare(calls)
    print(f"seer mcp: {calls} warm calls, {STREAM_REPEATS} streams, {COLD_REPEATS} cold starts…", flush=True)
    with tempfile.TemporaryDirectory(prefix="seer-bench-") as root:
        seer = anyio.run(measure_seer, calls, Path(root))
    return build_report(calls, bare, seer)


def main() -> int:
    parser = argparse.ArgumentParser(description="Tool-call latency of `seer mcp` against a bare Jupyter kernel.")
    parser.add_argument("--calls", type=int, default=200, help="timed 1+1 calls per series (at least 2x20)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON results")
    args = parser.parse_args()
    if args.calls < 2 * GROWTH_WINDOW:
        parser.error(f"--calls must be at least {2 * GROWTH_WINDOW} for the growth windows")
    report: dict[str, Any] | None = None
    try:
        report = measure(args.calls)
    except* BenchError as group:
        for leaf in _leaves(group):
            print(f"benchmark failed: {leaf}", file=sys.stderr)
    if report is None:
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + format_table(report) + f"\n\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
