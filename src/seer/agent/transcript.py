"""`transcript.jsonl`: the run's append-only event log, one fsynced JSON line per event.

Every event has `seq`, `kind` and `at` (UTC). The kinds:

| kind | fields |
|---|---|
| `user` | `text`, `source` (`task`, `researcher`, `nudge`, `budget`, `resume`) |
| `model_turn` | `turn`, `text`, `tool_calls` [{id, name, arguments, malformed?}], `usage`, `cost_usd`, `duration_s`, `stop_reason`, `spent` |
| `tool_result` | `call_id`, `name`, `text`, `images` (paths under `artifacts/`), `is_error`, `duration_s` |
| `checkpoint` | `question`, `answer`, `answered_by` (`researcher` or `batch`) |
| `retry` | `error`, `attempt`, `wait_s` |
| `compaction` | `summary`, `replaced_messages` |
| `stopped` | `reason` (`finished`, `budget`, `no_action`, `error`, `interrupted`), `limit`, `detail`, `report`, `spent` |

A process killed mid-write leaves at most one partial last line, which `read_events` skips.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seer.run import now_iso

__all__ = ["Transcript", "read_events"]


class Transcript:
    """Appends events to `<run>/transcript.jsonl`; images go to `<run>/artifacts/`."""

    def __init__(self, run_path: Path, *, observer: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = run_path / "transcript.jsonl"
        self.observer = observer
        """Called with each event after it is written (a terminal printer, a progress bar)."""
        self._artifacts = run_path / "artifacts"
        _repair(self.path, self._artifacts)
        existing = read_events(self.path)
        self._seq = existing[-1]["seq"] + 1 if existing else 0
        self._images = len(list(self._artifacts.glob("image-*.png"))) if self._artifacts.exists() else 0

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"seq": self._seq, "kind": kind, "at": now_iso(), **fields}
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._seq += 1
        if self.observer is not None:
            self.observer(event)
        return event

    def save_image(self, png: bytes) -> str:
        """Store a PNG under `artifacts/`; returns its path relative to the run directory."""
        self._artifacts.mkdir(exist_ok=True)
        name = f"image-{self._images:05d}.png"
        self._images += 1
        (self._artifacts / name).write_bytes(png)
        return f"artifacts/{name}"


def _repair(path: Path, artifacts: Path) -> None:
    """Cut a torn last line (the writer was killed mid-line) off `path` before anything is appended, so the
    next event starts on a line of its own; the torn bytes are kept in `artifacts/`."""
    data = path.read_bytes() if path.exists() else b""
    if not data or data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"transcript-torn-{keep}.jsonl").write_bytes(data[keep:])
    with path.open("rb+") as handle:
        handle.truncate(keep)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a transcript; a torn last line (the writer was killed) is skipped."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
