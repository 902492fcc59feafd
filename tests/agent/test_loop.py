"""The loop against the scripted provider: finish, budgets, nudges, checkpoints, malformed calls, stop requests."""

import io
import json
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from seer.agent.budget import Budget
from seer.agent.loop import LoopOptions
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import resume_agent, run_agent
from seer.agent.terminal import event_printer
from seer.environment import Environment
from seer.record.requests import request_stop
from seer.record.transcript import read_events
from seer.viewer.runs import summarize
from tests.helpers import read_valid_notebook

pytestmark = pytest.mark.anyio

ENV = Environment(name="loop", timeouts={"cell_s": 20})


def call(tool: str, **arguments: object) -> dict[str, object]:
    return {"tool": tool, "arguments": arguments}


async def test_finish_ends_the_run_and_keeps_the_report(tmp_path: Path) -> None:
    agent = ScriptedProvider([call("execute_code", code="print(6 * 7)"), call("finish", report="the answer is 42")])
    run, outcome = await run_agent(ENV, "Compute 6*7.", agent, runs_dir=tmp_path)
    assert (outcome.reason, outcome.report) == ("finished", "the answer is 42")
    events = read_events(run / "transcript.jsonl")
    assert [e["kind"] for e in events] == ["user", "model_turn", "tool_result", "model_turn", "tool_result", "stopped"]
    assert events[2]["text"].endswith("42\n")
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["stop"]["reason"] == "finished"
    assert record["agent"]["provider"] == "scripted" and "scripted agent" in record["agent"]["note"]
    assert (run / "report.md").read_text() == "the answer is 42"


@pytest.mark.parametrize(
    ("budget", "limit"),
    [(Budget(turns=2, cost_usd=None), "turns"), (Budget(wall_s=1.0, cost_usd=None), "wall_s")],
    ids=["turns", "wall"],
)
async def test_a_budget_stops_the_run_after_asking_once_for_the_report(tmp_path: Path, budget: Budget, limit: str) -> None:
    steps = [call("execute_code", code="import time\ntime.sleep(0.6)\nprint('step')") for _ in range(10)]
    agent = ScriptedProvider(steps, final_report="partial findings")
    run, outcome = await run_agent(ENV, "Work.", agent, budget=budget, runs_dir=tmp_path)
    assert (outcome.reason, outcome.limit, outcome.report) == ("budget", limit, "partial findings")
    events = read_events(run / "transcript.jsonl")
    asked = [e for e in events if e["kind"] == "user" and e["source"] == "budget"]
    assert len(asked) == 1 and f"The {limit} budget is exhausted" in asked[0]["text"]
    assert events[-1]["kind"] == "stopped" and events[-1]["limit"] == limit
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "stopped" and record["stop"]["limit"] == limit and record["report"] == "partial findings"


async def test_only_finish_runs_once_the_budget_is_gone(tmp_path: Path) -> None:
    class Stubborn(ScriptedProvider):
        async def turn(self, request):  # type: ignore[no-untyped-def]
            return await super().turn(request.__class__(**{**vars(request), "final": False}))

    agent = Stubborn([call("execute_code", code="1")] * 5)
    run, outcome = await run_agent(ENV, "Work.", agent, budget=Budget(turns=1, cost_usd=None), runs_dir=tmp_path)
    assert outcome.reason == "budget" and outcome.report is None
    results = [e for e in read_events(run / "transcript.jsonl") if e["kind"] == "tool_result"]
    assert results[-1]["is_error"] and results[-1]["text"] == "The budget is exhausted; only `finish` runs now."
    assert len(read_valid_notebook(run / "notebook.ipynb").cells) == 1


async def test_an_agent_that_stops_acting_is_nudged_then_stopped(tmp_path: Path) -> None:
    agent = ScriptedProvider([{"text": "thinking"}] * 5)
    run, outcome = await run_agent(ENV, "Work.", agent, options=LoopOptions(max_nudges=2), runs_dir=tmp_path)
    assert outcome.reason == "no_action"
    nudges = [e for e in read_events(run / "transcript.jsonl") if e.get("source") == "nudge"]
    assert len(nudges) == 2


