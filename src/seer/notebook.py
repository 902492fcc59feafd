"""The live notebook: an nbformat v4.5 document kept in memory and saved atomically as it grows.

`Notebook` owns its cell format. A code cell's Seer metadata (`metadata.seer`) holds `tool_call_id`,
`status` (`running`, then `ok`, `error`, `timeout`, `died` or `interrupted`), `started_at`,
`duration_s`, `note`, and `edited` for a cell run again in place; only `Notebook` methods change it,
and every reader goes through `cell_meta`.

Saving never rewrites the notebook per output message. A running cell asks for a save; a background
task writes at most once per `flush_interval_s`; the end of every cell writes at once. Each finished
cell's JSON is cached, so a save re-encodes only the cells that changed. Every file on disk is a
complete, valid notebook (temporary file, fsync, rename).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seer.run import atomic_write

__all__ = ["COMPLETED", "Notebook", "cell_meta"]

COMPLETED = ("ok", "error")
"""The statuses of a cell that ran to its end (a resumed session replays these)."""

_HEADER = {
    "kernelspec": {"display_name": "Python 3 (seer)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _cell_id() -> str:
    return secrets.token_hex(4)


def cell_meta(cell: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a cell's Seer metadata (empty for markdown cells and cells Seer did not run)."""
    return dict(cell.get("metadata", {}).get("seer", {}))


class Notebook:
    """Cells in memory, mirrored to `path`.

    Args:
        path: The `.ipynb` file to keep up to date.
        metadata: Extra notebook-level metadata (stored under `metadata.seer`).
        flush_interval_s: Least time between two saves while a cell streams output.
    """

    def __init__(self, path: Path, *, metadata: dict[str, Any] | None = None, flush_interval_s: float = 0.5) -> None:
        self.path = path
        self.cells: list[dict[str, Any]] = []
        self._fragments: list[str | None] = []
        self._metadata = {**_HEADER, "seer": metadata or {}}
        self._flush_interval_s = flush_interval_s
        self._write_lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self.saves = 0

    @classmethod
    def load(cls, path: Path, *, flush_interval_s: float = 0.5) -> Notebook:
        """Reopen a notebook this class saved (to resume a run)."""
        data = json.loads(path.read_text())
        notebook = cls(path, metadata=data["metadata"].get("seer", {}), flush_interval_s=flush_interval_s)
        notebook.cells = data["cells"]
        notebook._fragments = [None] * len(notebook.cells)
        return notebook

    def append_code(self, source: str, *, call_id: str | None = None, status: str = "running") -> int:
        """Add a code cell with no outputs yet, run for tool call `call_id`; returns its index."""
        cell = {
            "cell_type": "code",
            "id": _cell_id(),
            "metadata": {"seer": {"tool_call_id": call_id, "status": status}},
            "source": source,
            "outputs": [],
            "execution_count": None,
        }
        return self._insert(cell, len(self.cells))

    def replace_code(self, index: int, source: str, *, call_id: str | None = None) -> None:
        """Give code cell `index` new source to run again in place: outputs cleared, status `running`, `edited`."""
        cell = self.cells[index]
        cell.update(source=source, outputs=[])
        cell["metadata"]["seer"] = {"tool_call_id": call_id, "status": "running", "edited": True}
        self.changed(index)

    def started(self, index: int, at: str) -> None:
        """Cell `index` began to run at `at`."""
        self.cells[index]["metadata"]["seer"]["started_at"] = at
        self.changed(index)

    def set_outputs(self, index: int, outputs: list[dict[str, Any]], execution_count: int | None = None) -> None:
        """Cell `index`'s outputs so far (and its execution count once it is known)."""
        cell = self.cells[index]
        cell["outputs"] = outputs
        if execution_count is not None:
            cell["execution_count"] = execution_count
        self.changed(index)

    def ended(self, index: int, status: str, *, duration_s: float | None = None, note: str | None = None) -> None:
        """Cell `index` stopped running, with `status` (and why, in `note`)."""
        meta = self.cells[index]["metadata"]["seer"]
        meta["status"] = status
        if duration_s is not None:
            meta["duration_s"] = duration_s
        if note:
            meta["note"] = note
        self.changed(index)

    def interrupt_running(self, note: str) -> list[int]:
        """Mark every cell still `running` (its process died) `interrupted`; returns their indices."""
        found = [i for i, cell in enumerate(self.cells) if cell_meta(cell).get("status") == "running"]
        for index in found:
            self.ended(index, "interrupted", note=note)
        return found

    def insert_markdown(self, source: str, index: int | None = None) -> int:
        """Add a markdown cell at `index` (default: the end); returns its index."""
        cell = {"cell_type": "markdown", "id": _cell_id(), "metadata": {}, "source": source}
        return self._insert(cell, len(self.cells) if index is None else index)

    def set_markdown(self, index: int, source: str) -> None:
        """Replace the text of markdown cell `index`."""
        self.cells[index]["source"] = source
        self.changed(index)

    def _insert(self, cell: dict[str, Any], index: int) -> int:
        self.cells.insert(index, cell)
        self._fragments.insert(index, None)
        return index

    def changed(self, index: int) -> None:
        """Mark cell `index` as changed: its cached JSON is dropped and a save is scheduled."""
        self._fragments[index] = None
        self._dirty.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())

    def index_of(self, cell_id: str) -> int:
        """Where the cell with this id is now (indices move when markdown is inserted)."""
        for index, cell in enumerate(self.cells):
            if cell["id"] == cell_id:
                return index
        raise KeyError(cell_id)

    async def _flush_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await self.save()
            await asyncio.sleep(self._flush_interval_s)

    def _render(self) -> str:
        for index, fragment in enumerate(self._fragments):
            if fragment is None:
                self._fragments[index] = json.dumps(self.cells[index], ensure_ascii=False)
        head = json.dumps({"metadata": self._metadata, "nbformat": 4, "nbformat_minor": 5}, ensure_ascii=False)
        return head[:-1] + ', "cells": [\n' + ",\n".join(self._fragments) + "\n]}\n"  # type: ignore[arg-type]

    async def save(self) -> None:
        """Write the notebook now (atomically); concurrent calls are serialised."""
        async with self._write_lock:
            self._dirty.clear()
            text = self._render()
            await asyncio.to_thread(atomic_write, self.path, text)
            self.saves += 1

    async def close(self) -> None:
        """Stop the background saver and write a last time."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.save()
