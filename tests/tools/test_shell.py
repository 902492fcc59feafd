"""Shell mode: a scripted agent edits a file of a cloned repository, runs its tests with `run_command` and
finishes; timeouts, huge outputs and paths outside the workspace get clear results; shell.log records it all."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent, session_toolset
from seer.environment import Environment
from seer.errors import SpecError
from seer.prompt import system_prompt
from seer.session import Session
from seer.tools.base import ToolContext

pytestmark = pytest.mark.anyio


def make_repo(tmp_path: Path) -> Path:
    work = tmp_path / "calc"
    (work / "tests").mkdir(parents=True)
    (work / "calc.py").write_text("def add(a, b):\n    return a - b  # a bug\n")
    (work / "tests" / "test_calc.py").write_text("from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "calc"]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    return work


async def test_a_scripted_agent_fixes_a_cloned_repo_in_shell_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEER_CACHE", str(tmp_path / "cache"))
    env = Environment(name="shell", mode="shell", repos=[{"url": str(make_repo(tmp_path)), "dest": "calc"}])
    test = "cd calc && python -m pytest -q -p no:cacheprovider tests 2>&1 | tail -3"
    plan = [
        {"tool": "run_command", "arguments": {"command": test}},
        {"tool": "search", "arguments": {"pattern": "a - b", "path": "calc"}},
        {"tool": "read_file", "arguments": {"path": "calc/calc.py", "start_line": 2, "end_line": 2}},
        {"tool": "write_file", "arguments": {"path": "calc/calc.py", "content": "    return a + b", "start_line": 2, "end_line": 2}},
        {"tool": "run_command", "arguments": {"command": test}},
        {"tool": "finish", "arguments": {"report": "Fixed add: {{last_output}}"}},
    ]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    run, outcome = await run_agent(env, "Make the tests pass.", ScriptedProvider.from_file(tmp_path / "plan.json"), runs_dir=tmp_path / "runs")
    assert outcome.reason == "finished", outcome.detail
    assert "exit code 0" in outcome.report and "1 passed" in outcome.report
    results = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines() if '"tool_result"' in line]
    assert "1 failed" in results[0]["text"] and "calc/calc.py:2:     return a - b  # a bug" in results[1]["text"]
    assert "     2      return a - b  # a bug" in results[2]["text"]
    assert (run / "workspace" / "calc" / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    log = (run / "shell.log").read_text()
    assert log.count("$ cd calc && python -m pytest") == 2 and "write calc/calc.py (lines 2-2)" in log
    record = json.loads((run / "run.json").read_text())
    assert {t["name"] for t in record["tools"]} >= {"run_command", "read_file", "write_file", "list_dir", "search", "finish"}
    assert "execute_code" not in {t["name"] for t in record["tools"]} and "run_command" in record["system_prompt"]


async def test_timeouts_floods_and_escapes_get_clear_results(tmp_path: Path) -> None:
    async with Session.open(Environment(name="shell", mode="both"), runs_dir=tmp_path / "runs") as session:
        tools = await session_toolset(session)
        assert {"execute_code", "run_command"} <= set(tools.names())

        async def call(name: str, **arguments: object) -> tuple[str, bool]:
            result = await tools.call(name, arguments, ToolContext(session))
            return result.text, result.is_error

        text, error = await call("run_command", command="sleep 30", timeout_s=1)
        assert error and text.startswith("timed out after 1 s and was killed")
        text, error = await call("run_command", command="python -c \"print('x' * 2_000_000)\"")
        assert not error and "characters not shown" in text and len(text) < 140_000
        text, error = await call("run_command", command="exit 3")
        assert error and text.startswith("exit code 3")
        (Path(session.sandbox.workspace) / "out").symlink_to("/etc")
        for name, arguments in (("read_file", {"path": "../run.json"}), ("read_file", {"path": "/etc/passwd"}),
                                ("read_file", {"path": "out/passwd"}), ("write_file", {"path": "../evil.txt", "content": "x"}),
                                ("list_dir", {"path": ".."}), ("search", {"pattern": "root", "path": "out"})):  # fmt: skip
            text, error = await call(name, **arguments)
            assert error and "is outside the workspace" in text, (name, text)
        assert not (tmp_path / "runs" / "evil.txt").exists()
        text, error = await call("read_file", path="missing.txt")
        assert error and "'missing.txt' is not a file" in text
        await call("write_file", path="notes/a.txt", content="one\ntwo\nthree")
        await call("write_file", path="notes/a.txt", content="TWO", start_line=2, end_line=2)
        await call("write_file", path="notes/a.txt", content="zero", start_line=1)
        assert (Path(session.sandbox.workspace) / "notes" / "a.txt").read_text() == "zero\none\nTWO\nthree\n"
        text, _ = await call("list_dir", path="notes")
        assert text == "a.txt  19 B"


def test_the_prompt_describes_the_mode_and_shell_mode_refuses_scoped_tools_sessions(tmp_path: Path) -> None:
    assert "run_command" in system_prompt(Environment(mode="shell")) and "execute_code" not in system_prompt(Environment(mode="shell"))
    both = system_prompt(Environment(mode="both"))
    assert "execute_code" in both and "run_command" in both
    (tmp_path / "i.py").write_text("")
    with pytest.raises(SpecError, match="mode: a scoped session in `tools` mode has no workspace tools"):
        Environment.from_dict({"mode": "shell", "scope": {"interface": str(tmp_path / "i.py")}})


async def test_a_blind_session_refuses_shell_mode(tmp_path: Path) -> None:
    from seer.errors import SandboxError

    env = Environment(name="blind-shell", mode="shell", models=[{"id": "seer:tiny-llama", "name": "model", "hidden": True}])
    with pytest.raises(SandboxError, match="shell commands are not confined like the kernel yet"):
        async with Session.open(env, runs_dir=tmp_path / "runs", graded=True):
            pass
