"""The bench pages in real headless Chromium: the list of benches, a bench's matrix filling in as a run
starts and ends (its folder written the way `seer bench` writes it), chips linking to the runs' pages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from seer.bench import load_bench, read_rows, write_summary
from seer.bench.runner import BENCH_FORMAT
from seer.run import now_iso
from tests.bench.test_offline_bench import make_tasks
from tests.viewer.browser import chrome, viewer_in_thread, wait

SPEC = """name = "page"
tasks = ["alpha", "beta"]
repeats = 2
[[agents]]
name = "baseline"
provider = "scripted"
"""


def write_run(bench: Path, run_id: str, *, status: str, outcome: str | None = None, correct: bool = False) -> None:
    """A run folder as the bench leaves it: `run.json` (with its `bench` cell), and `score.json` once judged."""
    task, agent, config, repeat = run_id.split(".")
    run = bench / "runs" / run_id
    run.mkdir(parents=True, exist_ok=True)
    record = {"format": "seer.run/1", "id": run_id, "status": status, "started_at": now_iso(), "pid": os.getpid(),
              "agent": {"provider": "scripted", "model": "plan"}, "task": f"Find the {task} word.", "seed": int(repeat),
              "bench": {"task": task, "agent": agent, "config": config, "repeat": int(repeat), "seed": int(repeat), "baseline": True},
              "spent": {"tokens": 0, "cost_usd": 0.0, "wall_s": 1.5}}  # fmt: skip
    if outcome is not None:
        record |= {"ended_at": now_iso(), "finished_at": now_iso()}
    (run / "run.json").write_text(json.dumps(record))
    if outcome is not None:
        score = {"format": "seer.score/2", "run": run_id, "task": task, "outcome": outcome, "correct": correct, "score": float(correct)}
        (run / "score.json").write_text(json.dumps(score))


def chips(driver: webdriver.Chrome) -> dict[str, str]:
    """Each chip's run id and state, read in one script (the matrix is redrawn on every update)."""
    return driver.execute_script("return Object.fromEntries([...document.querySelectorAll('a.chip')].map(a => [a.dataset.run, a.className.split(' ')[1]]))")


@pytest.fixture
def browser() -> webdriver.Chrome:
    driver = chrome()
    yield driver
    driver.quit()


def make_bench(root: Path) -> Path:
    """`root/benches/page`: a bench of 4 runs as `seer bench` leaves it half done (one solved, one failed)."""
    make_tasks(root)
    (root / "bench.toml").write_text(SPEC)
    spec = load_bench(root / "bench.toml")
    bench = root / "benches" / "page"
    (bench / "runs").mkdir(parents=True)
    (bench / "bench.json").write_text(json.dumps({"format": BENCH_FORMAT, "spec": spec.model_dump(mode="json"), "root": str(root)}))
    write_run(bench, "alpha.baseline.base.0", status="finished", outcome="graded", correct=True)
    write_run(bench, "beta.baseline.base.0", status="stopped", outcome="failed_run")
    write_summary(bench, "page", read_rows(bench), expected=4)
    return bench


def test_the_bench_page_shows_the_matrix_and_a_cell_fills_in(browser: webdriver.Chrome, tmp_path: Path) -> None:
    bench = make_bench(tmp_path)

    with viewer_in_thread(tmp_path / "runs", benches_dir=tmp_path / "benches") as printed:
        browser.get(printed)
        base = printed.split("?")[0]
        browser.get(f"{base}benches")
        row = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-bench="page"]'))[0]
        assert "2 / 4" in row.text

        browser.get(f"{base}bench/page")
        seen = wait(browser, lambda d: chips(d) if len(chips(d)) == 4 else None, 30)
        assert seen == {"page@alpha.baseline.base.0": "solved", "page@alpha.baseline.base.1": "pending",
                        "page@beta.baseline.base.0": "failed", "page@beta.baseline.base.1": "pending"}  # fmt: skip
        arms = browser.find_element(By.CSS_SELECTOR, "table.arms").text
        assert "1 failed_run" in arms and "100% [21%, 100%]" in arms  # the failure is not a wrong answer
        wait(browser, lambda d: d.execute_script("return [...document.querySelectorAll('.plots img')].every(i => i.complete && i.naturalWidth > 0) && document.querySelectorAll('.plots img').length == 2"))

        write_run(bench, "alpha.baseline.base.1", status="running")  # the run starts …
        wait(browser, lambda d: chips(d).get("page@alpha.baseline.base.1") == "running", 30)
        write_run(bench, "alpha.baseline.base.1", status="finished", outcome="graded", correct=False)  # … and is judged
        wait(browser, lambda d: chips(d).get("page@alpha.baseline.base.1") == "wrong", 30)
        assert "3 of 4 runs judged" in browser.find_element(By.CSS_SELECTOR, ".summary").text

        browser.find_element(By.CSS_SELECTOR, 'a.chip[data-run="page@alpha.baseline.base.0"]').click()
        wait(browser, lambda d: d.execute_script("return document.querySelector('.summary .status')?.textContent"))
        assert browser.current_url.endswith("/run/page@alpha.baseline.base.0")
