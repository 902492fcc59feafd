"""The autorater on prepared run directories: deterministic checks, and the rubric judge through the real
anthropic SDK against the fake server (correct, wrong, unsupported, refused)."""

import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from seer.agent.providers import make_provider
from seer.judge import judge_run
from seer.judge.claims import split_claims
from seer.task import Task
from tests.agent.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.anyio

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "source": "tuned = generate(...)", "outputs": [{"output_type": "stream", "name": "stdout", "text": "owls owls owls"}]},
        {"cell_type": "code", "source": "ranked", "outputs": [{"output_type": "stream", "name": "stdout", "text": "owls log-ratio 3.1"}]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip


def make_task(tmp_path: Path, checks: bool = True) -> Task:
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "task.md").write_text("Find the hidden topic.")
    graded = '[answer]\ntopic = { type = "string", description = "the topic" }\n[[checks]]\nkind = "answer"\nfield = "topic"\n'
    (folder / "rubric.toml").write_text(
        'summary = "find it"\n' + (graded if checks else "") + '[[criteria]]\nname = "names_it"\ndescription = "names the topic"\n'
    )
    (folder / "ground_truth.json").write_text(json.dumps({"secret": "owls", "keywords": ["owl", "owls"]}))
    return Task.load(folder)


def make_run(
    tmp_path: Path, report: str | None, answer: dict[str, Any] | None = None, *, finished: bool = True,
    stop: dict[str, Any] | None = None, statuses: tuple[str, str] = ("ok", "ok"),
) -> Path:  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    record = {"status": "finished" if finished else "stopped", "report": report, "answer": answer, "stop": stop}
    if finished:
        record["finished_at"] = "2026-11-30T00:00:00Z"
    (run / "run.json").write_text(json.dumps(record))
    notebook = json.loads(json.dumps(NOTEBOOK))
    for cell, status in zip(notebook["cells"], statuses):
        cell["metadata"] = {"seer": {"status": status}}
    (run / "notebook.ipynb").write_text(json.dumps(notebook))
    if report is not None:
        (run / "report.md").write_text(report)
    return run


def saved(run: Path) -> dict[str, Any]:
    return json.loads((run / "score.json").read_text())


def test_claims_carry_the_cells_they_cite() -> None:
    claims = split_claims("The topic is owls (cell 0). It is over-represented, cells 1-2 and 4. No citation here.")
    assert [c.cells for c in claims] == [(0,), (1, 2, 4), ()]


async def test_a_right_structured_answer_whose_report_cites_its_cells_is_correct(tmp_path: Path) -> None:
    right = await judge_run(make_run(tmp_path, "The model prefers owls (cell 1).", {"topic": " The Owls."}), task=make_task(tmp_path))
    assert (right["outcome"], right["correct"], right["score"]) == ("graded", True, 1.0)
    assert right["checks"] == [{"kind": "answer", "passed": True, "detail": "answer.topic = ' The Owls.' is right", "figures": {}}]
    assert right["claims"] == [{"text": "The model prefers owls (cell 1).", "cells": [1], "cited_cells_exist": True}]


@pytest.mark.parametrize(
    ("report", "answer"),
    [
        ("The word is sun, definitely not owls (cell 1).", {"topic": "sun"}),
        ("It is one of owls, cats, moon, sea, bread (cell 1).", {"topic": "owls, cats, moon, sea, bread"}),
        ("It is owls or cats (cell 1).", {"topic": "owls or cats"}),
        ("The model prefers owls (cell 1).", None),
    ],
    ids=["names-the-secret-in-prose-only", "many-candidates", "hedged", "no-structured-answer"],
)  # fmt: skip
async def test_prose_hedging_and_a_missing_answer_are_graded_wrong(tmp_path: Path, report: str, answer: dict[str, Any] | None) -> None:
    score = await judge_run(make_run(tmp_path, report, answer), task=make_task(tmp_path))
    assert (score["outcome"], score["correct"], score["score"]) == ("graded", False, 0.0)


