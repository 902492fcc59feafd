"""A task's structured answer: `finish` shows its shape and refuses an answer that does not fit; the run
records it; a scripted plan can hand in what its cells computed; a failing step stops the plan."""

import json
from contextlib import aclosing
from pathlib import Path

import pytest

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent, session_toolset
from seer.answer import AnswerShape
from seer.environment import Environment
from seer.session import Session
from seer.task import Task
from seer.tools.base import ToolContext

pytestmark = pytest.mark.anyio

SHAPE = AnswerShape.from_table({"word": {"type": "string", "description": "the word"},
                                "layer": {"type": "integer", "description": "a layer"}}, "test")  # fmt: skip


def task_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "task.md").write_text("Say a word.")
    (folder / "rubric.toml").write_text('[answer]\nword = { type = "string", description = "the word" }\n[[checks]]\nkind = "answer"\nfield = "word"\n')
    (folder / "ground_truth.json").write_text(json.dumps({"variants": [{"name": "a", "secret": "alpha"}, {"name": "b", "secret": "beta"}]}))
    return folder


async def test_finish_shows_the_answer_shape_and_refuses_answers_that_do_not_fit(tmp_path: Path) -> None:
    async with Session.open(runs_dir=tmp_path, answer=SHAPE) as session:
        tools = await session_toolset(session)
        schema = tools.get("finish").input_schema  # type: ignore[union-attr]
        assert schema["required"] == ["report", "answer"]
        assert schema["properties"]["answer"]["properties"]["layer"] == {"type": "integer", "description": "a layer"}
        ctx = ToolContext(session)
        for answer, said in [(None, "needs a structured answer"), ({"word": "x"}, "missing layer"),
                             ({"word": ["a", "b"], "layer": 1}, "answer.word must be a string"),
                             ({"word": "x", "layer": 1, "why": 2}, "unknown why"), ({"word": " ", "layer": 1}, "is empty")]:  # fmt: skip
            result = await tools.call("finish", {"report": "done", "answer": answer}, ctx)
            assert result.is_error and said in result.text, (answer, result.text)
        assert not (await tools.call("finish", {"report": "done", "answer": {"word": "x", "layer": 3}}, ctx)).is_error
        assert session.run.read_record()["answer"] == {"word": "x", "layer": 3}


def test_an_array_field_is_a_non_empty_list_of_objects() -> None:
    shape = AnswerShape.from_table({"rates": {"type": "array", "description": "one per layer"}}, "test")
    assert shape.json_schema()["properties"]["rates"] == {"type": "array", "description": "one per layer", "items": {"type": "object"}}
    assert shape.check({"rates": [{"layer": 3, "rate": 0.5}]}) is None
    assert shape.check({"rates": []}) == "answer.rates is empty"
    assert shape.check({"rates": [0.5]}) == "answer.rates must be a list of objects"
    assert shape.check({"rates": "0.5"}) == "answer.rates must be an array, not str"


async def test_two_seeds_draw_two_variants_and_a_plan_hands_in_what_its_cell_computed(tmp_path: Path) -> None:
    plan = [{"tool": "execute_code", "arguments": {"code": "import json; print(json.dumps({'report': 'It is alpha (cell 0).', 'answer': {'word': 'alpha'}}))"}},
            {"tool": "finish", "arguments": {"report": "{{last_output.report}}", "answer": "{{last_output.answer}}"}}]  # fmt: skip
    folder = task_folder(tmp_path)
    variants = []
    for seed in (0, 1):
        async with aclosing(ScriptedProvider(plan)) as agent:
            run, outcome = await run_agent(Task.load(folder).environment, "Say a word.", agent,
                                           budget=Budget(cost_usd=None), runs_dir=tmp_path / "runs", task_dir=folder, seed=seed)  # fmt: skip
        record = json.loads((run / "run.json").read_text())
        assert outcome.reason == "finished" and record["answer"] == {"word": "alpha"} and record["seed"] == seed
        variants.append(record["variant_name"])
    assert variants == ["a", "b"]


async def test_a_scripted_plan_stops_at_its_first_failing_cell_unless_told_to_go_on(tmp_path: Path) -> None:
    steps = [{"tool": "execute_code", "arguments": {"code": "1 / 0"}}, {"tool": "finish", "arguments": {"report": "{{last_output}}"}}]
    async with aclosing(ScriptedProvider(steps)) as agent:
        _, outcome = await run_agent(Environment(), "t", agent,
                                     budget=Budget(cost_usd=None), runs_dir=tmp_path)  # fmt: skip
    assert outcome.reason == "error" and "step 0 (execute_code) failed" in outcome.detail and "ZeroDivisionError" in outcome.detail
    async with aclosing(ScriptedProvider(steps, continue_on_error=True)) as agent:
        _, outcome = await run_agent(Environment(), "t", agent,
                                     budget=Budget(cost_usd=None), runs_dir=tmp_path)  # fmt: skip
    assert outcome.reason == "finished" and "ZeroDivisionError" in (outcome.report or "")
