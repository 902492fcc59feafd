"""A run killed with SIGKILL, stopped with Ctrl-C or stopped in-process half-way resumes from its transcript, with its
kernel state restored (the last on every sandbox provider)."""

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import anyio
import pytest

from seer.agent.history import INTERRUPTED_CALL
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import resume_agent, run_agent
from seer.environment import Environment
from seer.record.requests import request_stop
from seer.record.transcript import read_events
from tests.helpers import cell_text, only_run, read_valid_notebook

pytestmark = pytest.mark.anyio

PLAN = {
    "steps": [
        {"tool": "execute_code", "arguments": {"code": "x = 41"}},
        {"tool": "execute_code", "arguments": {"code": "import time\nprint('long step', flush=True)\ntime.sleep(120)"}},
        {"tool": "execute_code", "arguments": {"code": "print(x + 1)"}},
        {"tool": "finish", "arguments": {"report": "x + 1 is 42 (cell 2)"}},
    ]
}


async def seer(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def test_a_killed_run_resumes_with_its_kernel_state_and_finishes(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN))
    runs = tmp_path / "runs"
    first = await seer("run", "--provider", "scripted", "--plan", str(plan), "--task", "Add one.", "--runs-dir", str(runs))
    try:
        with anyio.fail_after(60):
            while not runs.exists() or not any(runs.iterdir()) or "long step" not in _notebook_text(only_run(runs)):
                await anyio.sleep(0.1)
    finally:
        record = json.loads((only_run(runs) / "run.json").read_text()) if runs.exists() and any(runs.iterdir()) else {}
        for pid in (record.get("pid"), record.get("kernel_pid")):
            if pid:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        await first.wait()
    run = only_run(runs)
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # killed: nobody closed it

    second = await seer("resume", str(run))
    with anyio.fail_after(60):
        _, err = await second.communicate()
    assert second.returncode == 0, err.decode()

    events = read_events(run / "transcript.jsonl")
    results = [e for e in events if e["kind"] == "tool_result"]
    assert [r["name"] for r in results] == ["execute_code", "execute_code", "finish"]  # the killed call has none
    assert results[1]["text"].endswith("42\n")
    assert events[-1]["kind"] == "stopped" and events[-1]["reason"] == "finished"
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["resumes"] == 1
    assert [s["reason"] for s in record["setup"]][-1] == "replay" and record["setup"][-1]["cells_replayed"] == 1
    notebook = read_valid_notebook(run / "notebook.ipynb")
    assert [c.metadata.seer.status for c in notebook.cells] == ["ok", "interrupted", "ok"]
    assert cell_text(notebook.cells[2]) == "42\n"


def _notebook_text(run: Path) -> str:
    path = run / "notebook.ipynb"
    return path.read_text() if path.exists() else ""


async def test_the_rebuilt_conversation_answers_the_call_that_never_returned(tmp_path: Path) -> None:
    from seer.agent.history import rebuild
    from seer.agent.messages import ToolReturn

    events = [
        {"seq": 0, "kind": "user", "text": "task", "source": "task"},
        {"seq": 1, "kind": "model_turn", "text": "", "tool_calls": [{"id": "a", "name": "execute_code", "arguments": {"code": "1"}}],
         "spent": {"turns": 1, "input_tokens": 10, "output_tokens": 2, "cache_read_tokens": 0, "cache_write_tokens": 0,
                   "cost_usd": 0.5, "cost_known": True, "wall_s": 3.0}},
    ]  # fmt: skip
    messages, spent = rebuild(events, tmp_path)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    (answer,) = messages[2].content
    assert isinstance(answer, ToolReturn) and answer.is_error and answer.text == INTERRUPTED_CALL
    assert (spent.turns, spent.tokens, spent.cost_usd, spent.wall_s) == (1, 12, 0.5, 3.0)


