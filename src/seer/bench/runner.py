"""Run a bench: every cell an ordinary run directory under `BENCH/runs/`, judged as soon as it ends,
a few at a time, under the bench's total budget; stopping and resuming lose nothing.

A cell is done once its run has a `score.json`. Run again on the same folder, the bench judges runs
that ended but were not judged, re-runs the ones that were cut off (the bench stopped, or the process
was killed), and starts the rest. A total limit is never exceeded: a run starts only if its own limits
fit in what the bench has left, counting the runs still going at theirs.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import anyio

from seer.agent.budget import Budget
from seer.agent.providers import make_provider
from seer.agent.runner import run_agent
from seer.bench.results import FAILURES, read_rows, row_of, write_rows
from seer.bench.spec import AgentSpec, BenchSpec, Cell, ConfigSpec
from seer.bench.summary import write_summary
from seer.errors import SeerError
from seer.judge import judge_run, write_score
from seer.record.requests import request_stop, stop_request
from seer.record.run_record import read_run
from seer.run import RunDir, atomic_write, now_iso
from seer.session import Session
from seer.task import Task

__all__ = ["BENCH_FORMAT", "BENCH_STOP", "BenchProgress", "BenchResult", "load_bench_dir", "run_bench", "write_report"]

BENCH_FORMAT = "seer.bench/1"
BENCH_STOP = "the bench was stopped"
"""The stop detail of a run the bench cut off; such a run is run again when the bench resumes."""


@dataclass
class BenchResult:
    """How a bench invocation ended."""

    rows: list[dict[str, Any]]
    cells: int
    """How many runs the bench has in all."""
    stopped: str | None = None
    """Why runs were left undone (Ctrl-C, a total limit); None when every cell is done."""
    summary: Path | None = None


class BenchProgress(NamedTuple):
    """Where a bench stands, for a progress display."""

    done: int
    """Runs judged (this invocation's and earlier ones')."""
    total: int
    """Runs the bench has in all."""
    running: int
    failed: int
    """Judged runs whose outcome is a failure (`FAILURES`)."""
    spent_usd: float


@dataclass
class _Ledger:
    """What the bench has spent and holds in reserve for the runs going now."""

    spec: BenchSpec
    cost: float = 0.0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    reserved_cost: float = 0.0
    reserved_tokens: int = 0

    def refusal(self) -> str | None:
        """Why another run may not start now (a total limit it could exceed), or None."""
        total, run = self.spec.total, self.spec.budget
        if total.max_cost is not None and self.cost + self.reserved_cost + (run.max_cost or 0) > total.max_cost:
            return f"total.max_cost ${total.max_cost:g}: ${self.cost:.4f} spent, ${self.reserved_cost:g} held by running runs"
        if total.max_tokens is not None and self.tokens + self.reserved_tokens + (run.max_tokens or 0) > total.max_tokens:
            return f"total.max_tokens {total.max_tokens}: {self.tokens} used, {self.reserved_tokens} held by running runs"
        if total.max_wall is not None and time.monotonic() - self.started + (run.max_wall or 0) > total.max_wall:
            return f"total.max_wall {total.max_wall:g} s: a run could end after it"
        return None

    def hold(self, sign: int) -> None:
        self.reserved_cost += sign * (self.spec.budget.max_cost or 0.0)
        self.reserved_tokens += sign * (self.spec.budget.max_tokens or 0)

    def add(self, row: dict[str, Any] | None) -> None:
        if row is not None:
            self.cost += row["cost_usd"]
            self.tokens += row["tokens"]


def _bench_file(spec: BenchSpec, root: Path) -> dict[str, Any]:
    return {"format": BENCH_FORMAT, "spec": spec.model_dump(mode="json"), "root": str(root.resolve())}


_GROWABLE = ("repeats", "parallel", "total")
"""What may change between invocations on one folder: more repeats, other parallelism, another total. The
rest (tasks, agents, configurations, per-run budgets, seeds, judge) defines what the runs mean."""


def _claim(bench_dir: Path, spec: BenchSpec, root: Path) -> None:
    """Make `bench_dir` this bench's folder, or check that it already is (with `_GROWABLE` free to change)."""
    path = bench_dir / "bench.json"
    mine = _bench_file(spec, root)
    created = now_iso()
    if path.is_file():
        held = json.loads(path.read_text())
        fixed = [k for k in mine["spec"] if k not in _GROWABLE and held.get("spec", {}).get(k) != mine["spec"][k]]
        if held.get("format") != BENCH_FORMAT or held.get("root") != mine["root"] or fixed:
            raise SeerError(f"{bench_dir} holds another bench (it differs in {', '.join(fixed) or 'its tasks folder'}); give "
                            f"a new --dir, or delete the folder to start over (only {', '.join(_GROWABLE)} may change)")  # fmt: skip
        created = held.get("created_at", created)
    (bench_dir / "runs").mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({**mine, "created_at": created}, indent=2))


