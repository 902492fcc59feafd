"""`seer fork`: a new run continues from turn N of a finished one with the parent's kernel state (replayed from
the notebook cells those turns made), on the local and the Jupyter server providers; the parent is unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from seer.agent.fork import fork_run, turn_of_cell
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import resume_agent, run_agent
from seer.environment import Environment
from seer.errors import SeerError
from seer.record.transcript import read_events
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio

PARENT = [
    {"tool": "execute_code", "arguments": {"code": "x = 41"}},
    {"tool": "execute_code", "arguments": {"code": "y = x + 1"}},
    {"tool": "execute_code", "arguments": {"code": "print(y)"}},
    {"tool": "finish", "arguments": {"report": "y is 42 (cell 2)"}},
]
FORK = [*PARENT[:2], {"tool": "execute_code", "arguments": {"code": "print(y * 10)"}},
        {"tool": "finish", "arguments": {"report": "the fork found {{last_output}}"}}]  # fmt: skip


@pytest.mark.parametrize("provider", ["local", "jupyter"])
async def test_a_fork_continues_from_a_turn_with_the_parents_kernel_state(tmp_path: Path, on_provider: Callable[[Environment], Environment]) -> None:
    parent, outcome = await run_agent(on_provider(Environment(name="fork")), "Compute y.", ScriptedProvider(PARENT), runs_dir=tmp_path)
    assert outcome.reason == "finished"
    before = {name: (parent / name).read_bytes() for name in ("transcript.jsonl", "notebook.ipynb", "run.json")}

    child = fork_run(parent, at_turn=2)
    record = json.loads((child / "run.json").read_text())
    assert record["parent"]["run"] == parent.name and record["parent"]["at_turn"] == 2
    assert [e["kind"] for e in read_events(child / "transcript.jsonl")] == ["user", "model_turn", "tool_result", "model_turn", "tool_result"]
    assert [cell_text(c) for c in read_valid_notebook(child / "notebook.ipynb").cells] == ["", ""]  # x = 41, y = x + 1

    resumed = await resume_agent(child, ScriptedProvider(FORK), note="Forked; continue.")
    assert resumed.reason == "finished" and resumed.report == "the fork found 420"
    notebook = read_valid_notebook(child / "notebook.ipynb")
    assert [c.source for c in notebook.cells] == ["x = 41", "y = x + 1", "print(y * 10)"]  # y came back from the replay
    assert {name: (parent / name).read_bytes() for name in before} == before  # the parent is unchanged


async def test_fork_from_the_command_line_at_a_cell_with_an_instruction(tmp_path: Path) -> None:
    parent, _ = await run_agent(Environment(name="fork"), "Compute y.", ScriptedProvider(PARENT), runs_dir=tmp_path)
    assert turn_of_cell(read_events(parent / "transcript.jsonl"), json.loads((parent / "notebook.ipynb").read_text()), 1) == 2
    (tmp_path / "fork.json").write_text(json.dumps({"steps": FORK}))
    done = subprocess.run([sys.executable, "-m", "seer", "fork", str(parent), "--at-cell", "1", "--plan", str(tmp_path / "fork.json"),
                           "--add-instruction", "Multiply by ten.", "--run-id", "child"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    child = tmp_path / "child"
    record = json.loads((child / "run.json").read_text())
    assert record["status"] == "finished" and record["report"] == "the fork found 420" and record["parent"]["run"] == parent.name
    said = [(e["source"], e["text"]) for e in read_events(child / "transcript.jsonl") if e["kind"] == "user"][1:]
    assert said[0][0] == "resume" and "forked from" in said[0][1] and said[1] == ("researcher", "Multiply by ten.")
    with pytest.raises(SeerError, match="has 4 model turns"):
        fork_run(parent, at_turn=9)
