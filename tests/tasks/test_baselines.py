"""The scripted baselines perform general techniques and hand in what they measured: each finds whichever
variant the run's seed drew (two variants per hidden task here; the demo test covers a third run), and the
judge, grading the structured answer and re-measuring saved directions, marks it correct."""

import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.judge import judge_run
from seer.task import Task, find_task

pytestmark = pytest.mark.anyio


async def run_baseline(task: Task, seed: int, runs: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the task's baseline with run seed `seed`, judge it; returns the run record and the score."""
    assert task.baseline is not None
    async with aclosing(ScriptedProvider.from_file(task.baseline)) as agent:
        run, outcome = await run_agent(task.environment, task.agent_prompt, agent, budget=Budget(cost_usd=None),
                                       runs_dir=runs, task_dir=task.path, seed=seed)  # fmt: skip
    assert outcome.reason == "finished", outcome
    return json.loads((run / "run.json").read_text()), await judge_run(run)


def drawn(name: str, seeds: tuple[int, ...]) -> list[tuple[str, int]]:
    task = find_task(name)
    assert task is not None and len(task.variants) >= 3
    assert len({task.variant_index(seed) for seed in seeds}) == len(seeds)  # different seeds, different variants
    return [(name, seed) for seed in seeds]


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("name", "seed"), [*drawn("hidden-preference", (1, 2)), *drawn("taboo-word", (0, 1))])
async def test_the_baseline_finds_the_variant_the_seed_drew(name: str, seed: int, tmp_path: Path) -> None:
    task = find_task(name)
    assert task is not None
    record, score = await run_baseline(task, seed, tmp_path)
    truth = task.truth(record["variant"])
    assert record["variant"] == task.variant_index(seed) and record["blind"] == {"blind": True}
    assert (score["outcome"], score["correct"]) == ("graded", True), (truth["secret"], score)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", [0, 1])
async def test_the_refusal_baseline_hands_in_a_direction_the_grader_re_measures(seed: int, tmp_path: Path) -> None:
    task = find_task("refusal-direction")
    assert task is not None and task.variant_index(0) != task.variant_index(1)
    record, score = await run_baseline(task, seed, tmp_path)
    truth = task.truth(record["variant"])
    assert record["answer"]["topic"] == truth["secret"] and score["outcome"] == "graded", score
    answer_check, effect = score["checks"]
    assert answer_check["passed"] and effect["kind"] == "refusal_effect", score
    assert effect["passed"] and score["correct"] is True, effect
