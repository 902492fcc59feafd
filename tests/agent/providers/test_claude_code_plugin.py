"""The Claude Code plugin in the repository root, loaded by the real Claude Code CLI (the one bundled with the
Claude Agent SDK) with a fake Anthropic API on loopback as its model: Claude Code sees the plugin's skills,
commands, subagent and MCP tools, and `/seer:investigate hidden-preference` runs to a `finish` with the
notebook on disk."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import claude_agent_sdk
import pytest

from seer.skills import packaged_skills
from seer.task import packaged_tasks
from tests.agent.fake_llm import Reply
from tests.agent.providers.test_claude_code import fake_claude
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio

REPO = Path(__file__).parents[3]
CLAUDE = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
HUB_TOOLS = [
    "list_tasks", "list_sessions", "start_session", "attach", "stop_session", "get_task", "execute_code", "add_markdown",
    "read_notebook", "edit_cell", "interrupt_kernel", "restart_kernel", "list_skills", "read_skill", "finish",
]  # fmt: skip
COMMAND = "/seer:investigate hidden-preference"


def tool(body: dict[str, Any], suffix: str) -> str:
    """The full name Claude Code gave the plugin's MCP tool `suffix` (mcp__plugin_<plugin>_<server>__<tool>)."""
    (name,) = [t["name"] for t in body.get("tools", []) if t.get("name", "").endswith(f"__{suffix}") and "seer" in t["name"]]
    return name


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block for message in body["messages"] if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"] if block.get("type") == "tool_result"
    ]  # fmt: skip


def mcp_tools_named(page: Path) -> list[str]:
    """The MCP tools a command's `allowed-tools` or the subagent's `tools` front matter names."""
    front = page.read_text().split("---")[1]
    return re.findall(r"\bmcp__[A-Za-z0-9_]+", front)


def investigator_brain(api: str, body: dict[str, Any]) -> Reply:
    """Plays Claude behind Claude Code: seeing the expanded /seer:investigate prompt, start a session on the task,
    run a cell, finish, then end the turn."""
    if not any(t.get("name", "").endswith("__start_session") for t in body.get("tools", [])):
        return Reply(text="ok")  # Claude Code's side requests (titles, quota checks)
    prompt = json.dumps(body["messages"][0]["content"])
    if "<command-name>/seer:investigate</command-name>" not in prompt or "start_session" not in prompt:
        return Reply(text="The /seer:investigate command did not arrive expanded.")
    step = len(tool_results(body))
    if step == 0:
        return Reply("Starting a session.", [("toolu_1", tool(body, "start_session"), {"task": "hidden-preference"})])
    if step == 1:
        return Reply("Computing.", [("toolu_2", tool(body, "execute_code"), {"code": "print(1+1)"})])
    if step == 2:
        report = {"report": "1 + 1 = 2 (cell 0).", "answer": {"topic": "arithmetic"}}  # the task grades a structured answer
        return Reply(tool_calls=[("toolu_3", tool(body, "finish"), report)])
    return Reply(text="Done: the report cites cell 0.")


def result_text(block: dict[str, Any]) -> str:
    """The tool's own text: the first text part (Claude Code appends <system-reminder> parts after it)."""
    content = block.get("content")
    return content if isinstance(content, str) else next(part["text"] for part in content if part.get("type") == "text")


