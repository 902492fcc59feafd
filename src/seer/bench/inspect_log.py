"""Runs and benches as Inspect AI eval logs, so they open in `inspect view` and Inspect's analysis tools.

One log per (task, agent, configuration): its samples are the runs, one epoch per repeat (a single run
is a log of one sample). A sample holds the conversation from the transcript (system prompt, task,
assistant turns with their tool calls, tool results), the report as its output, Seer's grade as the
score `seer` (`C` or `I` for a graded run; a run that failed is `N`, no answer, with the outcome as its
`error`, never a wrong answer),
the run's token usage and time. The hidden answer is never exported: a sample's `target` is empty.

Written with Inspect's own classes (`pip install 'seer-interp[inspect]'`), as `.json` logs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from seer.errors import MissingExtra, SeerError
from seer.record.events import ModelTurn, Stopped, ToolResult, UserMessage
from seer.record.run_record import RunRecord, read_run
from seer.record.transcript import read_typed

__all__ = ["export_inspect"]


def _inspect() -> Any:
    try:
        import inspect_ai.log as log
    except ImportError:
        raise MissingExtra("inspect-ai", "exporting to Inspect", "inspect") from None
    return log


def _messages(run: Path, record: RunRecord) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageTool, ChatMessageUser
    from inspect_ai.tool import ToolCall, ToolCallError

    messages: list[Any] = [ChatMessageSystem(content=record.model_extra.get("system_prompt") or "")] if record.model_extra else []
    for event in read_typed(run / "transcript.jsonl"):
        if isinstance(event, UserMessage):
            messages.append(ChatMessageUser(content=event.text))
        elif isinstance(event, ModelTurn):
            calls = [ToolCall(id=c.id, function=c.name, arguments=c.arguments if isinstance(c.arguments, dict) else {}) for c in event.tool_calls]
            messages.append(ChatMessageAssistant(content=event.text, tool_calls=calls or None, model=(record.agent or {}).get("model")))
        elif isinstance(event, ToolResult):
            messages.append(ChatMessageTool(content=event.text, tool_call_id=event.call_id, function=event.name,
                                            error=ToolCallError(type="unknown", message=event.text[:500]) if event.is_error else None))  # fmt: skip
        elif isinstance(event, Stopped) and event.report and not any(isinstance(m, ChatMessageAssistant) for m in messages[-1:]):
            messages.append(ChatMessageAssistant(content=event.report))
    return messages


def _usage(record: RunRecord) -> Any:
    from inspect_ai.model import ModelUsage

    spent = record.spent or {}
    return ModelUsage(
        input_tokens=int(spent.get("input_tokens", 0)), output_tokens=int(spent.get("output_tokens", 0)),
        total_tokens=int(spent.get("tokens", 0)), input_tokens_cache_read=int(spent.get("cache_read_tokens", 0)) or None,
        input_tokens_cache_write=int(spent.get("cache_write_tokens", 0)) or None,
        total_cost=float(spent["cost_usd"]) if spent.get("cost_known", True) and "cost_usd" in spent else None,
    )  # fmt: skip


def _model(record: RunRecord) -> str:
    agent = record.agent or {}
    return f"{agent.get('provider', 'none')}/{agent.get('model') or 'none'}"


def _sample(run: Path, record: RunRecord, score: dict[str, Any], epoch: int) -> Any:
    from inspect_ai.log import EvalError, EvalSample
    from inspect_ai.model import ModelOutput
    from inspect_ai.scorer import CORRECT, INCORRECT, NOANSWER, Score

    graded = score["outcome"] == "graded"
    detail = score.get("detail") or "; ".join(c["detail"] for c in score.get("checks", []))
    report = (run / "report.md").read_text() if (run / "report.md").is_file() else (record.report or "")
    usage = _usage(record)
    return EvalSample(
        id=score.get("variant") or score.get("task") or run.name, epoch=epoch, input=record.task or "", target="",
        messages=_messages(run, record), output=ModelOutput.from_content(_model(record), report),
        scores={"seer": Score(value=(CORRECT if score.get("correct") else INCORRECT) if graded else NOANSWER, answer=json.dumps(record.answer),
                              explanation=detail, metadata={"outcome": score["outcome"], "score": score.get("score")})},
        metadata={"seer_run": run.name, "outcome": score["outcome"], "cost_usd": (record.spent or {}).get("cost_usd"),
                  "blind": score.get("blind")},
        model_usage={_model(record): usage}, total_time=(record.spent or {}).get("wall_s"),
        error=None if graded else EvalError(message=f"{score['outcome']}: {detail}", traceback="", traceback_ansi=""),
    )  # fmt: skip


def _epoch(record: RunRecord, index: int) -> int:
    """A bench run's repeat, counted from 1 as Inspect counts epochs; else its place in the list."""
    cell = (record.model_extra or {}).get("bench") or {}
    return int(cell["repeat"]) + 1 if isinstance(cell.get("repeat"), int) else index + 1


