"""The autorater: grade a run's report against its task's ground truth and the notebook evidence.

`judge_run` reads only the run directory (run.json, report.md, notebook.ipynb) and the task folder,
runs the task's deterministic check, asks a rubric judge when a provider is given, and writes
`score.json`. A failed run, an empty report and a judge that refuses are explicit outcomes, never a
silent zero.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seer.agent.providers.base import Provider
from seer.errors import ProviderError, SeerError
from seer.judge.checks import run_check
from seer.judge.claims import split_claims
from seer.judge.rubric import JudgeRefused, grade
from seer.run import atomic_write, now_iso
from seer.task import Task

__all__ = ["SCORE_FORMAT", "judge_run"]

SCORE_FORMAT = "seer.score/1"


def _write(run: Path, score: dict[str, Any]) -> dict[str, Any]:
    score = {"format": SCORE_FORMAT, "run": run.name, "judged_at": now_iso(), **score}
    atomic_write(run / "score.json", json.dumps(score, indent=2))
    return score


async def judge_run(run_path: str | Path, *, task: Task | None = None, provider: Provider | None = None) -> dict[str, Any]:
    """Grade one run and write `<run>/score.json`; returns what was written.

    Raises:
        SeerError: The folder is not a run, or no task can be found for it.
    """
    run = Path(run_path).resolve()
    try:
        record = json.loads((run / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise SeerError(f"{run}: not a run directory (no readable run.json)") from None
    if task is None:
        if not record.get("task_dir"):
            raise SeerError(f"{run.name} was not started from a task folder; pass the task with `--task DIR`")
        task = Task.load(record["task_dir"])
    judge = {"provider": provider.name, "model": provider.model} if provider else None
    base: dict[str, Any] = {"task": task.name, "judge": judge, "correct": None, "score": None}
    if record.get("status") not in ("finished", "stopped"):
        return _write(run, {**base, "outcome": "failed_run", "detail": f"run status {record.get('status')!r}"})
    report = (run / "report.md").read_text() if (run / "report.md").exists() else (record.get("report") or "")
    if not report.strip():
        return _write(run, {**base, "outcome": "empty_report", "detail": "the run ended without a report", "correct": False, "score": 0.0})
    check = run_check(task.rubric.get("check", {}).get("kind", "none"), report, task.ground_truth)
    notebook = json.loads((run / "notebook.ipynb").read_text())
    claims = split_claims(report)
    listed = [{"text": c.text, "cells": list(c.cells), "cited_cells_exist": all(0 <= i < len(notebook["cells"]) for i in c.cells)} for c in claims]
    result = {**base, "outcome": "graded", "deterministic": check.as_dict() if check else None, "claims": listed, "rubric": None}
    if check is not None:
        result.update(correct=check.passed, score=1.0 if check.passed else 0.0)
    if provider is None:
        if check is None:
            result.update(outcome="needs_rubric_judge", detail="this task has no deterministic check; pass --provider to grade it")
        return _write(run, result)
    try:
        verdict = await grade(provider, task=task.agent_prompt, truth=task.ground_truth,
                              criteria=task.rubric.get("criteria", []), claims=claims, notebook=notebook)  # fmt: skip
    except (JudgeRefused, ProviderError) as exc:
        return _write(run, {**result, "outcome": "judge_refused", "detail": str(exc)})
    criteria = verdict.get("criteria", {})
    verdicts = {int(v["index"]): v for v in verdict.get("claims", []) if isinstance(v, dict) and "index" in v}
    for index, claim in enumerate(listed):
        claim["verdict"] = verdicts.get(index, {}).get("verdict", "not graded")
        claim["reason"] = verdicts.get(index, {}).get("reason", "")
    met = [bool(c.get("met")) for c in criteria.values() if isinstance(c, dict)]
    rubric_score = sum(met) / len(met) if met else (1.0 if verdict["correct"] else 0.0)
    unsupported = [c["text"] for c in listed if c.get("verdict") in ("unsupported", "contradicted")]
    result.update(
        rubric={"criteria": criteria, "correct": verdict["correct"], "score": rubric_score},
        unsupported_claims=unsupported,
        correct=(check.passed and verdict["correct"]) if check else verdict["correct"],
        score=((1.0 if check.passed else 0.0) + rubric_score) / 2 if check else rubric_score,
    )
    return _write(run, result)
