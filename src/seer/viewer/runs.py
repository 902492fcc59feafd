"""What the viewer shows, read from run directories only: run summaries, notebook cells as the page
draws them, transcript events, and a `RunWatch` that yields what changed since it last looked."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seer.errors import SeerError
from seer.notebook import cell_meta
from seer.outputs import ansi_free
from seer.record.requests import pending
from seer.record.run_record import read_run
from seer.record.transcript import parse_lines
from seer.run import pid_alive

__all__ = ["RunWatch", "active_cell", "cell_view", "list_runs", "read_cells", "run_detail", "summarize"]

_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start:
        return None
    try:
        began = datetime.fromisoformat(start)
        ended = datetime.fromisoformat(end) if end else datetime.now(began.tzinfo)
    except ValueError:
        return None
    return round((ended - began).total_seconds(), 1)


_STOPPED_BY = {"interrupted": "researcher", "no_action": "no action"}
"""How a stop reads in the status column, for stops that are not a budget's."""


def summarize(run: Path) -> dict[str, Any] | None:
    """One row of the runs page, or None if `run` is not a run directory."""
    try:
        record = read_run(run)
    except SeerError:
        return None
    score = _json(run / "score.json") or {}
    agent, spent, stop = record.agent or {}, record.spent or {}, record.stop or {}
    status = record.status
    if status == "running" and not pid_alive(record.pid):
        status = "interrupted"  # the process that ran it is gone: `seer resume` can continue it
    elif status == "starting" and not pid_alive(record.pid):
        status = "failed"  # killed during start-up: nothing ran
    if status == "stopped":
        reason = stop.get("reason")
        status = "failed" if reason == "error" else f"stopped: {stop.get('limit') or _STOPPED_BY.get(reason, reason)}"
    return {
        "id": run.name,
        "task": record.task.strip().splitlines()[0][:200] if record.task and record.task.strip() else (record.environment or {}).get("name", ""),
        "provider": agent.get("provider"),
        "model": agent.get("model"),
        "status": status,
        "started_at": record.started_at,
        "duration_s": _seconds(record.started_at, record.ended_at) if status == "running" or record.ended_at else None,
        "tokens": spent.get("tokens"),
        "cost_usd": spent.get("cost_usd"),
        "score": score.get("score"),
        "correct": score.get("correct"),
        "cells": record.cells,
    }


def list_runs(runs_dir: Path) -> list[dict[str, Any]]:
    """Every run under `runs_dir`, newest first."""
    if not runs_dir.is_dir():
        return []
    rows = [row for path in runs_dir.iterdir() if path.is_dir() and (row := summarize(path))]
    return sorted(rows, key=lambda row: row["started_at"] or "", reverse=True)


def run_detail(run: Path) -> dict[str, Any] | None:
    """The run page's header: the summary plus budget, spend, report and score."""
    summary = summarize(run)
    if summary is None:
        return None
    record = read_run(run)
    report = run / "report.md"
    return {
        **summary,
        "budget": record.budget,
        "spent": record.spent,
        "stop": record.stop,
        "report": report.read_text() if report.exists() else record.report,
        "score_detail": _json(run / "score.json"),
        "interactive": record.interactive,
        "parent": (record.model_extra or {}).get("parent"),
        "forks": forks_of(run),
    }


def forks_of(run: Path) -> list[dict[str, Any]]:
    """The runs beside `run` forked from it: `{"run", "at_turn"}` each, by name."""
    found = []
    for sibling in sorted(run.parent.iterdir()):
        record = sibling / "run.json"
        try:
            text = record.read_text() if sibling != run and record.is_file() else ""
        except OSError:
            continue
        if f'"run": "{run.name}"' in text and (parent := (_json(record) or {}).get("parent")) and parent.get("run") == run.name:
            found.append({"run": sibling.name, "at_turn": parent.get("at_turn")})
    return found


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def cell_view(index: int, cell: dict[str, Any]) -> dict[str, Any]:
    """A cell as the page draws it; images become `{"kind": "image", "output": j}` fetched separately."""
    meta = cell_meta(cell)
    outputs: list[dict[str, Any]] = []
    for j, output in enumerate(cell.get("outputs", [])):
        kind = output.get("output_type")
        if kind == "stream":
            outputs.append({"kind": "stream", "name": output.get("name"), "text": ansi_free(_text(output.get("text", "")))})
        elif kind == "error":
            trace = ansi_free("\n".join(output.get("traceback", []))) or f"{output.get('ename')}: {output.get('evalue')}"
            outputs.append({"kind": "error", "text": trace})
        else:
            data = output.get("data", {})
            image = next((mime for mime in _IMAGES if mime in data), None)
            if image:
                outputs.append({"kind": "image", "output": j, "mime": image})
            elif "text/html" in data:
                outputs.append({"kind": "html", "html": _text(data["text/html"])})
            elif "text/plain" in data:
                outputs.append({"kind": "text", "text": ansi_free(_text(data["text/plain"]))})
    view = {
        "index": index,
        "type": cell.get("cell_type"),
        "source": _text(cell.get("source", "")),
        "status": meta.get("status"),
        "execution_count": cell.get("execution_count"),
        "duration_s": meta.get("duration_s"),
        "outputs": outputs,
    }
    view["hash"] = hashlib.sha1(json.dumps(view, sort_keys=True).encode()).hexdigest()[:12]
    return view


