"""One row per judged run of a bench, read from its run directories alone (`run.json`, `score.json`,
the notebook), and written as `results.jsonl`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seer.errors import SeerError
from seer.notebook import cell_meta
from seer.record.run_record import read_run
from seer.run import atomic_write

__all__ = ["FAILURES", "ROW_FIELDS", "read_rows", "row_of", "write_rows"]

FAILURES = ("failed_run", "stopped", "empty_report", "evidence_errored", "judge_refused", "needs_rubric_judge", "auditor_failed", "empty_audit", "empty_attempt")
"""Outcomes that are failures to be counted apart, never folded into 'wrong' (see `seer.judge`)."""
ROW_FIELDS = (
    "run", "task", "variant", "agent", "baseline", "provider", "model", "config", "repeat", "seed", "outcome",
    "correct", "score", "tokens", "cost_usd", "cost_known", "wall_s", "kernel_s", "blind", "detail", "dimensions",
)  # fmt: skip


def _kernel_s(run: Path) -> float:
    """Seconds the notebook's cells ran."""
    try:
        cells = json.loads((run / "notebook.ipynb").read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return 0.0
    return round(sum(float(cell_meta(c).get("duration_s") or 0.0) for c in cells), 3)


def row_of(run: Path) -> dict[str, Any] | None:
    """The row of one bench run; None while it has no `score.json` (running, cut off, not yet judged)."""
    try:
        score = json.loads((run / "score.json").read_text())
        record = read_run(run)
    except (OSError, ValueError, SeerError):
        return None
    cell = (record.model_extra or {}).get("bench") or {}
    spent = record.spent or {}
    agent = record.agent or {}
    row = {
        "run": run.name, "task": score.get("task"), "variant": score.get("variant"), "agent": cell.get("agent"),
        "baseline": bool(cell.get("baseline")), "provider": agent.get("provider"), "model": agent.get("model"),
        "config": cell.get("config"), "repeat": cell.get("repeat"), "seed": record.seed, "outcome": score["outcome"],
        "correct": bool(score["correct"]) if score["outcome"] == "graded" and score.get("correct") is not None else None,
        "score": score.get("score") if score["outcome"] == "graded" else None, "tokens": int(spent.get("tokens", 0)),
        "cost_usd": float(spent.get("cost_usd", 0.0)), "cost_known": bool(spent.get("cost_known", True)),
        "wall_s": float(spent.get("wall_s", 0.0)), "kernel_s": _kernel_s(run), "blind": score.get("blind"),
        "detail": score.get("detail"),
        "dimensions": {name: v["score"] for name, v in score["scores"].items()} if score.get("kind") == "audit" and "scores" in score else None,
    }  # fmt: skip
    return row


def read_rows(bench_dir: Path) -> list[dict[str, Any]]:
    """Every judged run of the bench in `bench_dir`, in run-id order."""
    runs = bench_dir / "runs"
    found = [row_of(run) for run in sorted(runs.iterdir()) if run.is_dir()] if runs.is_dir() else []
    return [row for row in found if row is not None]


def write_rows(bench_dir: Path, rows: list[dict[str, Any]]) -> Path:
    """`results.jsonl`, written whole (atomically)."""
    path = bench_dir / "results.jsonl"
    atomic_write(path, "".join(json.dumps(row) + "\n" for row in rows))
    return path
