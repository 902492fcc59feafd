"""What validating every transcript event costs the writer: `Transcript.append` (each event checked
against its `seer.record.events` class, then written and fsynced) against the same lines written and
fsynced with no check, in one invocation.

    python bench/record_append.py [--events 2000] [--text-kib 4] [--out bench/results/record_append.json]

Events alternate as in a run: a `model_turn` with one tool call, then its `tool_result` carrying
`--text-kib` KiB of output. It reports microseconds per event for each writer and their ratio, and the check
alone (no file); an agent run writes a few events per tool call, each after a kernel round trip of
milliseconds. The fsync dominates both writers and varies between runs, so the check alone is the figure
to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
from tool_latency import machine, save_and_print  # noqa: E402

from seer.record.events import parse_event  # noqa: E402
from seer.record.transcript import Transcript  # noqa: E402
from seer.run import now_iso  # noqa: E402

SPENT = {"turns": 1, "input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 0, "cache_write_tokens": 0,
         "tokens": 15, "cost_usd": 0.0, "cost_known": True, "wall_s": 0.1}  # fmt: skip


def events(count: int, text: str) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for n in range(count // 2):
        call = {"id": f"c{n}", "name": "execute_code", "arguments": {"code": "print(1)"}}
        out.append(("model_turn", {"turn": n + 1, "text": "", "tool_calls": [call], "usage": {"input_tokens": 10},
                                   "cost_usd": 0.0, "duration_s": 0.1, "stop_reason": "tool_use", "attempts": 1, "spent": SPENT}))  # fmt: skip
        out.append(("tool_result", {"call_id": f"c{n}", "name": "execute_code", "text": text, "images": [], "is_error": False, "duration_s": 0.01}))
    return out


def plain_append(path: Path, seq: int, kind: str, fields: dict[str, Any]) -> None:
    """The baseline: the same line, written and fsynced, unchecked."""
    line = json.dumps({"seq": seq, "kind": kind, "at": now_iso(), **fields}, ensure_ascii=False, default=str) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def measure(count: int, text_kib: int) -> dict[str, Any]:
    batch = events(count, "x" * (text_kib * 1024))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "checked").mkdir()
        began = time.perf_counter()
        transcript = Transcript(root / "checked")
        for kind, fields in batch:
            transcript.append(kind, **fields)
        checked = time.perf_counter() - began
        began = time.perf_counter()
        for seq, (kind, fields) in enumerate(batch):
            plain_append(root / "plain.jsonl", seq, kind, fields)
        plain = time.perf_counter() - began
    began = time.perf_counter()
    for seq, (kind, fields) in enumerate(batch):
        parse_event(json.loads(json.dumps({"seq": seq, "kind": kind, "at": now_iso(), **fields}, default=str)))
    check = time.perf_counter() - began
    return {"events": len(batch), "text_kib": text_kib, "checked_us": checked / len(batch) * 1e6,
            "plain_us": plain / len(batch) * 1e6, "ratio": checked / plain, "check_only_us": check / len(batch) * 1e6}  # fmt: skip


def table(report: dict[str, Any]) -> str:
    r = report["result"]
    return (f"| writer | per event |\n|---|---|\n| unchecked write + fsync (baseline) | {r['plain_us']:.0f} µs |\n"
            f"| `Transcript.append` (validated) | {r['checked_us']:.0f} µs |\n| the check alone (JSON round trip + `parse_event`) | {r['check_only_us']:.0f} µs |\n\nratio {r['ratio']:.2f}× "
            f"({r['events']} events, tool results of {r['text_kib']} KiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--text-kib", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/results/record_append.json"))
    args = parser.parse_args()
    report = {"machine": machine(), "date": now_iso(), "result": measure(args.events, args.text_kib)}
    save_and_print(args.out, report, table)


if __name__ == "__main__":
    main()
