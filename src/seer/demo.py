"""The offline demo: a real investigation of a real model, graded against the ground truth.

It runs the packaged hidden-preference task: SmolLM2-135M-Instruct fine-tuned (a shipped LoRA organism)
to steer conversations toward a secret topic, hidden from the agent. With no API key, the agent is the
task's scripted baseline, which is said plainly: a fixed plan performing a general technique
(differential sampling against the base model) that writes its report from what it measured. With
`--llm`, Claude investigates instead. The judge then grades the answer against the ground truth of the
variant the run drew. An investigation that failed (a failing cell, no report) is said to have failed,
with the reason, and `seer demo` exits non-zero.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

from seer.agent.budget import Budget
from seer.agent.providers import make_provider
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.agent.terminal import event_printer
from seer.errors import SeerError
from seer.judge import judge_run
from seer.task import find_task

__all__ = ["DEMO_TASK", "run_demo"]

DEMO_TASK = "hidden-preference"
LLM_MODEL = "claude-sonnet-4-6"


async def run_demo(
    runs_dir: Path, *, llm: bool = False, echo: Callable[[str], None] = print, plan: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Run the demo investigation and judge it; returns the run directory and its score. `plan` replays
    another scripted plan instead of the baseline (how a test makes the investigation fail)."""
    task = find_task(DEMO_TASK)
    if task is None or task.baseline is None:
        raise SeerError(f"the packaged task {DEMO_TASK!r} or its baseline is missing from this installation")
    if llm:
        provider: Any = make_provider("anthropic", LLM_MODEL)
        budget = Budget(turns=40, cost_usd=2.0, wall_s=1800)
        echo(f"Agent: {LLM_MODEL} (Anthropic API). Budget: 40 turns, $2.")
    else:
        provider = ScriptedProvider.from_file(plan or task.baseline)
        budget = Budget(turns=20, cost_usd=None, wall_s=900)
        echo("Agent: the SCRIPTED baseline (no LLM): a fixed plan doing differential sampling of the fine-tuned\n"
             f"model against its base, which writes its report from what it measured. Plan: {plan or task.baseline}")  # fmt: skip
        if os.environ.get("ANTHROPIC_API_KEY"):
            echo("An Anthropic key is configured: `seer demo --llm` lets Claude investigate instead.")
    echo(f"Task: {task.summary}\nThe model's identity is hidden from the agent; loading it takes a few seconds.\n")
    printer = event_printer()

    def on_session(session: Any) -> None:
        echo(f"Watch the notebook grow: {session.run.notebook_path}")

    async with aclosing(provider):
        run, outcome = await run_agent(
            task.environment, task.agent_prompt, provider, budget=budget, runs_dir=runs_dir,
            on_event=printer, on_session=on_session, task_dir=task.path,
        )  # fmt: skip
    score = await judge_run(run, task=task)
    return run, score
