"""`seer demo` as a newcomer runs it: offline, scripted (and saying so), finds the planted preference of
whichever variant the run drew, and the judge marks it correct; an investigation that fails says so and
exits non-zero."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app
from seer.task import find_task


@pytest.mark.timeout(600)  # about 30 s alone; a loaded machine may take several times that
def test_the_demo_finds_the_hidden_preference_and_the_judge_agrees(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "SCRIPTED baseline (no LLM)" in result.output and "Watch the notebook grow:" in result.output
    (run,) = tmp_path.iterdir()
    score = json.loads((run / "score.json").read_text())
    assert (score["outcome"], score["correct"]) == ("graded", True)
    record = json.loads((run / "run.json").read_text())
    task = find_task("hidden-preference")
    assert task is not None
    assert task.truth(record["variant"])["secret"] in (run / "report.md").read_text() and "Correct: yes" in result.output
    assert record["agent"]["provider"] == "scripted" and record["task_dir"].endswith("hidden-preference")
    assert record["blind"] == {"blind": True}


@pytest.mark.timeout(600)
def test_a_demo_whose_first_cell_fails_says_the_investigation_failed_and_exits_non_zero(tmp_path: Path) -> None:
    plan = tmp_path / "failing.json"
    plan.write_text(json.dumps({"steps": [
        {"tool": "execute_code", "arguments": {"code": "raise TimeoutError('the machine was too busy')"}},
        {"tool": "finish", "arguments": {"report": "{{last_output}}", "answer": {"topic": "owls"}}},
    ]}))  # fmt: skip
    result = CliRunner().invoke(app, ["demo", "--runs-dir", str(tmp_path / "runs"), "--plan", str(plan)])
    assert result.exit_code == 1, result.output
    assert "The investigation FAILED (failed_run)" in result.output and "the machine was too busy" in result.output
    (run,) = (tmp_path / "runs").iterdir()
    score = json.loads((run / "score.json").read_text())
    assert (score["outcome"], score["correct"]) == ("failed_run", False)
    assert "step 0 (execute_code) failed" in score["detail"] and not (run / "report.md").exists()
