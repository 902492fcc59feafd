"""Benchmarks: tasks × agents × configurations × repeats, each cell an ordinary run judged as it ends,
summarised with intervals and cost per solved task.

- `spec`: the bench as data (`BenchSpec`, loaded from TOML or Python) and its cells;
- `runner`: runs the cells, a few at a time, under a total budget; resumable;
- `results`: one row per cell, read from the run directories alone;
- `summary`: solve rates with Wilson intervals, costs, the gap to each task's scripted baseline, as
  `summary.md`, `summary.csv` and plots.
"""

from seer.bench.results import read_rows
from seer.bench.runner import run_bench
from seer.bench.spec import BenchSpec, Cell, load_bench
from seer.bench.summary import summarize, write_summary

__all__ = ["BenchSpec", "Cell", "load_bench", "read_rows", "run_bench", "summarize", "write_summary"]
