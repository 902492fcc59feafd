"""A run exported as an Inspect AI eval log loads with Inspect's own reader, its grade and usage intact,
and no hidden answer in it (the bench export is checked in `test_offline_bench.py`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from seer.bench.inspect_log import export_inspect
from seer.errors import SeerError
from seer.judge import judge_run
from seer.task import Task

inspect_log = pytest.importorskip("inspect_ai.log")

FIXTURES = Path(__file__).parents[1] / "fixtures"

pytestmark = pytest.mark.anyio


async def test_a_judged_run_exports_as_one_sample_with_its_outcome(tmp_path: Path) -> None:
    run = tmp_path / "run-seer.run-1"
    shutil.copytree(FIXTURES / "run-seer.run-1", run)
    with pytest.raises(SeerError, match="has no score.json: judge it first"):
        export_inspect(run, tmp_path / "logs")
    score = await judge_run(run, task=Task.load(FIXTURES / "word-task"))
    (path,) = export_inspect(run, tmp_path / "logs")
    log = inspect_log.read_eval_log(str(path))
    (sample,) = log.samples
    record = json.loads((run / "run.json").read_text())
    assert (log.status, log.eval.task, log.eval.model) == ("success", "word-task", "scripted/plan")
    assert score["outcome"] == "stopped" and sample.scores["seer"].value == "N"  # a failure is no answer, not a wrong one
    assert sample.error is not None and sample.error.message.startswith("stopped:")
    assert sample.model_usage["scripted/plan"].total_tokens == record["spent"]["tokens"]
    assert [m.role for m in sample.messages][:3] == ["system", "user", "assistant"]
    assert sample.messages[2].tool_calls[0].function == "execute_code"
    assert sample.target == "" and "tea" not in json.dumps(sample.metadata)
    with pytest.raises(SeerError, match="neither a run folder"):
        export_inspect(tmp_path, tmp_path / "logs")
