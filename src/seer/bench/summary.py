"""What a bench found: per (agent, configuration) and per task, the solve rate with a 95 % Wilson
interval, mean score, costs, cost per solved task, median wall time, failures counted apart, and the gap
to each task's scripted baseline; as `summary.md`, `summary.csv` and PNG plots.

The solve rate is solved / graded: a run that failed (see `FAILURES`) is counted in its own column,
never as a wrong answer; `runs` counts both.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seer.bench.results import FAILURES
from seer.run import atomic_write

__all__ = ["Group", "audit_scores", "summarize", "wilson", "write_summary"]

_Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (95 % by default); (0, 1) for no trials."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Group:
    """The runs of one (agent, configuration), or one (task, agent, configuration)."""

    agent: str
    config: str
    task: str = "all"
    runs: int = 0
    graded: int = 0
    solved: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    solve_rate: float | None = None
    low: float = 0.0
    high: float = 1.0
    mean_score: float | None = None
    total_cost_usd: float = 0.0
    mean_cost_usd: float = 0.0
    cost_known: bool = True
    cost_per_solved_usd: float | None = None
    median_wall_s: float = 0.0
    baseline_rate: float | None = None
    """The scripted baseline's solve rate on the same tasks and configuration, where the tasks have one."""
    gap: float | None = None
    """`solve_rate - baseline_rate`."""

    @property
    def wrong(self) -> int:
        return self.graded - self.solved


def _group(rows: list[dict[str, Any]], agent: str, config: str, task: str = "all") -> Group:
    graded = [r for r in rows if r["outcome"] == "graded" and r["correct"] is not None]  # an audit is scored, not solved
    solved = sum(bool(r["correct"]) for r in graded)
    cost = sum(r["cost_usd"] for r in rows)
    low, high = wilson(solved, len(graded))
    scores = [r["score"] for r in graded if r["score"] is not None]
    return Group(
        agent=agent, config=config, task=task, runs=len(rows), graded=len(graded), solved=solved,
        failures=dict(sorted(Counter(r["outcome"] for r in rows if r["outcome"] in FAILURES).items())),
        solve_rate=solved / len(graded) if graded else None, low=low, high=high,
        mean_score=statistics.fmean(scores) if scores else None, total_cost_usd=round(cost, 6),
        mean_cost_usd=round(cost / len(rows), 6) if rows else 0.0, cost_known=all(r["cost_known"] for r in rows),
        cost_per_solved_usd=round(cost / solved, 6) if solved else None,
        median_wall_s=statistics.median(r["wall_s"] for r in rows) if rows else 0.0,
    )  # fmt: skip


def summarize(rows: list[dict[str, Any]]) -> tuple[list[Group], list[Group]]:
    """The groups by (agent, configuration) over all tasks, and by (task, agent, configuration)."""
    arms = sorted({(r["agent"], r["config"]) for r in rows}, key=lambda arm: (not _is_baseline(rows, arm[0]), arm))
    overall, per_task = [], []
    for agent, config in arms:
        mine = [r for r in rows if (r["agent"], r["config"]) == (agent, config)]
        group = _group(mine, agent, config)
        _against_baseline(group, rows, tasks={r["task"] for r in mine})
        overall.append(group)
        for task in sorted({r["task"] for r in mine}):
            one = _group([r for r in mine if r["task"] == task], agent, config, task)
            _against_baseline(one, rows, tasks={task})
            per_task.append(one)
    return overall, per_task


def _is_baseline(rows: list[dict[str, Any]], agent: str) -> bool:
    return any(r["baseline"] for r in rows if r["agent"] == agent)


def _against_baseline(group: Group, rows: list[dict[str, Any]], tasks: set[str]) -> None:
    if _is_baseline(rows, group.agent):
        return
    base = [r for r in rows if r["baseline"] and r["config"] == group.config and r["task"] in tasks and r["outcome"] == "graded"]
    if base and group.solve_rate is not None:
        group.baseline_rate = sum(bool(r["correct"]) for r in base) / len(base)
        group.gap = group.solve_rate - group.baseline_rate


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _usd(value: float | None, known: bool = True) -> str:
    return "—" if value is None else f"${value:.4f}" + ("" if known else " (partial)")