async def test_a_batch_checkpoint_gets_the_configured_reply_and_is_recorded(tmp_path: Path) -> None:
    agent = ScriptedProvider([call("checkpoint", question="Use layer 6?"), call("finish", report="done")])
    options = LoopOptions(checkpoint_reply="Yes, layer 6.")
    run, _ = await run_agent(ENV, "Work.", agent, options=options, runs_dir=tmp_path)
    events = read_events(run / "transcript.jsonl")
    (checkpoint,) = [e for e in events if e["kind"] == "checkpoint"]
    assert checkpoint == {**checkpoint, "question": "Use layer 6?", "answer": "Yes, layer 6.", "answered_by": "batch"}
    assert [e["text"] for e in events if e["kind"] == "tool_result"][0] == "Yes, layer 6."


async def test_bad_tool_calls_get_errors_the_model_can_act_on(tmp_path: Path) -> None:
    agent = ScriptedProvider(
        [call("execute_cod", code="1"), call("execute_code", code=5), call("finish", report="ok")], continue_on_error=True
    )
    run, outcome = await run_agent(ENV, "Work.", agent, runs_dir=tmp_path)
    results = [e for e in read_events(run / "transcript.jsonl") if e["kind"] == "tool_result"]
    assert results[0]["is_error"] and "There is no tool 'execute_cod'" in results[0]["text"]
    assert results[1]["is_error"] and "argument 'code': Input should be a valid string" in results[1]["text"]
    assert outcome.reason == "finished"


async def test_arguments_that_are_not_json_get_an_error_the_model_can_act_on(tmp_path: Path) -> None:
    from seer.agent.messages import Message, TurnResponse
    from seer.agent.providers.openai import _tool_call

    assert _tool_call("a", "execute_code", '{"code": "1"').malformed == '{"code": "1"'
    assert _tool_call("a", "execute_code", '["not", "an", "object"]').malformed is not None
    assert _tool_call("a", "execute_code", "").arguments == {}

    class Garbled(ScriptedProvider):
        async def turn(self, request):  # type: ignore[no-untyped-def]
            if not any(m.role == "assistant" for m in request.messages):
                return TurnResponse(Message("assistant", [_tool_call("g", "execute_code", "{code: 1")]))
            return await super().turn(request)

    run, outcome = await run_agent(ENV, "Work.", Garbled([{}, call("finish", report="ok")], continue_on_error=True), runs_dir=tmp_path)
    (first, _) = [e for e in read_events(run / "transcript.jsonl") if e["kind"] == "tool_result"]
    assert first["is_error"] and "not a JSON object: '{code: 1'" in first["text"] and outcome.reason == "finished"


async def _stop_when(run: list[Path], ready: Callable[[Path], bool], why: str = "stopped from the viewer's page") -> None:
    """Ask `run[0]` to stop (as the viewer's Stop button does) once `ready(run)` holds; bounded."""
    with anyio.fail_after(60):
        while not run or not ready(run[0]):
            await anyio.sleep(0.1)
    request_stop(run[0], why)


def _cell_started(run: Path) -> bool:
    return "started" in (run / "notebook.ipynb").read_text() if (run / "notebook.ipynb").exists() else False


async def test_a_stop_request_interrupts_the_running_cell_and_skips_the_calls_left(tmp_path: Path) -> None:
    sleeper = call("execute_code", code="import time\nprint('started', flush=True)\ntime.sleep(60)")
    agent = ScriptedProvider([{"calls": [sleeper, call("execute_code", code="print('never')")]}, call("finish", report="never")])
    run: list[Path] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_stop_when, run, _cell_started)
        path, outcome = await run_agent(ENV, "Work.", agent, runs_dir=tmp_path, on_session=lambda s: run.append(s.run.path))
    assert (outcome.reason, outcome.detail) == ("interrupted", "stopped from the viewer's page")
    first, second = [e for e in read_events(path / "transcript.jsonl") if e["kind"] == "tool_result"]
    assert "KeyboardInterrupt" in first["text"]
    assert second["is_error"] and second["text"] == "Not run: the run was stopped (stopped from the viewer's page)."
    record = json.loads((path / "run.json").read_text())
    assert record["status"] == "stopped" and record["stop"]["reason"] == "interrupted"
    assert summarize(path)["status"] == "stopped: researcher"  # type: ignore[index]
    assert "never" not in (path / "notebook.ipynb").read_text()


