"""The claude-code adapter: the options it passes, and a real Claude Code process (the CLI bundled with
the Claude Agent SDK) driving our MCP server, with a fake Anthropic API on loopback as its model."""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from seer.agent.budget import Budget
from seer.record.requests import request_stop
from seer.agent.providers import make_provider
from seer.agent.runner import agent_toolset, run_agent
from seer.record.transcript import read_events
from seer.environment import Environment
from tests.agent.fake_llm import FakeLLM, Reply
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio


def test_options_give_claude_code_our_server_and_tools_and_nothing_else() -> None:
    agent = make_provider("claude-code", "claude-sonnet-4-6")
    tools = agent_toolset()
    options = agent.options(
        url="http://127.0.0.1:9/mcp", token="tok", system="SYSTEM", tools=tools, budget=Budget(turns=7, cost_usd=2.0), cwd="/ws"
    )
    assert options.tools == []  # no Bash, no file edits, no web
    assert options.allowed_tools == [f"mcp__seer__{name}" for name in tools.names()]
    assert options.mcp_servers == {"seer": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer tok"}}}
    assert options.strict_mcp_config and options.permission_mode == "dontAsk" and options.setting_sources == []
    assert (options.system_prompt, options.model, options.max_turns, options.max_budget_usd) == ("SYSTEM", "claude-sonnet-4-6", 7, 2.0)
    opted_in = make_provider("claude-code", None, host_tools=True)
    assert opted_in.options(url="u", token="t", system="s", tools=tools, budget=Budget(), cwd="/").tools == {
        "type": "preset", "preset": "claude_code",
    }  # fmt: skip


def claude_brain(api: str, body: dict[str, Any]) -> Reply:
    """Plays Claude behind Claude Code: run a cell, then finish, then end the turn."""
    names = [tool.get("name") for tool in body.get("tools", [])]
    if "mcp__seer__execute_code" not in names:
        return Reply(text="ok")  # Claude Code's side requests (titles, quota checks)
    results = [
        block for message in body["messages"] if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"] if block.get("type") == "tool_result"
    ]  # fmt: skip
    if not results:
        return Reply("Computing.", [("toolu_1", "mcp__seer__execute_code", {"code": "answer = 6 * 7\nprint(answer)"})])
    if len(results) == 1:
        return Reply(tool_calls=[("toolu_2", "mcp__seer__finish", {"report": "6 * 7 = 42 (cell 0)"})])
    return Reply(text="Done.")


@asynccontextmanager
async def fake_claude(brain: Callable[[str, dict[str, Any]], Reply], home: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeLLM]:
    """A fake Anthropic API on loopback playing `brain`, with Claude Code pointed at it (and nothing else)."""
    home.mkdir()
    async with FakeLLM(brain) as llm:
        for key, value in {
            "ANTHROPIC_BASE_URL": llm.url, "ANTHROPIC_API_KEY": "sk-test", "HOME": str(home),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1",
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        yield llm


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """The investigation runs on each sandbox provider: this machine, a Jupyter server, a Ray cluster."""
    return parametrized_provider


async def test_claude_code_investigates_through_our_mcp_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_provider: Callable[[Environment], Environment]
) -> None:
    async with fake_claude(claude_brain, tmp_path / "home", monkeypatch) as llm:
        agent = make_provider("claude-code", "claude-sonnet-4-6")
        run, outcome = await run_agent(
            on_provider(Environment(name="cc")), "Compute 6*7.", agent, budget=Budget(turns=10, cost_usd=None, wall_s=90), runs_dir=tmp_path / "runs"
        )
    assert (outcome.reason, outcome.report) == ("finished", "6 * 7 = 42 (cell 0)")
    notebook = read_valid_notebook(run / "notebook.ipynb")
    assert cell_text(notebook.cells[0]) == "42\n"
    events = read_events(run / "transcript.jsonl")
    results = [e for e in events if e["kind"] == "tool_result"]
    assert [r["name"] for r in results] == ["execute_code", "finish"] and results[0]["text"].endswith("42\n")
    record = json.loads((run / "run.json").read_text())
    assert record["agent"]["provider"] == "claude-code" and record["status"] == "finished"
    sent = [body for api, body in llm.requests if "tools" in body and any(t.get("name") == "mcp__seer__execute_code" for t in body["tools"])]
    names = {tool["name"] for tool in sent[0]["tools"]}
    assert names == {f"mcp__seer__{name}" for name in agent_toolset().names()}  # no Bash, Read, Edit, WebFetch…


def sleepy_brain(api: str, body: dict[str, Any]) -> Reply:
    """Plays Claude behind Claude Code: start a cell that runs for a minute."""
    if "mcp__seer__execute_code" not in [tool.get("name") for tool in body.get("tools", [])]:
        return Reply(text="ok")
    return Reply(tool_calls=[("toolu_1", "mcp__seer__execute_code", {"code": "import time\nprint('started', flush=True)\ntime.sleep(60)"})])


async def test_a_claude_code_run_is_stopped_by_a_stop_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"

    async def stop_once_the_cell_runs() -> None:
        with anyio.fail_after(60):
            while not any("started" in p.read_text() for p in runs.glob("*/notebook.ipynb")):
                await anyio.sleep(0.1)
        request_stop(next(runs.glob("*/notebook.ipynb")).parent, "stopped from the viewer's page")

    async with fake_claude(sleepy_brain, tmp_path / "home", monkeypatch), anyio.create_task_group() as tasks:
        tasks.start_soon(stop_once_the_cell_runs)
        agent = make_provider("claude-code", "claude-sonnet-4-6")
        run, outcome = await run_agent(Environment(name="cc"), "Work.", agent, budget=Budget(turns=10, cost_usd=None, wall_s=90), runs_dir=runs)
    assert (outcome.reason, outcome.detail) == ("interrupted", "stopped from the viewer's page")
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "stopped" and record["stop"]["reason"] == "interrupted"
    assert read_events(run / "transcript.jsonl")[-1]["reason"] == "interrupted"
