"""What the viewer shows of benches, read from bench folders only: the list of benches, and a bench's
matrix (task × agent rows, one column per configuration, a chip per repeat) that fills in as runs end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seer.bench.results import FAILURES, read_rows
from seer.bench.runner import load_bench_dir
from seer.bench.spec import NAME
from seer.bench.summary import summarize
from seer.errors import SeerError
from seer.run import RUN_ID
from seer.viewer.runs import summarize as run_summary

__all__ = ["BENCH_NAME", "PLOTS", "bench_run", "bench_view", "list_benches"]

BENCH_NAME = NAME
"""A bench folder's name, as `seer bench` names them."""
PLOTS = ("solve_rate.png", "cost_vs_solve.png")


def bench_run(benches_dir: Path, viewer_id: str) -> Path | None:
    """The run folder a viewer id `<bench>@<run>` names, if it is one."""
    bench, _, run = viewer_id.partition("@")
    path = benches_dir / bench / "runs" / run
    if BENCH_NAME.match(bench) and RUN_ID.match(run) and (path / "run.json").is_file():
        return path
    return None


def _chip(bench: str, run: Path, repeat: int) -> dict[str, Any]:
    """One repeat of a cell: its state (pending, running, …, or the judge's outcome) and its run's viewer id."""
    chip: dict[str, Any] = {"repeat": repeat, "run": f"{bench}@{run.name}", "state": "pending"}
    try:
        score = json.loads((run / "score.json").read_text())
    except (OSError, ValueError):
        row = run_summary(run) if (run / "run.json").is_file() else None
        if row is not None:
            chip["state"] = row["status"]
        return chip
    outcome = score.get("outcome")
    chip["state"] = ("solved" if score.get("correct") else "wrong") if outcome == "graded" else "failed"
    chip["outcome"] = outcome
    return chip


def bench_view(bench_dir: Path) -> dict[str, Any]:
    """A bench's matrix and its summary by agent and configuration.

    Raises:
        SeerError: `bench_dir` is not a bench folder.
    """
    spec, root = load_bench_dir(bench_dir)
    try:
        cells = spec.cells(spec.load_tasks(root))
    except SeerError:  # the task folders moved: show the runs there are
        cells = []
    names = {c.run_id for c in cells}
    rows: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for cell in cells:
        rows.setdefault((cell.task, cell.agent), {}).setdefault(cell.config, []).append(_chip(bench_dir.name, bench_dir / "runs" / cell.run_id, cell.repeat))
    extra = sorted(p for p in (bench_dir / "runs").glob("*") if p.is_dir() and p.name not in names) if (bench_dir / "runs").is_dir() else []
    for run in extra:
        task, agent, config, repeat = (run.name.split(".") + ["", "", "", "0"])[:4]
        rows.setdefault((task, agent), {}).setdefault(config, []).append(_chip(bench_dir.name, run, int(repeat) if repeat.isdigit() else 0))
    judged = read_rows(bench_dir)
    overall, _ = summarize(judged)
    return {
        "name": spec.name, "configs": [c.name for c in spec.configs], "repeats": spec.repeats, "cells": len(cells) or len(extra),
        "done": len(judged), "failed": sum(r["outcome"] in FAILURES for r in judged), "spent_usd": round(sum(r["cost_usd"] for r in judged), 6),
        "rows": [{"task": task, "agent": agent, "configs": configs} for (task, agent), configs in rows.items()],
        "arms": [{"agent": g.agent, "config": g.config, "runs": g.runs, "solved": g.solved, "graded": g.graded,
                  "solve_rate": g.solve_rate, "low": g.low, "high": g.high, "failures": g.failures,
                  "cost_per_solved_usd": g.cost_per_solved_usd, "gap": g.gap} for g in overall],
        "plots": [p for p in PLOTS if (bench_dir / p).is_file()],
    }  # fmt: skip


def list_benches(benches_dir: Path) -> list[dict[str, Any]]:
    """One row per bench folder under `benches_dir`: its name, size and progress."""
    found = []
    for folder in sorted(benches_dir.iterdir()) if benches_dir.is_dir() else []:
        if not (BENCH_NAME.match(folder.name) and (folder / "bench.json").is_file()):
            continue
        try:
            view = bench_view(folder)
        except SeerError:
            continue
        found.append({k: view[k] for k in ("name", "cells", "done", "failed", "spent_usd")} | {"folder": folder.name})
    return found