async def test_a_stop_during_a_model_call_abandons_the_call_and_a_resumed_run_goes_on(tmp_path: Path) -> None:
    class Slow(ScriptedProvider):
        async def turn(self, request):  # type: ignore[no-untyped-def]
            await anyio.sleep_forever()

    run: list[Path] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_stop_when, run, lambda p: (p / "transcript.jsonl").exists(), "enough")
        path, outcome = await run_agent(ENV, "Work.", Slow([]), runs_dir=tmp_path, on_session=lambda s: run.append(s.run.path))
    assert (outcome.reason, outcome.detail) == ("interrupted", "enough")
    assert [e["kind"] for e in read_events(path / "transcript.jsonl")] == ["user", "stopped"]
    resumed = await resume_agent(path, ScriptedProvider([call("finish", report="done after all")]))
    assert (resumed.reason, resumed.report) == ("finished", "done after all")  # the old stop request is not obeyed again


async def test_a_kernel_that_cannot_come_back_ends_the_run_as_an_error(tmp_path: Path) -> None:
    """The agent breaks its own kernel for good (a `sitecustomize` that exits, then a crash): the restart
    fails, the tool result says so, and the run stops with `error` instead of going on with dead tools."""
    breaks = ("import os, signal, sys\n"
              "os.makedirs('libs', exist_ok=True)\n"
              "open('libs/sitecustomize.py', 'w').write('raise SystemExit(3)\\n')\n"
              "os.kill(os.getpid(), signal.SIGKILL)")  # fmt: skip
    steps = [call("execute_code", code=breaks), call("execute_code", code="print('still here?')"), call("finish", report="done")]
    env = Environment(name="loop", timeouts={"cell_s": 20, "kernel_start_s": 15})
    run, outcome = await run_agent(env, "Break things.", ScriptedProvider(steps), runs_dir=tmp_path)
    assert outcome.reason == "error" and "the session cannot go on" in outcome.detail, outcome
    events = read_events(run / "transcript.jsonl")
    results = [e for e in events if e["kind"] == "tool_result"]
    assert len(results) == 1 and results[0]["is_error"], results
    assert events[-1]["kind"] == "stopped" and events[-1]["reason"] == "error"
    assert json.loads((run / "run.json").read_text())["stop"]["reason"] == "error"


async def test_a_long_cell_shows_its_progress_to_a_live_watcher_but_not_in_the_transcript(tmp_path: Path) -> None:
    seen: list[dict[str, object]] = []
    code = "import time\nfor i in range(4):\n    print('step', i, flush=True)\n    time.sleep(1)"
    agent = ScriptedProvider([call("execute_code", code=code), call("finish", report="done (cell 0)")])
    run, outcome = await run_agent(ENV, "Count.", agent, runs_dir=tmp_path, on_event=seen.append)
    progress = [e for e in seen if e["kind"] == "progress"]
    assert outcome.reason == "finished" and progress, [e["kind"] for e in seen]  # about three, one a second
    assert all(str(e["text"]).startswith("running for ") for e in progress)
    assert "progress" not in {e["kind"] for e in read_events(run / "transcript.jsonl")}


def test_the_terminal_rewrites_one_progress_line_and_a_log_gets_none() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    result = {"kind": "tool_result", "text": "[cell 0 · ok · 3.0 s]\nstep 2\n", "images": []}
    for out in (Terminal(), io.StringIO()):
        show = event_printer(out)
        show({"kind": "progress", "call_id": "c", "text": "running for 1 s: step 0"})
        show({"kind": "progress", "call_id": "c", "text": "running for 2 s: step 1"})
        show(result)
        printed = out.getvalue()
        if isinstance(out, Terminal):
            assert printed.count("\r\033[K  … running for") == 2 and printed.endswith("\r\033[K[cell 0 · ok · 3.0 s]\nstep 2\n")
        else:
            assert printed == "[cell 0 · ok · 3.0 s]\nstep 2\n"