def _table(groups: list[Group], *, by_task: bool) -> list[str]:
    head = ["task"] * by_task + ["agent", "config", "runs", "solved", "wrong", "failed", "solve rate [95% CI]", "mean score",
                                 "total cost", "cost per solved", "median wall", "vs baseline"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in groups:
        failed = ", ".join(f"{n} {k}" for k, n in g.failures.items()) or "0"
        rate = "—" if g.solve_rate is None else f"{_pct(g.solve_rate)} [{_pct(g.low)}, {_pct(g.high)}]"
        gap = "—" if g.gap is None else f"{100 * g.gap:+.0f} pts (baseline {_pct(g.baseline_rate)})"
        cells = [g.task] * by_task + [g.agent, g.config, str(g.runs), str(g.solved), str(g.wrong), failed, rate,
                                      "—" if g.mean_score is None else f"{g.mean_score:.2f}", _usd(g.total_cost_usd, g.cost_known),
                                      _usd(g.cost_per_solved_usd, g.cost_known), f"{g.median_wall_s:.1f} s", gap]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def audit_scores(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (agent, configuration) and judging dimension: the mean, lowest and highest score of its graded audits."""
    scored = [r for r in rows if r.get("dimensions")]
    out = []
    for agent, config in sorted({(r["agent"], r["config"]) for r in scored}):
        mine = [r["dimensions"] for r in scored if (r["agent"], r["config"]) == (agent, config)]
        for dim in sorted({d for scores in mine for d in scores}):
            values = [scores[dim] for scores in mine if dim in scores]
            out.append({"agent": agent, "config": config, "dimension": dim, "audits": len(values),
                        "mean": round(statistics.fmean(values), 3), "min": min(values), "max": max(values)})  # fmt: skip
    return out


def _audit_table(rows: list[dict[str, Any]]) -> list[str]:
    """Dimensions as rows, each (agent, configuration) as a column: mean score [lowest–highest] of graded audits."""
    table = audit_scores(rows)
    if not table:
        return []
    arms = sorted({(t["agent"], t["config"]) for t in table})
    head = ["dimension"] + [f"{a} / {c}" for a, c in arms]
    lines = ["## Audit scores by agent and configuration", "",
             "Mean score (1–10) over graded audits [lowest–highest]; failed and empty audits are counted apart above.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # fmt: skip
    for dim in sorted({t["dimension"] for t in table}):
        cells = [dim]
        for arm in arms:
            hit = next((t for t in table if (t["agent"], t["config"]) == arm and t["dimension"] == dim), None)
            cells.append("—" if hit is None else f"{hit['mean']:.1f} [{hit['min']}–{hit['max']}] (n={hit['audits']})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _markdown(name: str, rows: list[dict[str, Any]], overall: list[Group], per_task: list[Group], plots: list[str], missing: int) -> str:
    spent = sum(r["cost_usd"] for r in rows)
    lines = [f"# Bench {name}", "", f"{len(rows)} judged runs" + (f", {missing} not run or not finished" if missing else "")
             + f"; ${spent:.4f} spent. Solve rate = solved / graded; failed runs are counted apart, never as wrong.", "",
             "## By agent and configuration", "", *_table(overall, by_task=False), "", "## By task", "",
             *_table(per_task, by_task=True), "", *_audit_table(rows)]  # fmt: skip
    for plot in plots:
        lines += [f"![{plot}]({plot})", ""]
    return "\n".join(lines)


def _csv(groups: list[Group]) -> str:
    out = io.StringIO()
    fields = [k for k in asdict(groups[0])] if groups else list(Group.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=[*fields, "wrong"], lineterminator="\n")
    writer.writeheader()
    for g in groups:
        row = asdict(g)
        row["failures"] = ";".join(f"{k}={n}" for k, n in g.failures.items())
        writer.writerow({**row, "wrong": g.wrong})
    return out.getvalue()


def _plots(bench_dir: Path, overall: list[Group]) -> list[str]:
    """Solve rate by arm with intervals, and cost against solve rate; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    graded = [g for g in overall if g.solve_rate is not None]
    if not graded:
        return []
    labels = [f"{g.agent}\n{g.config}" for g in graded]
    rates = [g.solve_rate or 0.0 for g in graded]
    errors = [[r - g.low for r, g in zip(rates, graded, strict=True)], [g.high - r for r, g in zip(rates, graded, strict=True)]]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(graded)), 3.5))
    ax.bar(range(len(graded)), rates, yerr=errors, capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(graded)), labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("solve rate (95% Wilson CI)")
    fig.tight_layout()
    fig.savefig(bench_dir / "solve_rate.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for g in graded:
        ax.scatter(g.mean_cost_usd, g.solve_rate, label=f"{g.agent} / {g.config}")
    ax.set_xlabel("mean cost per run ($)")
    ax.set_ylabel("solve rate")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(bench_dir / "cost_vs_solve.png", dpi=100)
    plt.close(fig)
    return ["solve_rate.png", "cost_vs_solve.png"]


def write_summary(bench_dir: Path, name: str, rows: list[dict[str, Any]], *, expected: int | None = None) -> Path:
    """Write `summary.md`, `summary.csv` (the per-arm and per-task groups) and the plots; returns the
    summary's path. `expected` is how many runs the bench has, to say how many are missing."""
    overall, per_task = summarize(rows)
    plots = _plots(bench_dir, overall)
    missing = max(0, (expected or len(rows)) - len(rows))
    atomic_write(bench_dir / "summary.csv", _csv(overall + per_task))
    if audited := audit_scores(rows):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(audited[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(audited)
        atomic_write(bench_dir / "audit_scores.csv", out.getvalue())
    path = bench_dir / "summary.md"
    atomic_write(path, _markdown(name, rows, overall, per_task, plots, missing))
    return path
