"""The autorater: grade a run's structured answer and report against its task's ground truth and the
notebook evidence.

`judge_run` reads only the run directory (run.json, report.md, notebook.ipynb, the workspace's saved
artifacts) and the task folder; runs the task's deterministic checks on the structured answer (a
normalised match, or a re-measurement of the vector it names); asks a rubric judge when a provider is
given; and writes `score.json`. Every way a run can fail is an explicit outcome, never a silent zero:

- `failed_run`: the run did not end with `finish` because something broke (a failing scripted step, an
  error the agent loop could not recover from, a session that never started);
- `stopped`: the run was stopped (budget, the Stop button, no action) before the agent called `finish`;
- `empty_report`: `finish` was called with a report that is empty or a traceback;
- `evidence_errored`: the report cites cells that raised, timed out or died;
- `judge_refused`, `needs_rubric_judge`: the grading itself could not be done;
- for an audit (a task whose rubric has `[audit]`, `seer.judge.audit`): `auditor_failed` and `empty_audit`;
- for the agent-on-agent environments (`[redteam]`, `[director]`, `seer.judge.environments`): `empty_attempt`;
- `graded`: none of the above; `correct` and `score` are meaningful.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from seer.agent.providers.base import Provider
from seer.errors import ProviderError, SeerError
from seer.judge.audit import judge_audit
from seer.judge.checks import CheckContext, run_checks
from seer.judge.claims import split_claims
from seer.judge.environments import judge_environment
from seer.judge.rubric import JudgeRefused, grade
from seer.notebook import cell_meta
from seer.record.run_record import RunRecord, read_run
from seer.run import atomic_write, now_iso
from seer.task import Task

__all__ = ["SCORE_FORMAT", "judge_run", "write_score"]

SCORE_FORMAT = "seer.score/2"


def write_score(run: Path, score: dict[str, Any]) -> dict[str, Any]:
    """Write `<run>/score.json` (atomically, with its format, the run and the time); returns what was written."""
    score = {"format": SCORE_FORMAT, "run": run.name, "judged_at": now_iso(), **score}
    atomic_write(run / "score.json", json.dumps(score, indent=2))
    return score


_FAILED_CELL = ("error", "timeout", "died", "interrupted")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*\w+(Error|Exception): ", re.MULTILINE)


def _why_not_graded(record: RunRecord, report: str) -> tuple[str, str] | None:
    """The outcome and detail of a run that cannot be graded on its answer; None when it can."""
    stop = record.stop or {}
    if record.finished_at is None:
        if record.status == "stopped" and stop.get("reason") not in ("error", None):
            return "stopped", f"the run was stopped before finish: {stop.get('reason')} ({stop.get('detail')})"
        why = stop.get("detail") or record.error or f"run status {record.status!r}"
        return "failed_run", str(why)
    if not report.strip():
        return "empty_report", "the run ended without a report"
    if _TRACEBACK.search(report) and len(report.strip()) < 4000 and "traceback" in report.lower():
        return "empty_report", "the report is a traceback, not findings"
    return None


def _errored_cells(notebook: dict[str, Any], cited: set[int]) -> list[int]:
    cells = notebook["cells"]
    return sorted(i for i in cited if 0 <= i < len(cells) and cell_meta(cells[i]).get("status") in _FAILED_CELL)


async def judge_run(run_path: str | Path, *, task: Task | None = None, provider: Provider | None = None) -> dict[str, Any]:
    """Grade one run and write `<run>/score.json`; returns what was written.

    Raises:
        SeerError: The folder is not a run, or no task can be found for it.
    """
    run = Path(run_path).resolve()
    record = read_run(run)
    if task is None:
        if not record.task_dir:
            raise SeerError(f"{run.name} was not started from a task folder; pass the task with `--task DIR`")
        task = Task.load(record.task_dir)
    truth = task.truth_for(record.variant, record.environment)
    judge = {"provider": provider.name, "model": provider.model} if provider else None
    base: dict[str, Any] = {"task": task.name, "variant": record.variant_name, "judge": judge, "correct": None,
                            "score": None, "blind": (record.blind or {}).get("blind")}  # fmt: skip
    if "audit" in task.rubric:
        return write_score(run, await judge_audit(run, record, task, provider, base))
    if (scored := await judge_environment(run, record, task, provider, base)) is not None:
        return write_score(run, scored)
    report = (run / "report.md").read_text() if (run / "report.md").exists() else (record.report or "")
    if (failure := _why_not_graded(record, report)) is not None:
        return write_score(run, {**base, "outcome": failure[0], "detail": failure[1], "correct": False, "score": 0.0})
    notebook = json.loads((run / "notebook.ipynb").read_text())
    claims = split_claims(report)
    listed = [{"text": c.text, "cells": list(c.cells), "cited_cells_exist": all(0 <= i < len(notebook["cells"]) for i in c.cells)} for c in claims]
    errored = _errored_cells(notebook, {i for c in claims for i in c.cells})
    if errored:
        detail = f"the report cites cells that failed: {', '.join(map(str, errored))}"
        return write_score(run, {**base, "outcome": "evidence_errored", "detail": detail, "claims": listed, "correct": False, "score": 0.0})
    workspace = Path(record.workspace or run / "workspace")
    context = CheckContext(run=run, models=tuple((record.environment or {}).get("models", [])))
    checks = run_checks(task.checks, workspace=workspace if workspace.is_dir() else run / "workspace",
                        answer=record.answer, truth=truth, context=context)  # fmt: skip
    result = {**base, "outcome": "graded", "answer": record.answer, "checks": [c.as_dict() for c in checks],
              "claims": listed, "rubric": None}  # fmt: skip
    passed = all(c.passed for c in checks)
    if checks:
        result.update(correct=passed, score=sum(c.passed for c in checks) / len(checks))
    if provider is None:
        if not checks:
            result.update(outcome="needs_rubric_judge", detail="this task has no deterministic check; pass --provider to grade it")
        return write_score(run, result)
    try:
        verdict = await grade(provider, task=task.agent_prompt, truth=truth,
                              criteria=task.rubric.get("criteria", []), claims=claims, notebook=notebook)  # fmt: skip
    except (JudgeRefused, ProviderError) as exc:
        return write_score(run, {**result, "outcome": "judge_refused", "detail": str(exc)})
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
        correct=(passed and verdict["correct"]) if checks else verdict["correct"],
        score=(result["score"] + rubric_score) / 2 if checks else rubric_score,
    )
    return write_score(run, result)