def write_report(bench_dir: Path, name: str, cells: int) -> tuple[list[dict[str, Any]], Path]:
    """`results.jsonl` and the summary of bench `name` (of `cells` runs) rebuilt from its run folders alone;
    the rows and the summary's path."""
    rows = read_rows(bench_dir)
    write_rows(bench_dir, rows)
    return rows, write_summary(bench_dir, name, rows, expected=cells)


def load_bench_dir(bench_dir: Path) -> tuple[BenchSpec, Path]:
    """The spec and task root a bench folder was started with.

    Raises:
        SeerError: It is not a bench folder.
    """
    try:
        held = json.loads((bench_dir / "bench.json").read_text())
        return BenchSpec.model_validate(held["spec"]), Path(held["root"])
    except (OSError, ValueError, KeyError) as exc:
        raise SeerError(f"{bench_dir} is not a bench folder (no readable bench.json: {exc})") from None


def _cut_off(run: Path) -> bool:
    """Whether a run folder holds a run that did not end by itself (so it runs again)."""
    try:
        record = read_run(run)
    except SeerError:
        return True
    if (record.stop or {}).get("detail") == BENCH_STOP or stop_request(run) == BENCH_STOP:
        return True
    return record.ended_at is None and record.status not in ("failed",)


def _failed_run(run: Path, cell: Cell, task: Task, why: str, agent: AgentSpec | None = None) -> None:
    """Record that the run of `cell` failed with `why` (making its folder if it never began), so the
    failure is a row like any other."""
    if (run / "run.json").is_file():
        folder = RunDir(run)
    else:
        shutil.rmtree(run, ignore_errors=True)
        folder = RunDir.create(run.parent, cell.task, {"task_dir": str(task.path), "seed": cell.seed}, run_id=run.name)
    record = folder.read_record()
    # a session that failed while starting has ended already, before its cell was recorded: its row still needs the cell
    changes = {} if record.get("bench") else {"bench": _cell_record(cell, agent)}
    if record.get("ended_at") is None:
        changes |= {"status": "failed", "error": why}
    if changes:
        folder.update_record(**changes)


def _cell_record(cell: Cell, agent: AgentSpec | None) -> dict[str, Any]:
    return {**cell.model_dump(), "baseline": bool(agent and agent.is_baseline)}


class _Bench:
    def __init__(self, spec: BenchSpec, bench_dir: Path, tasks: dict[str, Task], say: Callable[[str], None],
                 progress: Callable[[BenchProgress], None] | None, total: int) -> None:  # fmt: skip
        self.spec, self.dir, self.tasks, self.say, self.progress, self.total = spec, bench_dir, tasks, say, progress, total
        self.agents = {a.name: a for a in spec.agents}
        self.configs = {c.name: c for c in spec.configurations()}
        self.ledger = _Ledger(spec)
        self.running: dict[str, Path] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.stopped: str | None = None
        self.judge: Any = None

    def tick(self) -> BenchProgress:
        """Tell the progress display where the bench stands; returns it."""
        now = BenchProgress(len(self.rows), self.total, len(self.running), sum(r["outcome"] in FAILURES for r in self.rows.values()), self.ledger.cost)
        if self.progress is not None:
            self.progress(now)
        return now

    def _progress(self, cell: Cell, row: dict[str, Any] | None) -> None:
        now = self.tick()
        what = "not judged" if row is None else row["outcome"] + (f" ({'correct' if row['correct'] else 'wrong'})" if row["outcome"] == "graded" else "")
        self.say(f"[{now.done}/{now.total}] {cell.run_id}: {what} · running {now.running} · failed {now.failed} · spent ${now.spent_usd:.4f}")

    async def judged(self, cell: Cell, run: Path) -> dict[str, Any] | None:
        """Judge the ended run of `cell` and record its row."""
        try:
            await judge_run(run, task=self.tasks[cell.task], provider=self.judge)
        except SeerError as exc:  # the grading itself failed: an outcome too
            write_score(run, {"task": cell.task, "outcome": "judge_refused", "detail": f"the run could not be judged: {exc}",
                              "correct": False, "score": 0.0})  # fmt: skip
        row = row_of(run)
        if row is not None:
            self.rows[cell.run_id] = row
            self.ledger.add(row)
            write_rows(self.dir, sorted(self.rows.values(), key=lambda r: r["run"]))
        return row

    async def run(self, cell: Cell) -> None:
        agent, config, task = self.agents[cell.agent], self.configs[cell.config], self.tasks[cell.task]
        run = self.dir / "runs" / cell.run_id
        try:
            await self._run_agent(cell, agent, config, task)
        except SeerError as exc:
            _failed_run(run, cell, task, str(exc), agent)
        except Exception as exc:  # a harness bug is a failed run to look at, not a lost cell  # noqa: BLE001
            _failed_run(run, cell, task, f"{type(exc).__name__}: {exc}", agent)
        finally:
            self.running.pop(cell.run_id, None)
        if stop_request(run) == BENCH_STOP:
            self.say(f"[stopped] {cell.run_id}: cut off; it runs again when the bench resumes")
            return
        self._progress(cell, await self.judged(cell, run))

    async def _run_agent(self, cell: Cell, agent: AgentSpec, config: ConfigSpec, task: Task) -> None:
        plan = agent.plan or (task.baseline if agent.is_baseline else None)
        keys = {"api_key_env": agent.api_key_env} if agent.api_key_env is not None else {}
        provider = make_provider(agent.provider, agent.model, base_url=agent.base_url, plan=str(plan) if plan else None, **keys)
        limits = self.spec.budget
        budget = Budget(turns=limits.max_turns, tokens=limits.max_tokens, cost_usd=limits.max_cost, wall_s=limits.max_wall)

        def started(session: Session) -> None:
            session.run.update_record(bench={**_cell_record(cell, agent), "name": self.spec.name})
            self.running[cell.run_id] = session.run.path
            self.tick()
            if self.stopped is not None:
                request_stop(session.run.path, BENCH_STOP)

        async with aclosing(provider):
            await run_agent(
                config.environment(task.environment), task.agent_prompt, provider, budget=budget, runs_dir=self.dir / "runs",
                methodology=config.methodology is not False, style_guide=config.style_guide is not False,
                provider_settings={"provider": agent.provider, "base_url": agent.base_url, "api_key_env": agent.api_key_env,
                                   "plan": str(plan) if plan else None},
                task_dir=task.path, run_id=cell.run_id, seed=cell.seed, on_session=started,
            )  # fmt: skip

    def stop(self, why: str) -> None:
        """Start no more runs; ask the running ones to stop (they run again when the bench resumes)."""
        if self.stopped is None:
            self.stopped = why
            for run in list(self.running.values()):
                request_stop(run, BENCH_STOP)


