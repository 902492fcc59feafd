"""`seer run` and `seer chat` as a user runs them: targets, keys, budgets, a conversation on a pipe."""

import asyncio
import json
import sys
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from seer.record.transcript import read_events
from seer.cli import app
from tests.helpers import only_run

runner = CliRunner()


def write_plan(path: Path, steps: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"steps": steps}))
    return path


def test_run_on_a_task_folder_prints_where_everything_is(tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir()
    (task / "task.md").write_text("Compute 6 * 7.")
    (task / "env.toml").write_text('name = "folder-task"\ninit_code = "factor = 7"\n')
    plan = write_plan(tmp_path / "plan.json", [
        {"tool": "execute_code", "arguments": {"code": "print(6 * factor)"}},
        {"tool": "finish", "arguments": {"report": "42"}},
    ])  # fmt: skip
    result = runner.invoke(app, ["run", str(task), "--provider", "scripted", "--plan", str(plan), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run = only_run(tmp_path / "runs")
    assert "Stopped: finished" in result.output and f"Notebook:   {run / 'notebook.ipynb'}" in result.output
    record = json.loads((run / "run.json").read_text())
    assert record["task"] == "Compute 6 * 7." and record["environment"]["name"] == "folder-task"
    assert record["agent"]["plan"] == str(plan.resolve())


def test_parallel_runs_each_get_their_own_session_and_record(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.json", [
        {"tool": "execute_code", "arguments": {"code": "import os\nprint(os.getcwd())"}},
        {"tool": "finish", "arguments": {"report": "done"}},
    ])  # fmt: skip
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["run", "--task", "Where am I?", "--provider", "scripted", "--plan", str(plan), "--runs-dir", str(runs), "--parallel", "3"])
    assert result.exit_code == 0, result.output
    paths = sorted(p for p in runs.iterdir() if (p / "run.json").exists())
    assert len(paths) == 3 and [f"[{i}] finished: " in result.output for i in (1, 2, 3)] == [True] * 3
    workspaces = set()
    for path in paths:
        notebook = json.loads((path / "notebook.ipynb").read_text())
        workspaces.add(notebook["cells"][0]["outputs"][0]["text"].strip())
        assert json.loads((path / "run.json").read_text())["status"] == "finished"
    assert workspaces == {str(p / "workspace") for p in paths}


def test_a_missing_api_key_names_the_variable_and_the_keyless_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    result = runner.invoke(app, ["run", "--task", "x", "--model", "claude-sonnet-4-6", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "set ANTHROPIC_API_KEY in the environment or in a .env file" in result.output
    assert "--provider scripted" in result.output and "Traceback" not in result.output


def test_a_key_in_dot_env_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OPENROUTER_API_KEY=sk-or-from-dotenv\n")
    result = runner.invoke(app, ["run", "--task", "x", "--provider", "openrouter", "--model", "unpriced/model", "--runs-dir", str(tmp_path)])
    assert "no price is known for openai model 'unpriced/model'" in result.output  # got past the key check


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-turns", "lots"], "--max-turns 'lots' is not a number"),
        (["--max-cost", "-1"], "--max-cost must be positive"),
        (["--provider", "gpt"], "unknown LLM provider 'gpt'; choose one of: anthropic, openai"),
        (["--provider", "scripted"], "pass `--plan PLAN.json`"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", "--task", "x", "--runs-dir", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.anyio
async def test_chat_waits_for_the_researcher_and_carries_their_words_to_the_agent(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.json", [
        {"text": "Which layer should I probe?"},
        {"tool": "checkpoint", "arguments": {"question": "Is 6 right?"}},
        {"tool": "finish", "arguments": {"report": "probed layer 6"}},
    ])  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "chat", "--provider", "scripted", "--plan", str(plan), "--task", "Probe.",
        "--runs-dir", str(tmp_path / "runs"), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    with anyio.fail_after(60):
        out, err = await process.communicate(b"layer 6 please\nyes, 6\n")
    assert process.returncode == 0, err.decode()
    assert "agent> Which layer should I probe?" in out.decode() and "agent asks> Is 6 right?" in out.decode()
    events = read_events(only_run(tmp_path / "runs") / "transcript.jsonl")
    said = [e["text"] for e in events if e["kind"] == "user" and e["source"] == "researcher"]
    (checkpoint,) = [e for e in events if e["kind"] == "checkpoint"]
    assert said == ["layer 6 please"] and (checkpoint["answer"], checkpoint["answered_by"]) == ("yes, 6", "researcher")
    assert events[-1]["reason"] == "finished"


@pytest.mark.anyio
async def test_ctrl_c_in_chat_stops_the_running_cell_and_gives_the_researcher_the_floor(tmp_path: Path) -> None:
    from seer.agent.terminal import TerminalInteraction
    from seer.environment import Environment
    from seer.session import Session

    interaction = TerminalInteraction(read=lambda prompt: "my turn")
    async with Session.open(Environment(), runs_dir=tmp_path) as session:
        interaction.attach(session)
        async with anyio.create_task_group() as tasks:
            outcome: dict[str, str] = {}

            async def long_cell() -> None:
                outcome["status"] = (await session.execute("import time\nprint('busy', flush=True)\ntime.sleep(60)")).run.status

            tasks.start_soon(long_cell)
            with anyio.fail_after(15):
                while not session.notebook.cells or not session.notebook.cells[0]["outputs"]:
                    await anyio.sleep(0.05)
                await interaction.on_interrupt()
    assert outcome["status"] == "interrupted" and interaction.wants_to_speak()
    assert await interaction.next_message() == "my turn" and not interaction.wants_to_speak()
