"""`seer mcp` with no environment: a real MCP client starts sessions on a task and on an inline environment,
works in them, finishes, and stops them; progress arrives while the models load."""

import json
import re
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from seer.task import find_task
from tests.helpers import read_valid_notebook, stdio_seer, text_of

pytestmark = pytest.mark.anyio

LOAD_S = 600
"""Loading the task's two SmolLM2 models on a loaded 2-core machine."""


async def test_a_client_starts_a_task_finishes_it_starts_another_and_stops_both(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    task = find_task("hidden-preference")
    assert task is not None
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with stdio_seer(runs, hub=True) as client:
        with anyio.fail_after(LOAD_S):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            catalog = text_of(await client.call_tool("list_tasks", {}))
            early = await client.call_tool("execute_code", {"code": "1"})
            started = await client.call_tool("start_session", {"task": "hidden-preference", "seed": 0}, progress_callback=on_progress)
            briefing = text_of(await client.call_tool("get_task", {}))
            ran = await client.call_tool("execute_code", {"code": "print(type(model).__name__, len(base_tokenizer) > 0)"})
            finished = await client.call_tool("finish", {"report": "Owls (cell 0).", "answer": {"topic": "owls"}})
            after = await client.call_tool("execute_code", {"code": "print('too late')"})
            second = await client.call_tool("start_session", {"environment": {"name": "scratch"}, "question": "Try things."})
            scratch = await client.call_tool("execute_code", {"code": "6 * 7"})
            named = await client.call_tool("execute_code", {"code": "1", "session": "hidden-preference"})
            sessions = text_of(await client.call_tool("list_sessions", {}))
            stopped = [text_of(await client.call_tool("stop_session", {"session": "hidden-preference"})),
                       text_of(await client.call_tool("stop_session", {}))]  # fmt: skip
            left = text_of(await client.call_tool("list_sessions", {}))

    assert {"list_tasks", "list_sessions", "start_session", "attach", "stop_session", "get_task", "execute_code", "finish"} <= tools
    assert "checkpoint" not in tools  # this client cannot answer an elicitation
    assert "hidden-preference" in catalog and "steering" in catalog
    assert early.is_error and "start_session" in text_of(early)

    assert not started.is_error, text_of(started)
    for shown in (text_of(started), briefing):
        assert task.agent_prompt.strip() in shown
        assert "`model` with `model_tokenizer` (identity hidden)" in shown and "`base` with `base_tokenizer`" in shown
        assert "- `steer(model, vectors, *, layers=None" in shown  # the toolkit's cheat-sheet
        assert "finish(report, answer={topic: ...})" in shown
        assert not re.search(r"\bowls?\b", shown.lower()) and "seer:hidden-preference-" not in shown  # the organism stays hidden
    assert any(step.startswith("starting the kernel") for step in progress)
    assert any("loading `model`, `base`" in step for step in progress), progress

    assert text_of(ran).endswith(" True\n") and not ran.is_error, text_of(ran)
    assert not finished.is_error, text_of(finished)
    assert after.is_error and "the investigation is finished" in text_of(after)
    assert not second.is_error and "Try things." in text_of(second)
    assert text_of(scratch).endswith("42\n")
    assert named.is_error and "finished" in text_of(named)
    assert "- hidden-preference: hidden-preference · finished" in sessions and "- scratch (current): scratch · ready" in sessions
    assert "stopped (finished, 1 cells)" in stopped[0] and "scratch" in stopped[1] and "(closed, 1 cells)" in stopped[1]
    assert left.startswith("No sessions")

    records = {json.loads(p.read_text())["environment"]["name"]: json.loads(p.read_text()) for p in runs.glob("*/run.json")}
    graded, free = records["hidden-preference"], records["scratch"]
    assert graded["status"] == "finished" and graded["task_dir"] == str(task.path) and graded["seed"] == 0
    assert graded["answer"] == {"topic": "owls"} and graded["agent"]["provider"] == "mcp" and graded["graded"]
    assert free["status"] == "closed" and free["task"] == "Try things." and not free["graded"]
    notebook = read_valid_notebook(Path(graded["id"]).name and runs / graded["id"] / "notebook.ipynb")
    assert [cell.source for cell in notebook.cells] == ["print(type(model).__name__, len(base_tokenizer) > 0)"]  # nothing after finish


async def test_checkpoint_asks_the_person_behind_the_client_by_elicitation(tmp_path: Path) -> None:
    asked: list[str] = []

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"answer": "use layer 6"})

    async with stdio_seer(tmp_path, elicitation_callback=answer, mode="legacy") as client:
        with anyio.fail_after(60):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            reply = await client.call_tool("checkpoint", {"question": "Which layer should I steer?"})
    assert "checkpoint" in tools
    assert text_of(reply) == "use layer 6" and asked == ["Which layer should I steer?"]


async def test_a_bad_start_names_the_problem_and_holds_nothing(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path, hub=True) as client:
        with anyio.fail_after(60):
            unknown = await client.call_tool("start_session", {"task": "no-such-task"})
            both = await client.call_tool("start_session", {"task": "steering", "env_file": "x.toml"})
            invalid = await client.call_tool("start_session", {"environment": {"name": "x", "modles": []}})
            sessions = text_of(await client.call_tool("list_sessions", {}))
    assert unknown.is_error and "hidden-preference" in text_of(unknown)  # the list of tasks
    assert both.is_error and "exactly one of" in text_of(both)
    assert invalid.is_error and "modles" in text_of(invalid)
    assert sessions.startswith("No sessions") and not list(tmp_path.glob("*/run.json"))
