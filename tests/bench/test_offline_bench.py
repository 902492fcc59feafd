"""An offline bench from the command line: 2 tasks × 2 agents (each task's scripted baseline, and an
Anthropic-API agent against a loopback fake speaking the real wire format) × 2 configurations × 3 repeats,
2 at a time; stopped with SIGINT half-way and resumed; its summary checked against the run directories."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from seer.bench.runner import BENCH_STOP
from seer.bench.summary import wilson
from tests.agent.fake_llm import FakeLLM, Reply

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(1200)]

WORDS = {"alpha": "tea", "beta": "milk"}
BASELINE_SAYS = {"alpha": "tea", "beta": "water"}  # right on alpha, wrong on beta
HINT = "The words are tea for alpha and milk for beta."
RUBRIC = """summary = "Find the {name} word."
[answer]
word = {{ type = "string", description = "The word." }}
[[checks]]
kind = "answer"
field = "word"
"""


def make_tasks(root: Path) -> None:
    for name, word in WORDS.items():
        task = root / name
        task.mkdir(parents=True)
        (task / "task.md").write_text(f"Find the {name} word and hand it in as the answer.\n")
        (task / "rubric.toml").write_text(RUBRIC.format(name=name))
        (task / "ground_truth.json").write_text(json.dumps({"variants": [{"name": "only", "secret": word}]}))
        said = BASELINE_SAYS[name]
        plan = [{"tool": "execute_code", "arguments": {"code": f"print({said!r})"}},
                {"tool": "finish", "arguments": {"report": f"The word is {said} (cell 0).", "answer": {"word": said}}}]  # fmt: skip
        (task / "baseline.json").write_text(json.dumps(plan))
    skill = root / "hint"
    skill.mkdir()
    (skill / "SKILL.md").write_text(f"---\nname: hint\ndescription: {HINT}\n---\n# Hint\n{HINT}\n")


def brain(api: str, body: dict[str, Any]) -> Reply | int:
    """Right when the hint skill is in its prompt, wrong without it; on beta without it, a 400 (a failed run)."""
    system = " ".join(block["text"] for block in body["system"])
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    task = "alpha" if "alpha word" in text else "beta"
    hinted = HINT in system
    if task == "beta" and not hinted:
        return 400
    if not any(m["role"] == "assistant" for m in body["messages"]):
        return Reply(tool_calls=[("c0", "execute_code", {"code": "print('looking')"})])
    word = WORDS[task] if hinted else "coffee"
    return Reply(tool_calls=[("c1", "finish", {"report": f"The word is {word} (cell 0).", "answer": {"word": word}})])


def spec_text(url: str) -> str:
    return f"""