async def test_ctrl_c_stops_a_batch_run_whole_and_it_resumes(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN))
    runs = tmp_path / "runs"
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "run", "--provider", "scripted", "--plan", str(plan), "--task", "Add one.", "--runs-dir", str(runs),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        with anyio.fail_after(60):
            while not runs.exists() or not any(runs.iterdir()) or "long step" not in _notebook_text(only_run(runs)):
                await anyio.sleep(0.1)
        first.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            out, err = await first.communicate()
    finally:
        with suppress(ProcessLookupError):
            first.kill()
    assert first.returncode == 0, err.decode()
    assert "[stopping: the running cell is interrupted" in out.decode() and "Stopped: interrupted (Ctrl-C in the terminal)" in out.decode()
    run = only_run(runs)
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "stopped" and record["stop"] == {**record["stop"], "reason": "interrupted", "detail": "Ctrl-C in the terminal"}
    assert [c.metadata.seer.status for c in read_valid_notebook(run / "notebook.ipynb").cells] == ["ok", "interrupted"]

    second = await seer("resume", str(run))
    with anyio.fail_after(60):
        _, err = await second.communicate()
    assert second.returncode == 0, err.decode()
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    assert cell_text(read_valid_notebook(run / "notebook.ipynb").cells[-1]) == "42\n"


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """The in-process resume test runs on each sandbox provider: this machine, a Jupyter server, a Ray cluster."""
    return parametrized_provider


async def test_a_stopped_run_resumes_in_its_own_sandbox_on_every_provider(
    tmp_path: Path, on_provider: Callable[[Environment], Environment]
) -> None:
    steps = PLAN["steps"]
    run: list[Path] = []

    async def stop_in_the_long_step() -> None:
        with anyio.fail_after(60):
            while not run or "long step" not in _notebook_text(run[0]):
                await anyio.sleep(0.1)
        request_stop(run[0], "enough for now")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(stop_in_the_long_step)
        path, outcome = await run_agent(
            on_provider(Environment(name="resume")), "Add one.", ScriptedProvider(steps), runs_dir=tmp_path,
            on_session=lambda session: run.append(session.run.path),
        )  # fmt: skip
    assert (outcome.reason, outcome.detail) == ("interrupted", "enough for now")
    resumed = await resume_agent(path, ScriptedProvider(steps))
    assert (resumed.reason, resumed.report) == ("finished", "x + 1 is 42 (cell 2)")
    notebook = read_valid_notebook(path / "notebook.ipynb")
    assert [c.metadata.seer.status for c in notebook.cells] == ["ok", "interrupted", "ok"]
    assert cell_text(notebook.cells[2]) == "42\n"  # x came back from the replay, in the provider's new kernel


def test_a_torn_last_line_is_set_aside_before_the_next_event_is_appended(tmp_path: Path) -> None:
    from seer.record.transcript import Transcript, read_events

    path = tmp_path / "transcript.jsonl"
    path.write_text('{"seq": 0, "kind": "user", "text": "task"}\n{"seq": 1, "kind": "model_tu')
    transcript = Transcript(tmp_path)
    transcript.append("user", text="after a kill", source="resume")
    events = read_events(path)
    assert [(e["seq"], e["kind"], e["text"]) for e in events] == [(0, "user", "task"), (1, "user", "after a kill")]
    assert all(line.startswith("{") and line.endswith("}") for line in path.read_text().splitlines())
    (kept,) = (tmp_path / "artifacts").glob("transcript-torn-*.jsonl")
    assert kept.read_text() == '{"seq": 1, "kind": "model_tu'


async def test_a_budget_stopped_run_resumed_with_a_higher_max_turns_finishes(tmp_path: Path) -> None:
    # a scripted plan's step N answers the call with N assistant messages before it; the budget stop's own
    # report turn is one of them, so step 1 is never reached
    steps = [{"tool": "execute_code", "arguments": {"code": "x = 41"}}, {"tool": "execute_code", "arguments": {"code": "print('never')"}},
             {"tool": "execute_code", "arguments": {"code": "print(x + 1)"}}, {"tool": "finish", "arguments": {"report": "x + 1 is 42 (cell 1)"}}]  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps({"steps": steps}))
    first = await seer("run", "--task", "Add one.", "--provider", "scripted", "--plan", str(tmp_path / "plan.json"),
                       "--max-turns", "1", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    await first.wait()
    run = only_run(tmp_path / "runs")
    assert json.loads((run / "run.json").read_text())["stop"]["reason"] == "budget"
    raised = await seer("resume", str(run), "--max-turns", "10")
    _, err = await raised.communicate()
    assert raised.returncode == 0, err.decode()[-2000:]
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["budget"]["turns"] == 10
    assert [(r["from"]["turns"], r["to"]["turns"]) for r in record["budget_raises"]] == [(1, 10)]
    notes = [e["text"] for e in read_events(run / "transcript.jsonl") if e["kind"] == "user" and e["source"] == "budget"]
    assert notes[-1] == "The run's budget was changed on resume (turns 1 -> 10; None is no limit). Continue."
    assert "42" in cell_text(read_valid_notebook(run / "notebook.ipynb")["cells"][1])
