"""The live notebook: an nbformat v4.5 document kept in memory and saved atomically as it grows.

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
from pathlib import Path
from typing import Any

from seer.run import atomic_write

__all__ = ["Notebook"]

_HEADER = {
    "kernelspec": {"display_name": "Python 3 (seer)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _cell_id() -> str:
    return secrets.token_hex(4)


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

    def append_code(self, source: str, metadata: dict[str, Any]) -> int:
        """Add a code cell with no outputs yet; returns its index."""
        cell = {
            "cell_type": "code",
            "id": _cell_id(),
            "metadata": {"seer": metadata},
            "source": source,
            "outputs": [],
            "execution_count": None,
        }
        return self._insert(cell, len(self.cells))

    def insert_markdown(self, source: str, index: int | None = None) -> int:
        """Add a markdown cell at `index` (default: the end); returns its index."""
        cell = {"cell_type": "markdown", "id": _cell_id(), "metadata": {}, "source": source}
        return self._insert(cell, len(self.cells) if index is None else index)

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
