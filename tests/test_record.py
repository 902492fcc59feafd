"""The run record through `seer.record`: typed events and `run.json`, one writer that refuses malformed
events, one torn-line-safe reader, and a run directory written by an earlier build (a committed fixture)
that still loads, resumes and judges."""

from __future__ import annotations

import shutil
from contextlib import aclosing
from pathlib import Path

import pytest
from pydantic import ValidationError

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import resume_agent
from seer.errors import SeerError
from seer.judge import judge_run
from seer.record.events import ModelTurn, Stopped, ToolResult, UserMessage
from seer.record.reference import reference
from seer.record.run_record import read_run
from seer.record.transcript import Transcript, parse_lines, read_events, read_typed, tail_events
from seer.task import Task
from tests.fixtures.make_run import FIXTURE, RESUME_STEPS, TASK

pytestmark = pytest.mark.anyio


def test_the_fixture_run_loads_typed() -> None:
    record = read_run(FIXTURE)
    assert (record.id, record.status) == ("run-seer.run-1", "stopped")
    assert record.stop is not None and record.stop["reason"] == "no_action" and record.agent is not None
    events = read_typed(FIXTURE / "transcript.jsonl")
    assert [type(e) for e in events[:3]] == [UserMessage, ModelTurn, ToolResult] and isinstance(events[-1], Stopped)
    assert events[1].tool_calls[0].name == "execute_code" and "tea" in events[2].text
    assert [e.seq for e in events] == list(range(len(events)))


async def test_the_fixture_run_resumes_and_judges(tmp_path: Path) -> None:
    run = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, run)
    async with aclosing(ScriptedProvider(RESUME_STEPS)) as agent:
        outcome = await resume_agent(run, agent, budget=Budget(cost_usd=None))
    assert outcome.reason == "finished" and outcome.report == "The word is tea (cell 0).", outcome
    record = read_run(run)
    assert record.status == "finished" and record.answer == {"word": "tea"}
    assert isinstance(read_typed(run / "transcript.jsonl")[-1], Stopped)
    score = await judge_run(run, task=Task.load(TASK))
    assert (score["outcome"], score["correct"]) == ("graded", True), score


def test_the_writer_refuses_an_event_that_is_not_in_the_schema(tmp_path: Path) -> None:
    transcript = Transcript(tmp_path)
    transcript.append("user", text="hello", source="task")
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        transcript.append("usr", text="typo in the kind")
    with pytest.raises(ValidationError, match="source"):
        transcript.append("user", text="no source")
    with pytest.raises(ValidationError, match="is_error"):
        transcript.append("tool_result", call_id="c", name="execute_code", text="", images=[], duration_s=None)
    assert [e["seq"] for e in read_events(tmp_path / "transcript.jsonl")] == [0]  # nothing half-written


def test_every_reader_skips_a_torn_last_line_the_same_way(tmp_path: Path) -> None:
    transcript = Transcript(tmp_path)
    for n in range(3):
        transcript.append("user", text=f"line {n}", source="task")
    path = tmp_path / "transcript.jsonl"
    whole = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(b'{"seq": 3, "kind": "us')  # the writer was killed mid-line
    assert len(read_events(path)) == len(read_typed(path)) == len(parse_lines(path.read_bytes())) == 3
    events, start = tail_events(path, limit=2)
    assert [e["text"] for e in events] == ["line 1", "line 2"] and 0 < start < len(whole)
    Transcript(tmp_path).append("user", text="after the crash", source="resume")  # the torn bytes move aside
    assert [e["seq"] for e in read_events(path)] == [0, 1, 2, 3]


def test_a_folder_that_is_not_a_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(SeerError, match="not a run directory"):
        read_run(tmp_path)
    (tmp_path / "run.json").write_text('{"id": "x", "pid": "not a number"}')
    with pytest.raises(SeerError, match=r"not a Seer run record \(status: Field required; pid: Input should be a valid integer"):
        read_run(tmp_path)


def test_the_record_reference_page_is_current() -> None:
    """docs/record.md is generated from the classes: regenerate it with `python -m seer.record.reference`."""
    page = Path(__file__).parents[1] / "docs" / "record.md"
    assert page.read_text() == reference()