name = "offline"
tasks = ["alpha", "beta"]
repeats = 3
parallel = 2
[budget]
max_turns = 6
max_cost = 1.0
max_wall = 300
[total]
max_cost = 100.0
[[agents]]
name = "baseline"
provider = "scripted"
[[agents]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-6"
base_url = "{url}"
api_key_env = "SEER_TEST_KEY"
[base]
toolkit = false
[[configs]]
name = "plain"
[[configs]]
name = "hinted"
skills = ["hint"]
"""


def judged(bench: Path) -> int:
    try:
        return len((bench / "results.jsonl").read_text().splitlines())
    except OSError:
        return 0


async def bench_process(spec: Path, bench: Path) -> asyncio.subprocess.Process:
    environ = {**os.environ, "SEER_TEST_KEY": "test-key", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "bench", str(spec), "--dir", str(bench), env=environ,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


def expected(row: dict[str, Any]) -> tuple[str, bool | None]:
    """The outcome and correctness each run must have, from the brain and the baselines."""
    if row["agent"] == "baseline":
        return "graded", BASELINE_SAYS[row["task"]] == WORDS[row["task"]]
    if row["config"] == "plain":
        return ("failed_run", None) if row["task"] == "beta" else ("graded", False)
    return "graded", True


async def test_a_bench_stops_on_ctrl_c_resumes_and_its_summary_matches_the_runs(tmp_path: Path) -> None:
    make_tasks(tmp_path)
    bench = tmp_path / "bench-out"
    async with FakeLLM(brain) as llm:
        spec = tmp_path / "bench.toml"
        spec.write_text(spec_text(llm.url))
        first = await bench_process(spec, bench)
        with anyio.fail_after(600):
            while judged(bench) < 6:
                assert first.returncode is None, (await first.communicate())[0].decode()
                await asyncio.sleep(0.5)
        first.send_signal(signal.SIGINT)
        with anyio.fail_after(300):
            said = (await first.communicate())[0].decode()
        assert first.returncode == 130, said
        assert "[stopping" in said and "seer bench" in said
        done_first = judged(bench)
        assert 6 <= done_first < 24, said
        second = await bench_process(spec, bench)
        with anyio.fail_after(900):
            said = (await second.communicate())[0].decode()
        assert second.returncode == 0, said
        assert f"{done_first} of 24 runs already done" in said

    rows = [json.loads(line) for line in (bench / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and len({r["run"] for r in rows}) == 24
    for row in rows:
        assert (row["outcome"], row["correct"]) == expected(row), row
        record = json.loads((bench / "runs" / row["run"] / "run.json").read_text())
        assert (record.get("stop") or {}).get("detail") != BENCH_STOP  # every cut-off run ran again
    failed = [r for r in rows if r["outcome"] == "failed_run"]
    assert len(failed) == 3 and all(r["correct"] is None for r in failed)  # failures are never "wrong"

    # the summary, recomputed from the run directories alone
    summary = {(g["agent"], g["config"], g["task"]): g for g in csv.DictReader((bench / "summary.csv").read_text().splitlines())}
    assert len(summary) == 4 + 8
    for (agent, config, task), group in summary.items():
        runs = [bench / "runs" / r["run"] for r in rows if (r["agent"], r["config"]) == (agent, config) and task in ("all", r["task"])]
        scores = [json.loads((run / "score.json").read_text()) for run in runs]
        records = [json.loads((run / "run.json").read_text()) for run in runs]
        graded = [s for s in scores if s["outcome"] == "graded"]
        solved = sum(bool(s["correct"]) for s in graded)
        cost = sum(r["spent"]["cost_usd"] for r in records if r.get("spent"))
        assert (int(group["runs"]), int(group["graded"]), int(group["solved"])) == (len(runs), len(graded), solved)
        assert float(group["total_cost_usd"]) == pytest.approx(cost, abs=1e-6)
        if graded:
            low, high = wilson(solved, len(graded))
            assert (float(group["low"]), float(group["high"])) == pytest.approx((low, high))
            assert float(group["solve_rate"]) == pytest.approx(solved / len(graded))
        if solved:
            assert float(group["cost_per_solved_usd"]) == pytest.approx(cost / solved, abs=1e-6)
    assert summary[("claude", "plain", "all")]["failures"] == "failed_run=3"
    assert float(summary[("claude", "hinted", "all")]["gap"]) == pytest.approx(0.5)  # 100 % against the baseline's 50 %
    assert float(summary[("claude", "hinted", "all")]["total_cost_usd"]) > 0
    assert [line.startswith("| claude | hinted |") for line in (bench / "summary.md").read_text().splitlines()].count(True) == 1
    assert (bench / "solve_rate.png").stat().st_size > 1000

    # the bench as Inspect logs, read back with Inspect's own reader
    inspect_log = pytest.importorskip("inspect_ai.log")
    done = subprocess.run([sys.executable, "-m", "seer", "export", "inspect", str(bench), "--out", str(tmp_path / "logs")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    logs = [inspect_log.read_eval_log(str(p)) for p in sorted((tmp_path / "logs").glob("*.json"))]
    assert len(logs) == 8 and sum(len(log.samples) for log in logs) == 24
    by_run = {r["run"]: r for r in rows}
    for log in logs:
        assert sorted(s.epoch for s in log.samples) == [1, 2, 3]
        for sample in log.samples:
            row = by_run[sample.metadata["seer_run"]]
            value = "N" if row["outcome"] != "graded" else "C" if row["correct"] else "I"
            assert sample.scores["seer"].value == value and sample.target == ""
            assert sum(u.total_tokens for u in sample.model_usage.values()) == row["tokens"]

    # the same bench again by its folder: nothing left to run; then the summary rebuilt from the runs alone
    again = subprocess.run([sys.executable, "-m", "seer", "bench", str(bench)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "24 of 24 runs already done; 0 to judge, 0 to run" in again.stdout, again.stdout + again.stderr
    before = (bench / "summary.md").read_text()
    (bench / "summary.md").unlink()
    (bench / "results.jsonl").unlink()
    rebuilt = subprocess.run([sys.executable, "-m", "seer", "bench", str(bench), "--report-only"], capture_output=True, text=True, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (bench / "summary.md").read_text() == before and len((bench / "results.jsonl").read_text().splitlines()) == 24
