"""`transcript.jsonl`: the run's append-only event log, one fsynced JSON line per event.

The event kinds and their fields are the classes of `seer.record.events` (`user`, `model_turn`,
`tool_result`, `checkpoint`, `retry`, `compaction`, `stopped`); `Transcript.append` validates each
event against its class before writing it. A process killed mid-write leaves at most one partial last
line: the next writer moves it to `artifacts/`, and every reader here skips it (`parse_lines` is the one
line parser: whole files, a tail read backwards, or the bytes after an offset).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seer.record.events import Event, parse_event
from seer.run import now_iso

__all__ = ["Transcript", "parse_lines", "read_events", "read_typed", "tail_events"]


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
        """Write one event of `kind` (see `seer.record.events`); raises `pydantic.ValidationError` for an
        unknown kind or a missing or mistyped field, before anything is written."""
        event = {"seq": self._seq, "kind": kind, "at": now_iso(), **fields}
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        parse_event(json.loads(line))  # the event as a reader will see it
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


def parse_lines(data: bytes) -> list[dict[str, Any]]:
    """The events in `data`'s complete lines; a torn line (no newline yet, or cut by a kill) is skipped."""
    events = []
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete event in a transcript, as decoded JSON; a torn last line is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return parse_lines(data if data.endswith(b"\n") else data + b"\n")


def read_typed(path: Path) -> list[Event]:
    """Every complete event in a transcript, typed (`seer.record.events`).

    Raises:
        pydantic.ValidationError: A line is not an event this version of Seer knows.
    """
    return [parse_event(event) for event in read_events(path)]


def tail_events(path: Path, end: int | None = None, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` complete events that end at or before byte `end` (default: the end of the file), and
    the byte offset where the first of them starts; reads only as much of the file as it needs."""
    try:
        handle = path.open("rb")
    except OSError:
        return [], 0
    with handle:
        size = handle.seek(0, os.SEEK_END)
        end = size if end is None else min(end, size)
        position, chunk = end, b""
        while position > 0 and chunk.count(b"\n") <= limit:
            step = min(1 << 16, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + chunk
    chunk = chunk[: chunk.rfind(b"\n") + 1]  # drop a line still being written
    if position > 0:  # the first piece may be the tail of a line that starts earlier
        first = chunk.find(b"\n") + 1
        position, chunk = position + first, chunk[first:]
    lines = chunk.split(b"\n")[:-1]
    if len(lines) > limit:
        position += sum(len(line) + 1 for line in lines[:-limit])
        lines = lines[-limit:]
    return parse_lines(b"".join(line + b"\n" for line in lines)), position