@pytest.mark.timeout(600)
async def test_claude_code_loads_the_plugin_and_investigates_a_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"  # Claude Code's (and so the MCP server's) working directory: runs/ lands here
    work.mkdir()
    async with fake_claude(investigator_brain, tmp_path / "home", monkeypatch) as llm:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `seer` resolves for bin/seer-mcp
            "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
            "MCP_CONNECTION_NONBLOCKING": "false",  # the first request already lists the plugin's tools
            "ENABLE_TOOL_SEARCH": "false",  # and lists them whole, not deferred behind ToolSearch
            "MCP_TOOL_TIMEOUT": "480000",  # start_session loads SmolLM2 on CPU
        }  # fmt: skip
        args = [
            str(CLAUDE), "--plugin-dir", str(REPO), "-p", COMMAND, "--output-format", "stream-json", "--verbose",
            "--tools", "",  # no Bash, no file tools: only the plugin's MCP tools
            "--permission-mode", "dontAsk",  # nothing is asked: the command's allowed-tools are all that may run
            "--model", "claude-sonnet-4-6", "--max-budget-usd", "5", "--no-session-persistence",
        ]  # fmt: skip
        with anyio.fail_after(540):
            done = await anyio.run_process(args, cwd=work, env=env, check=False)
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, f"claude exited {done.returncode}\n{stderr[-4000:]}\n{stdout[-4000:]}"
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    (init,) = [m for m in messages if m.get("type") == "system" and m.get("subtype") == "init"]

    # What Claude Code sees of the plugin.
    assert {"name": "seer", "path": str(REPO)}.items() <= next(p for p in init["plugins"] if p["name"] == "seer").items()
    skills = {f"seer:{name}" for name in packaged_skills()}
    assert skills and skills <= set(init["skills"]), init["skills"]
    assert {"seer:investigate", "seer:setup", "seer:report"} <= set(init["slash_commands"]), init["slash_commands"]
    assert "seer:investigator" in init["agents"], init["agents"]
    assert {"name": "plugin:seer:seer", "status": "connected"}.items() <= init["mcp_servers"][0].items(), init["mcp_servers"]
    assert {f"mcp__plugin_seer_seer__{name}" for name in HUB_TOOLS} <= set(init["tools"]), init["tools"]
    named = {name for page in [*(REPO / "commands").glob("*.md"), *(REPO / "agents").glob("*.md")] for name in mcp_tools_named(page)}
    assert named and named <= set(init["tools"]), named - set(init["tools"])  # each allowed-tools / tools entry exists

    # The conversation: start_session, execute_code, finish, every call allowed and answered without error.
    (result,) = [m for m in messages if m.get("type") == "result"]
    assert (result["is_error"], result["permission_denials"], result["result"]) == (False, [], "Done: the report cites cell 0.")
    final = [body for api, body in llm.requests if len(tool_results(body)) == 3][-1]
    results = tool_results(final)
    assert not any(block.get("is_error") for block in results), json.dumps(results, indent=1)
    started, ran, finished = (result_text(block) for block in results)
    assert "hidden-preference" in started or "hidden preference" in started.lower(), started
    assert ran.startswith("[cell 0 · ok") and ran.split("\n")[1] == "2", ran
    assert finished.startswith("Report recorded"), finished

    # The run on disk: the hub server wrote runs/ under its working directory.
    (run,) = [p for p in (work / "runs").iterdir() if (p / "run.json").exists()]
    with anyio.fail_after(30):  # the server saves its last state as Claude Code closes it
        while json.loads((run / "run.json").read_text()).get("status") != "finished":
            await anyio.sleep(0.2)
    notebook = read_valid_notebook(run / "notebook.ipynb")
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source == "print(1+1)"]
    assert cell_text(cell) == "2\n"


def test_claude_code_validates_the_plugin_and_its_marketplace(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    for target in (REPO, REPO / ".claude-plugin" / "marketplace.json"):
        done = subprocess.run([str(CLAUDE), "plugin", "validate", str(target)], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Validation passed" in done.stdout, done.stdout + done.stderr


def test_the_launcher_says_how_to_install_seer_when_it_finds_none(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CLAUDE_PLUGIN_ROOT": str(tmp_path)}  # no seer on PATH, no .venv in the plugin
    done = subprocess.run([str(REPO / "bin" / "seer-mcp")], env=env, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (1, "")
    assert "Seer is not installed" in done.stderr and "make setup" in done.stderr and "pip install" in done.stderr


def test_the_plugin_names_no_task_secret() -> None:
    """A command or the subagent that named a task's answer would hand it to the investigating model."""
    secrets = set()
    for task in packaged_tasks().values():
        for variant in task.drawn:
            truth = task.truth(variant)
            secrets |= {truth["secret"], *truth.get("keywords", [])}
    assert secrets
    for page in [*(REPO / "commands").glob("*.md"), *(REPO / "agents").glob("*.md"), REPO / "docs" / "claude-code.md"]:
        text = page.read_text().lower()
        assert not [s for s in secrets if re.search(rf"\b{re.escape(s.lower())}\b", text)], page.name