def read_cells(run: Path) -> list[dict[str, Any]]:
    """The notebook's cells as stored (an unreadable or missing notebook has none)."""
    notebook = _json(run / "notebook.ipynb")
    return notebook.get("cells", []) if isinstance(notebook, dict) else []


SHELL_TAIL = 64 * 1024
"""How much of the end of `shell.log` the page is sent."""


@dataclass
class RunWatch:
    """Follows one run directory. The first `changes()` reports where things stand (cell hashes, the
    transcript's length) without their contents, which the page fetches in pages; later calls return
    what changed, contents included."""

    run: Path
    _notebook: tuple[int, int] = (0, 0)
    _hashes: list[str] | None = None
    _offset: int | None = None
    _record: tuple[int, int] = (0, 0)
    _question: tuple[int, int] = (0, 0)
    _conversation: tuple[int, int] = (0, 0)
    _shell: tuple[int, int] = (0, 0)

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        try:
            stat = path.stat()
        except OSError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def changes(self) -> list[tuple[str, Any]]:
        """`("cells", ...)`, `("events", ...)`, `("run", ...)`, `("checkpoint", ...)` and, for an audit,
        `("conversation", ...)` (its `conversation.json`, the target conversation) and, in shell mode, `("shell", ...)`
        (the end of `shell.log`) updates, in that order."""
        found: list[tuple[str, Any]] = []
        stamp = self._stamp(self.run / "notebook.ipynb")
        if stamp != self._notebook:
            self._notebook = stamp
            views = [cell_view(i, cell) for i, cell in enumerate(read_cells(self.run))]
            hashes = [v["hash"] for v in views]
            if self._hashes is None:
                found.append(("cells", {"count": len(views), "active": active_cell(views), "hashes": hashes, "changed": []}))
            else:
                known = self._hashes
                changed = [v for v in views if v["index"] >= len(known) or known[v["index"]] != v["hash"]]
                if changed or len(views) != len(known):
                    found.append(("cells", {"count": len(views), "active": active_cell(views), "changed": changed}))
            self._hashes = hashes
        if self._offset is None:
            self._offset = self._complete_size()
            found.append(("events", {"before": self._offset, "new": []}))
        elif events := self._new_events():
            found.append(("events", {"new": events}))
        stamp = self._stamp(self.run / "run.json")
        if stamp != self._record:
            self._record = stamp
            detail = run_detail(self.run)
            if detail is not None:
                found.append(("run", detail))
        stamp = self._stamp(self.run / "checkpoint.json")
        if stamp != self._question:
            self._question = stamp
            found.append(("checkpoint", {"pending": pending(self.run)}))
        stamp = self._stamp(self.run / "conversation.json")
        if stamp != self._conversation:
            self._conversation = stamp
            try:
                found.append(("conversation", json.loads((self.run / "conversation.json").read_text())))
            except (OSError, ValueError):  # written atomically: a missing file is no audit
                pass
        stamp = self._stamp(self.run / "shell.log")
        if stamp != self._shell:
            self._shell = stamp
            with (self.run / "shell.log").open("rb") as log:
                log.seek(max(0, stamp[1] - SHELL_TAIL))
                found.append(("shell", {"size": stamp[1], "tail": log.read().decode(errors="replace")}))
        return found

    def _complete_size(self) -> int:
        """The length of the transcript's complete lines."""
        try:
            data = (self.run / "transcript.jsonl").read_bytes()
        except OSError:
            return 0
        return data.rfind(b"\n") + 1

    def _new_events(self) -> list[dict[str, Any]]:
        try:
            with (self.run / "transcript.jsonl").open("rb") as handle:
                handle.seek(self._offset or 0)
                chunk = handle.read()
        except OSError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for the next look
        self._offset = (self._offset or 0) + len(complete)
        return parse_lines(complete)


def active_cell(views: list[dict[str, Any]]) -> int | None:
    """The cell the agent is working on: the running one, else the newest."""
    running = [v["index"] for v in views if v["status"] == "running"]
    return running[-1] if running else (views[-1]["index"] if views else None)
