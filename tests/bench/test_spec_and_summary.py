"""A bench spec is checked at load like an environment; the summary's arithmetic (Wilson intervals, cost
per solved task, failures apart from wrong answers, the gap to the baseline) on rows with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seer.bench import load_bench, summarize
from seer.bench.summary import wilson, write_summary
from seer.errors import SpecError

SPEC = """
name = "skills"
tasks = ["steering", "taboo-word"]
repeats = 2
[budget]
max_cost = 1.0
[total]
max_cost = 10.0
[judge]
provider = "anthropic"
model = "claude-sonnet-4-6"
[[agents]]
name = "baseline"
provider = "scripted"
[[agents]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-6"
[base]
skills = ["logit-lens"]
toolkit = false
[[configs]]
name = "plain"
[[configs]]
name = "steer"
skills = ["steering"]
toolkit = true
"""


def test_a_config_is_the_base_plus_its_changes_and_cells_pair_agents_on_one_seed(tmp_path: Path) -> None:
    (tmp_path / "bench.toml").write_text(SPEC)
    spec = load_bench(tmp_path / "bench.toml")
    assert spec.judge is not None and (spec.judge.provider, spec.judge.model) == ("anthropic", "claude-sonnet-4-6")
    plain, steer = spec.configurations()
    assert (plain.skills, plain.toolkit) == (["logit-lens"], False)
    assert (steer.skills, steer.toolkit) == (["logit-lens", "steering"], True)
    cells = spec.cells(spec.load_tasks(tmp_path))
    assert len(cells) == 2 * 2 * 2 * 2  # both packaged tasks have a scripted baseline
    assert {c.seed for c in cells if c.repeat == 1} == {1}
    assert cells[0].run_id == "steering.baseline.plain.0"
    env = steer.environment(spec.load_tasks(tmp_path)["steering"].environment)
    assert [p.name for p in env.skills][-2:] == ["logit-lens", "steering"] and env.toolkit


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "baseline"', 'name = "claude"', "agents: two are named 'claude'"),
        ("[total]\nmax_cost = 10.0", "[total]\nmax_tokens = 5", "total.max_tokens needs budget.max_tokens"),
        ("repeats = 2", "repeats = 2\nparallel = 0", "parallel: Input should be greater than or equal to 1"),
        ('name = "steer"', 'name = "bad name"', r"configs\[1\]\.name: 'bad name' is not a short name"),
        ("[base]", "[base]\nskillz = []", "base.skillz: unknown field; did you mean 'skills'\\? known fields: env, libraries, methodology, name, sandbox, scope, skills, style_guide, toolkit"),
    ],
)
def test_mistakes_are_named_at_load(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SPEC
    (tmp_path / "bench.toml").write_text(SPEC.replace(old, new, 1))
    with pytest.raises(SpecError, match=message):
        load_bench(tmp_path / "bench.toml")


def test_an_unknown_task_is_named(tmp_path: Path) -> None:
    (tmp_path / "bench.toml").write_text(SPEC.replace('"taboo-word"', '"no-such-task"'))
    with pytest.raises(SpecError, match="task 'no-such-task' is neither a packaged task"):
        load_bench(tmp_path / "bench.toml").load_tasks(tmp_path)


def test_wilson_intervals_match_the_textbook() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    low, high = wilson(6, 6)
    assert round(low, 4) == 0.6097 and high == 1.0


def _row(agent: str, outcome: str, correct: bool | None, cost: float, *, task: str = "t", baseline: bool = False) -> dict[str, object]:
    return {"run": f"{task}.{agent}.{outcome}", "task": task, "agent": agent, "config": "c", "baseline": baseline,
            "outcome": outcome, "correct": correct, "score": None if correct is None else float(correct), "cost_usd": cost,
            "cost_known": True, "tokens": 10, "wall_s": 2.0}  # fmt: skip


def test_failed_runs_are_counted_apart_and_cost_per_solved_uses_every_run(tmp_path: Path) -> None:
    rows = [
        _row("base", "graded", True, 0.0, baseline=True), _row("base", "graded", False, 0.0, baseline=True),
        _row("claude", "graded", True, 0.5), _row("claude", "graded", True, 0.5), _row("claude", "graded", False, 0.5),
        _row("claude", "failed_run", None, 0.5), _row("claude", "stopped", None, 1.0),
    ]  # fmt: skip
    rows = [dict(r, run=f"r{i}") for i, r in enumerate(rows)]
    (base, claude), per_task = summarize(rows)
    assert (base.agent, base.solve_rate, base.gap) == ("base", 0.5, None)
    assert (claude.runs, claude.graded, claude.solved, claude.wrong) == (5, 3, 2, 1)
    assert claude.failures == {"failed_run": 1, "stopped": 1}
    assert claude.solve_rate == pytest.approx(2 / 3) and (claude.low, claude.high) == pytest.approx(wilson(2, 3))
    assert claude.total_cost_usd == pytest.approx(3.0) and claude.cost_per_solved_usd == pytest.approx(1.5)
    assert claude.baseline_rate == 0.5 and claude.gap == pytest.approx(2 / 3 - 0.5)
    assert [g.task for g in per_task] == ["t", "t"]
    summary = write_summary(tmp_path, "demo", rows, expected=9).read_text()
    assert "2 not run or not finished" in summary and "| claude | c | 5 | 2 | 1 | 1 failed_run, 1 stopped | 67% [21%, 94%]" in summary
    assert "+17 pts (baseline 50%)" in summary
    csv_head = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert csv_head.startswith("agent,config,task,runs,graded,solved,failures,solve_rate,low,high")
    assert json.dumps(rows)  # rows stay plain data
