"""The steering baseline, run as a user would on the packaged task: it builds a difference-in-means
sentiment vector, picks a layer and strength by a small sweep, measures it against no steering and a
same-norm random vector, and hands in an answer that the re-measuring grader passes on held-out prompts."""

import json
from contextlib import aclosing
from pathlib import Path

import pytest

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.judge import judge_run
from seer.task import find_task

pytestmark = pytest.mark.anyio


@pytest.mark.timeout(600)
async def test_the_steering_baseline_hands_in_a_vector_the_grader_passes(tmp_path: Path) -> None:
    task = find_task("steering")
    assert task is not None and task.baseline is not None
    async with aclosing(ScriptedProvider.from_file(task.baseline)) as agent:
        run, outcome = await run_agent(task.environment, task.agent_prompt, agent, budget=Budget(cost_usd=None),
                                       runs_dir=tmp_path, task_dir=task.path)  # fmt: skip
    assert outcome.reason == "finished", outcome
    assert "without steering" in (outcome.report or "") and "(cell 3)" in (outcome.report or "")

    score = await judge_run(run)
    assert score["outcome"] == "graded", score
    assert score["answer"]["vector"] == "steering_vector.pt" and isinstance(score["answer"]["layer"], int)
    (check,) = [c for c in score["checks"] if c["kind"] == "steering_effect"]
    rates = check["figures"]["positive_rate"]
    print(f"\nanswer {score['answer']}\n{check['detail']}")  # shown with -s
    assert rates["steered"] > rates["unsteered"] and rates["steered"] > rates["random_max"], json.dumps(check)
    assert check["passed"] and score["correct"] is True, check["detail"]
