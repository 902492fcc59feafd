"""The viewer on a large run: time to first render and bytes sent, in headless Chromium, against what
loading the whole run would move.

    python bench/viewer_render.py [--cells 500] [--transcript-mb 20] [--repeat 3]

Builds a finished run with `--cells` code cells (every fifth with a 30 kB figure) and a transcript of
`--transcript-mb`, serves `seer view` over it on 127.0.0.1, and opens its page `--repeat` times in
Debian's headless Chromium with a cleared cache. First render is the page's `seer:cells-rendered`
mark (navigation start → the cells around the active one drawn); bytes are the transfer sizes of every
request the page made by then (plus its figures in view). The baseline is the run's notebook and
transcript as stored, which a viewer that loads everything at once would send, and the time this
process takes merely to read and parse them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from tests.viewer.browser import chrome, first_render, viewer_in_thread  # noqa: E402
from tests.viewer.runs import make_large_run  # noqa: E402
from tool_latency import machine, percentile  # noqa: E402



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--transcript-mb", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/viewer_render.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder)
        run = anyio.run(lambda: make_large_run(runs_dir, cells=args.cells, transcript_mb=args.transcript_mb))
        files = [run.path / "notebook.ipynb", run.path / "transcript.jsonl"]
        stored = sum(f.stat().st_size for f in files)
        began = time.perf_counter()
        json.loads(files[0].read_text())
        [json.loads(line) for line in files[1].read_text().splitlines()]
        parse_ms = (time.perf_counter() - began) * 1000
        with viewer_in_thread(runs_dir) as printed:
            url = printed.split("?")[0]
            driver = chrome()
            try:
                driver.get(printed)  # the secret moves into a cookie
                samples = [first_render(driver, f"{url}run/{run.id}") for _ in range(args.repeat)]
            finally:
                driver.quit()
    renders = [s["first_render_ms"] for s in samples]
    report = {
        "machine": machine(), "cells": args.cells, "stored_bytes": stored, "baseline_read_parse_ms": round(parse_ms, 1),
        "first_render_ms_median": percentile(renders, 50), "first_render_ms_max": max(renders),
        "bytes_sent": samples[-1]["bytes"], "requests": samples[-1]["requests"], "samples": samples,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"| run on disk | {stored / 1e6:.1f} MB ({args.cells} cells, {args.transcript_mb:g} MB transcript) |")
    print(f"| first render (median of {args.repeat}, max) | {report['first_render_ms_median']} ms, {report['first_render_ms_max']} ms |")
    print(f"| bytes sent by then | {report['bytes_sent'] / 1e6:.2f} MB in {report['requests']} requests "
          f"({100 * report['bytes_sent'] / stored:.1f} % of the run) |")
    print(f"| baseline: read + parse the whole run in Python | {report['baseline_read_parse_ms']} ms, {stored / 1e6:.1f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
