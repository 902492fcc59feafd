"""A bench's total limit is never passed: a run starts only if its own limit fits in what is left (here
tokens, with the Anthropic-API agent against the loopback fake); the spec is a Python file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seer.bench import load_bench, run_bench
from seer.errors import SeerError
from tests.agent.fake_llm import FakeLLM
from tests.bench.test_offline_bench import HINT, brain, make_tasks

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(600)]

SPEC = """
BENCH = {{
    "name": "tokens", "tasks": ["alpha"], "repeats": 5,
    "budget": {{"max_turns": 4, "max_tokens": 300, "max_cost": 1.0}},
    "total": {{"max_tokens": 1000}},
    "agents": [{{"name": "claude", "provider": "anthropic", "model": "claude-sonnet-4-6", "base_url": {url!r},
                "api_key_env": "SEER_TEST_KEY"}}],
    "base": {{"toolkit": False, "skills": ["hint"]}},
}}
"""


async def test_a_total_token_limit_stops_the_bench_before_it_is_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tasks(tmp_path)
    monkeypatch.setenv("SEER_TEST_KEY", "test-key")
    async with FakeLLM(brain) as llm:
        (tmp_path / "bench.py").write_text(SPEC.format(url=llm.url))
        spec = load_bench(tmp_path / "bench.py")
        result = await run_bench(spec, tmp_path / "out", root=tmp_path, say=lambda line: None)
        systems = [body["system"][0]["text"] for _, body in llm.requests]
    assert all(HINT in system for system in systems)  # the base's skill reached every run
    # each run uses 2 turns × 120 tokens; the fourth would have to hold 300 beyond the 720 used
    tokens = [json.loads((tmp_path / "out" / "runs" / r["run"] / "run.json").read_text())["spent"]["tokens"] for r in result.rows]
    assert tokens == [240, 240, 240] and sum(tokens) <= 1000
    assert result.cells == 5 and result.stopped is not None and "total.max_tokens 1000" in result.stopped
    assert "2 not run or not finished" in (tmp_path / "out" / "summary.md").read_text()


async def test_a_bench_folder_takes_more_repeats_but_not_another_bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tasks(tmp_path)
    monkeypatch.setenv("SEER_TEST_KEY", "test-key")
    async with FakeLLM(brain) as llm:
        (tmp_path / "bench.py").write_text(SPEC.format(url=llm.url).replace('"total": {"max_tokens": 1000},', "").replace('"repeats": 5', '"repeats": 1'))
        first = await run_bench(load_bench(tmp_path / "bench.py"), tmp_path / "out", root=tmp_path, say=lambda line: None)
        (tmp_path / "bench.py").write_text(SPEC.format(url=llm.url).replace('"total": {"max_tokens": 1000},', "").replace('"repeats": 5', '"repeats": 2'))
        lines: list[str] = []
        second = await run_bench(load_bench(tmp_path / "bench.py"), tmp_path / "out", root=tmp_path, say=lines.append)
        (tmp_path / "bench.py").write_text(SPEC.format(url=llm.url).replace('"max_turns": 4', '"max_turns": 5'))
        with pytest.raises(SeerError, match="differs in budget"):
            await run_bench(load_bench(tmp_path / "bench.py"), tmp_path / "out", root=tmp_path, say=lambda line: None)
    assert (first.cells, len(first.rows), second.cells, len(second.rows)) == (1, 1, 2, 2)
    assert lines[0] == "1 of 2 runs already done; 0 to judge, 1 to run"


async def test_a_run_that_cannot_begin_is_a_failed_run_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tasks(tmp_path)
    monkeypatch.delenv("SEER_TEST_KEY", raising=False)  # the agent's key is missing: its provider cannot be built
    (tmp_path / "bench.py").write_text(SPEC.format(url="http://127.0.0.1:9").replace('"total": {"max_tokens": 1000},', "").replace('"repeats": 5', '"repeats": 1'))
    result = await run_bench(load_bench(tmp_path / "bench.py"), tmp_path / "out", root=tmp_path, say=lambda line: None)
    (row,) = result.rows
    assert (row["outcome"], row["correct"], row["agent"], row["config"]) == ("failed_run", None, "claude", "base")
    assert "SEER_TEST_KEY" in row["detail"]
    record = json.loads((tmp_path / "out" / "runs" / row["run"] / "run.json").read_text())
    assert record["status"] == "failed" and record["bench"]["repeat"] == 0


def test_a_session_that_ended_while_starting_still_gets_its_cell_in_its_row(tmp_path: Path) -> None:
    """Under load a sandbox can fail inside `Session.start`: the run has ended before the bench recorded its cell,
    and a row without agent and configuration broke the summary (None sorted against a name)."""
    from seer.bench.results import row_of
    from seer.bench.runner import _failed_run
    from seer.bench.spec import Cell
    from seer.judge import write_score
    from seer.run import RunDir, now_iso
    from seer.task import Task

    make_tasks(tmp_path)
    task = Task.load(tmp_path / "alpha")
    cell = Cell(task="alpha", agent="claude", config="base", repeat=0, seed=7)
    folder = RunDir.create(tmp_path / "runs", "alpha", {"task_dir": str(task.path), "seed": 7}, run_id=cell.run_id)
    folder.update_record(status="failed", error="the sandbox did not start", ended_at=now_iso())
    _failed_run(folder.path, cell, task, "the sandbox did not start")
    write_score(folder.path, {"task": "alpha", "outcome": "failed_run", "detail": "x", "correct": False, "score": 0.0})
    row = row_of(folder.path)
    assert row is not None and (row["agent"], row["config"], row["outcome"]) == ("claude", "base", "failed_run")
    assert json.loads((folder.path / "run.json").read_text())["error"] == "the sandbox did not start"  # not overwritten
