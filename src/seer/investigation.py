"""Start a session for a task: the variant its seed draws, a blind session, and the record a judge reads.

Seer's own runs (`seer.agent.runner.run_agent`) and sessions an MCP client starts (`seer.hub`) begin the
same way, so a run started from Claude Code is judged like any other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from seer.environment import Environment
from seer.errors import SpecError
from seer.session import Progress, Session
from seer.task import Task

__all__ = ["Investigation", "start_investigation"]


@dataclass(frozen=True)
class Investigation:
    """A started session and what it investigates."""

    session: Session
    env: Environment
    """The environment the session runs (a task's with its variant applied)."""
    task: str
    """The task text the agent is given."""
    graded: Task | None
    seed: int
    variant: int | None


async def start_investigation(
    env: Environment, task: str, *, graded: Task | None = None, seed: int | None = None, runs_dir: str | Path = "runs",
    run_id: str | None = None, progress: Progress | None = None, variant_name: str | None = None,
) -> Investigation:
    """Start a session on `env` for `task`. A `graded` task (one with ground truth) gets the variant `seed`
    draws (default: a random seed), or the one called `variant_name`, a blind session and its structured
    answer; `run.json` records the task, its folder, the seed and the variant, where the agent cannot look.

    Raises:
        SpecError: `variant_name` is not one of the task's variants.
        SandboxError: The session could not start.
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    # a task's variants are organisms of its own environment: a real-model recipe (--target) runs without one
    variant = graded.variant_index(seed) if graded and (graded.target_file is None or graded.runs_offline(env)) else None
    if variant_name is not None:
        if graded is None:
            raise SpecError(f"variant {variant_name!r} was asked for, but the run has no graded task")
        variant = graded.variant_named(variant_name)
    if graded is not None:
        env = graded.environment_for(variant, env)
    session = await Session.start(env, runs_dir=runs_dir, run_id=run_id, graded=graded is not None,
                                  answer=graded.answer if graded else None, progress=progress)  # fmt: skip
    session.run.update_record(
        task=task,
        task_dir=str(graded.path) if graded else None,
        seed=seed,
        variant=variant,
        variant_name=graded.variants[variant].get("name") if graded and variant is not None else None,
    )
    return Investigation(session, env, task, graded, seed, variant)