def _log(runs: list[tuple[Path, RunRecord, dict[str, Any]]], task: str, arm: str) -> Any:
    log = _inspect()
    from inspect_ai.model import ModelUsage

    samples = [_sample(run, record, score, _epoch(record, index)) for index, (run, record, score) in enumerate(runs)]
    graded = [s for s in samples if s.error is None]
    solved = sum(s.scores["seer"].value == "C" for s in graded)
    first = runs[0][1]
    usage: dict[str, Any] = defaultdict(ModelUsage)
    for sample in samples:
        for model, used in sample.model_usage.items():
            usage[model] = usage[model] + used
    metrics = {"accuracy": log.EvalMetric(name="accuracy", value=solved / len(graded) if graded else 0.0)}
    return log.EvalLog(
        status="success",
        eval=log.EvalSpec(
            created=first.started_at or "", task=task, dataset=log.EvalDataset(name=task, samples=len(samples)),
            model=_model(first), config=log.EvalConfig(epochs=len(samples)), metadata={"seer_arm": arm},
        ),
        results=log.EvalResults(total_samples=len(samples), completed_samples=len(graded),
                                scores=[log.EvalScore(name="seer", scorer="seer_judge", metrics=metrics)]),
        stats=log.EvalStats(started_at=first.started_at or "", completed_at=runs[-1][1].ended_at or "", model_usage=dict(usage)),
        samples=samples,
    )  # fmt: skip


def _judged(run: Path) -> tuple[Path, RunRecord, dict[str, Any]]:
    try:
        score = json.loads((run / "score.json").read_text())
    except (OSError, ValueError):
        raise SeerError(f"{run.name} has no score.json: judge it first (`seer judge {run}`)") from None
    return run, read_run(run), score


def export_inspect(target: Path, out: Path) -> list[Path]:
    """Write the Inspect logs of a judged run, or of every judged run of a bench folder, under `out`.

    Raises:
        SeerError: `target` is neither a judged run nor a bench folder.
        MissingExtra: inspect-ai is not installed.
    """
    _inspect()
    if (target / "run.json").is_file():
        judged = [_judged(target)]
    elif (target / "bench.json").is_file():
        judged = [_judged(run) for run in sorted((target / "runs").iterdir()) if (run / "score.json").is_file()]
    else:
        raise SeerError(f"{target} is neither a run folder (run.json) nor a bench folder (bench.json)")
    arms: dict[tuple[str, str], list[tuple[Path, RunRecord, dict[str, Any]]]] = defaultdict(list)
    for run, record, score in judged:
        cell = (record.model_extra or {}).get("bench") or {}
        arm = f"{cell['agent']}.{cell['config']}" if cell.get("agent") else run.name
        arms[(score.get("task") or "task", arm)].append((run, record, score))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (task, arm), runs in sorted(arms.items()):
        path = out / f"{task}.{arm}.json"
        _inspect().write_eval_log(_log(runs, task, arm), str(path))
        written.append(path)
    return written
