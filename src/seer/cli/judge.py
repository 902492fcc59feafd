"""`seer judge`: grade a run; `format_score`, the score as a person reads it."""

from __future__ import annotations

import json
from contextlib import aclosing
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from seer.cli.options import BaseUrlOpt, KeyEnvOpt, ModelOpt, build_provider, fail, load_dotenv
from seer.errors import SeerError

__all__ = ["format_score", "judge"]


def judge(
    run_dir: Annotated[Path, typer.Argument(help="The run directory to grade (runs/<run-id>).")],
    provider: Annotated[str | None, typer.Option("--provider", help="Rubric judge's provider; none: deterministic checks only.")] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = None,
    task: Annotated[Path | None, typer.Option("--task", help="Task folder, if the run does not record one.")] = None,
) -> None:
    """Grade a run against its task's ground truth and the notebook evidence; writes score.json."""
    from seer.judge import judge_run
    from seer.task import Task

    load_dotenv()
    try:
        chosen = build_provider(provider, model, base_url, api_key_env, None) if provider else None

        async def go() -> dict[str, Any]:
            if chosen is None:
                return await judge_run(run_dir, task=Task.load(task) if task else None)
            async with aclosing(chosen):
                return await judge_run(run_dir, task=Task.load(task) if task else None, provider=chosen)

        score = anyio.run(go)
    except SeerError as exc:
        raise fail(exc) from None
    typer.echo(format_score(score))
    typer.echo(f"Written: {run_dir.resolve() / 'score.json'}")


def format_score(score: dict[str, Any]) -> str:
    """A few lines a person reads: outcome, correctness, the checks."""
    lines = [f"Outcome: {score['outcome']}" + (f" ({score['detail']})" if score.get("detail") else "")]
    if score.get("correct") is not None:
        lines.append(f"Correct: {'yes' if score['correct'] else 'no'} · score {score['score']:.2f}")
    if score.get("answer") is not None:
        lines.append(f"Answer: {json.dumps(score['answer'])}")
    for check in score.get("checks", []):
        lines.append(f"Check ({check['kind']}): {'pass' if check['passed'] else 'FAIL'}: {check['detail']}")
    for claim in score.get("unsupported_claims", []):
        lines.append(f"Unsupported claim: {claim}")
    return "\n".join(lines)