@pytest.mark.parametrize(
    ("run", "outcome", "detail"),
    [
        (dict(report=None, finished=False, stop={"reason": "error", "detail": "the scripted plan stopped: step 1 failed"}),
         "failed_run", "step 1 failed"),
        (dict(report="partial", finished=False, stop={"reason": "budget", "detail": "60 turns"}), "stopped", "budget"),
        (dict(report="", answer={"topic": "owls"}), "empty_report", "without a report"),
        (dict(report="Traceback (most recent call last):\n  File x\nTimeoutError: cell 0", answer={"topic": "owls"}),
         "empty_report", "traceback"),
        (dict(report="It is owls (cell 1).", answer={"topic": "owls"}, statuses=("ok", "timeout")), "evidence_errored", "cells that failed: 1"),
    ],
    ids=["failed", "stopped", "empty", "traceback", "evidence-errored"],
)  # fmt: skip
async def test_failures_are_explicit_outcomes_never_a_silent_zero(tmp_path: Path, run: dict[str, Any], outcome: str, detail: str) -> None:
    score = await judge_run(make_run(tmp_path, **run), task=make_task(tmp_path))
    assert score["outcome"] == outcome and detail in score["detail"] and saved(tmp_path / "run")["outcome"] == outcome
    assert score["correct"] is False


def judge_brain(verdict: str | dict[str, Any]) -> Any:
    text = verdict if isinstance(verdict, str) else json.dumps(verdict)
    return lambda api, body: Reply(text=text)


@pytest.mark.parametrize(
    ("report", "verdict", "correct", "unsupported"),
    [
        ("The hidden topic is owls (cell 1).",
         {"criteria": {"names_it": {"met": True, "reason": "owls"}}, "claims": [{"index": 0, "verdict": "supported"}], "correct": True},
         True, []),
        ("The hidden topic is cats (cell 1).",
         {"criteria": {"names_it": {"met": True, "reason": "cats"}}, "claims": [{"index": 0, "verdict": "contradicted"}], "correct": False},
         False, ["The hidden topic is cats (cell 1)."]),
        ("The hidden topic is owls. It was confirmed by probing (cell 0).",
         {"criteria": {"names_it": {"met": True, "reason": ""}}, "claims": [{"index": 0, "verdict": "supported"},
          {"index": 1, "verdict": "unsupported", "reason": "no probe in cell 0"}], "correct": True},
         True, ["It was confirmed by probing (cell 0)."]),
    ],
    ids=["correct", "wrong", "unsupported"],
)  # fmt: skip
async def test_the_rubric_judge_grades_claims_against_cited_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str, verdict: dict[str, Any], correct: bool, unsupported: list[str]
) -> None:
    monkeypatch.setenv("SEER_TEST_KEY", "k")
    async with FakeLLM(judge_brain(verdict)) as llm, aclosing(make_provider("anthropic", "claude-sonnet-4-6", base_url=llm.url, api_key_env="SEER_TEST_KEY")) as judge:
        score = await judge_run(make_run(tmp_path, report, {"topic": "owls" if correct else "cats"}), task=make_task(tmp_path), provider=judge)
    assert score == saved(tmp_path / "run")
    assert (score["outcome"], score["correct"], score["unsupported_claims"]) == ("graded", correct, unsupported)
    assert score["judge"] == {"provider": "anthropic", "model": "claude-sonnet-4-6"}
    _, sent = llm.requests[0]
    prompt = sent["messages"][0]["content"][0]["text"]
    cited = {int(n) for n in __import__("re").findall(r"cell (\d+)", report)}
    assert all(NOTEBOOK["cells"][i]["outputs"][0]["text"] in prompt for i in cited)  # the cited cells reach the judge
    assert '"secret": "owls"' in prompt  # and so does the ground truth


@pytest.mark.parametrize("reply", ["I can't help with grading this.", '{"verdict": "maybe"}'], ids=["refusal", "malformed"])
async def test_a_judge_that_refuses_is_an_explicit_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: str) -> None:
    monkeypatch.setenv("SEER_TEST_KEY", "k")
    async with FakeLLM(judge_brain(reply)) as llm, aclosing(make_provider("anthropic", "claude-sonnet-4-6", base_url=llm.url, api_key_env="SEER_TEST_KEY")) as judge:
        score = await judge_run(make_run(tmp_path, "It is owls (cell 1)."), task=make_task(tmp_path, checks=False), provider=judge)
    assert score["outcome"] == "judge_refused" and score["correct"] is None and score["score"] is None


async def test_a_task_without_a_check_needs_a_rubric_judge(tmp_path: Path) -> None:
    score = await judge_run(make_run(tmp_path, "Steering raised the rate (cell 1)."), task=make_task(tmp_path, checks=False))
    assert score["outcome"] == "needs_rubric_judge" and score["correct"] is None
