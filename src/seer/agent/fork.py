"""Fork a run: a new run directory holding the parent's history up to a turn (its transcript prefix and the
notebook cells those turns made, with the workspace and artifacts copied), which `resume_agent` then
continues, possibly with another provider, model, budget or an added instruction. The parent is not
touched; each records the other (`parent` in the fork's `run.json`, the fork found by its `parent`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from seer.errors import SeerError
from seer.record.transcript import read_events
from seer.run import RunDir, atomic_write, now_iso

__all__ = ["fork_run", "turn_of_cell"]


_OWN = ("format", "id", "started_at", "status", "pid", "versions", "argv", "stop", "report", "answer", "finished_at", "ended_at", "spent",
        "kernel_pid", "resumes", "resumed_at", "cells", "error", "parent", "budget_raises")
"""What a run's record says of that run alone: a fork does not inherit it."""


def turn_of_cell(events: list[dict[str, Any]], notebook: dict[str, Any], cell: int) -> int:
    """The turn (counting model turns from 1) whose tool call made notebook cell `cell`.

    Raises:
        SeerError: No such cell, or no recorded turn made it.
    """
    cells = notebook.get("cells", [])
    if not 0 <= cell < len(cells):
        raise SeerError(f"--at-cell {cell}: the notebook has {len(cells)} cells (0 to {len(cells) - 1})")
    call = cells[cell].get("metadata", {}).get("seer", {}).get("tool_call_id")
    turn = 0
    for event in events:
        if event["kind"] == "model_turn":
            turn += 1
            if call is not None and any(c["id"] == call for c in event["tool_calls"]):
                return turn
    raise SeerError(f"--at-cell {cell}: no recorded turn made that cell (a markdown cell or one edited later); give --at-turn")


def fork_run(parent: Path, *, at_turn: int, runs_dir: Path | None = None, run_id: str | None = None) -> Path:
    """A new run beside `parent` (or under `runs_dir`) whose history is the parent's first `at_turn` model
    turns and their results; returns its directory, ready for `resume_agent`.

    Raises:
        SeerError: `parent` is not a run with a transcript, or it has fewer than `at_turn` turns.
    """
    parent = parent.resolve()
    events = read_events(parent / "transcript.jsonl")
    if not (parent / "run.json").is_file() or not events:
        raise SeerError(f"{parent} is not a run with a transcript; give a run directory (runs/<id>)")
    turns = [i for i, e in enumerate(events) if e["kind"] == "model_turn"]
    if not 1 <= at_turn <= len(turns):
        raise SeerError(f"--at-turn {at_turn}: {parent.name} has {len(turns)} model turns (1 to {len(turns)})")
    cut = turns[at_turn] if at_turn < len(turns) else len(events)
    kept = [e for e in events[:cut] if e["kind"] != "stopped"]
    calls = {c["id"] for e in kept if e["kind"] == "model_turn" for c in e["tool_calls"]}
    notebook = json.loads((parent / "notebook.ipynb").read_text())
    made = [i for i, c in enumerate(notebook["cells"]) if c.get("metadata", {}).get("seer", {}).get("tool_call_id") in calls]
    notebook["cells"] = notebook["cells"][: made[-1] + 1 if made else 0]

    record = json.loads((parent / "run.json").read_text())
    label = str(record.get("environment", {}).get("name") or "fork")
    keep = {k: v for k, v in record.items() if k not in _OWN}
    child = RunDir.create(runs_dir or parent.parent, f"{label}-fork", {**keep, "parent": {"run": parent.name, "path": str(parent),
                          "at_turn": at_turn, "forked_at": now_iso()}}, run_id=run_id)  # fmt: skip
    shutil.copytree(parent / "workspace", child.workspace, dirs_exist_ok=True, symlinks=True)
    shutil.copytree(parent / "artifacts", child.artifacts, dirs_exist_ok=True, symlinks=True)
    if (parent / "private" / "scope").is_dir():
        shutil.copytree(parent / "private" / "scope", child.path / "private" / "scope", dirs_exist_ok=True)
    atomic_write(child.notebook_path, json.dumps(notebook, indent=1))
    atomic_write(child.path / "transcript.jsonl", "".join(json.dumps(e) + "\n" for e in kept))
    child.update_record(status="stopped", stop={"reason": "forked", "limit": None, "detail": f"forked from {parent.name} at turn {at_turn}"})
    return child.path