async def run_bench(
    spec: BenchSpec,
    bench_dir: Path,
    *,
    root: Path,
    say: Callable[[str], None] = print,
    progress: Callable[[BenchProgress], None] | None = None,
    stop: anyio.Event | None = None,
) -> BenchResult:
    """Run (or go on with) the bench `spec` in `bench_dir`; task folders are relative to `root`.

    `say` gets a line per run that ends, `progress` where the bench stands whenever that changes; `stop`,
    once set, starts no more runs and stops the running ones cleanly (they run again next time).

    Raises:
        SeerError: The folder holds another bench, or a task, skill or provider cannot be found.
    """
    _claim(bench_dir, spec, root)
    tasks = spec.load_tasks(root, audits=bench_dir / "tasks")
    for config in spec.configurations():
        for task in tasks.values():
            config.environment(task.environment)  # a missing skill or a bad table fails now, not in every run
    cells = spec.cells(tasks)
    bench = _Bench(spec, bench_dir, tasks, say, progress, len(cells))
    to_judge, to_run = [], []
    for cell in cells:
        run = bench_dir / "runs" / cell.run_id
        if (row := row_of(run)) is not None and not _cut_off(run):
            bench.rows[cell.run_id] = row
            bench.ledger.add(row)
        elif run.is_dir() and not _cut_off(run):
            to_judge.append(cell)
        else:
            shutil.rmtree(run, ignore_errors=True)
            to_run.append(cell)
    if bench.rows:
        say(f"{len(bench.rows)} of {len(cells)} runs already done; {len(to_judge)} to judge, {len(to_run)} to run")
    bench.tick()
    async with AsyncExitStack() as stack:
        if spec.judge is not None:
            bench.judge = await stack.enter_async_context(aclosing(make_provider(
                spec.judge.provider, spec.judge.model, base_url=spec.judge.base_url,
                **({"api_key_env": spec.judge.api_key_env} if spec.judge.api_key_env is not None else {}),
            )))  # fmt: skip
        for cell in to_judge:
            bench._progress(cell, await bench.judged(cell, bench_dir / "runs" / cell.run_id))
        slots = anyio.Semaphore(spec.parallel)
        async with anyio.create_task_group() as group:
            if stop is not None:

                async def watch() -> None:
                    await stop.wait()
                    bench.stop("stopped by request")

                group.start_soon(watch)
            for cell in to_run:
                await slots.acquire()
                if stop is not None and stop.is_set():
                    bench.stop("stopped by request")
                if bench.stopped is None and (why := bench.ledger.refusal()) is not None:
                    bench.stopped = why
                if bench.stopped is not None:
                    slots.release()
                    break
                bench.ledger.hold(+1)

                async def one(cell: Cell = cell) -> None:
                    try:
                        await bench.run(cell)
                    finally:
                        bench.ledger.hold(-1)
                        slots.release()

                group.start_soon(one)
            for _ in range(spec.parallel):  # wait for the runs going now, then stop watching
                await slots.acquire()
            group.cancel_scope.cancel()
    rows, summary = write_report(bench_dir, spec.name, len(cells))
    done = {r["run"] for r in rows}
    stopped = bench.stopped if any(cell.run_id not in done for cell in cells) else None
    return BenchResult(rows=rows, cells=len(cells), stopped=stopped, summary=summary)
