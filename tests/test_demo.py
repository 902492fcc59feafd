"""`seer demo` as a newcomer runs it: offline, scripted (and saying so), finds the planted preference,
and the judge marks it correct."""

import json
from pathlib import Path

from typer.testing import CliRunner

from seer.cli import app


def test_the_demo_finds_the_hidden_preference_and_the_judge_agrees(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "SCRIPTED baseline (no LLM)" in result.output and "Watch the notebook grow:" in result.output
    (run,) = tmp_path.iterdir()
    score = json.loads((run / "score.json").read_text())
    assert (score["outcome"], score["correct"]) == ("graded", True)
    assert "owls" in (run / "report.md").read_text() and "Correct: yes" in result.output
    record = json.loads((run / "run.json").read_text())
    assert record["agent"]["provider"] == "scripted" and record["task_dir"].endswith("hidden-preference")
