"""Keep one cell's outputs bounded while they arrive, spilling the excess to files.

Of each stream (stdout, stderr) the notebook keeps the first and the last `stream_chars` characters;
past that, a line says how many characters were cut and where the whole stream is, and the stream is
appended to `artifacts/outputs/<stem>-<name>.txt` as it arrives, so memory stays bounded. Rich outputs
(images, HTML, JSON) are kept until they total `display_bytes`; later ones go, one JSON output per line,
to `artifacts/outputs/<stem>-displays.jsonl` and leave a line saying so. A huge traceback is cut the same
way. Without a run directory nothing is written and the excess is only counted.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["SPILL_FOLDER", "OutputCap", "append_stream"]

SPILL_FOLDER = "artifacts/outputs"
"""Where spilled outputs go, relative to the run directory."""
_OUTPUT_COST = 1024
"""What one kept rich output costs besides its payload (its dicts), counted against the display budget."""


def append_stream(outputs: list[dict[str, Any]], name: str, text: str) -> None:
    """Add stream text to `outputs`, merged into the last output when it is the same stream."""
    last = outputs[-1] if outputs else None
    if last is not None and last["output_type"] == "stream" and last["name"] == name:
        last["text"] += text
    else:
        outputs.append({"output_type": "stream", "name": name, "text": text})


def _size(data: dict[str, Any]) -> int:
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


@dataclass
class _Stream:
    total: int = 0
    head: int = 0
    tail: str = ""
    shown: dict[str, Any] | None = None
    """The output holding the cut marker and the tail, once the head is full."""
    file: IO[str] | None = None
    path: str | None = None
    """The spill file, relative to the run folder; None until the stream overflows, "" when none could be written."""


class OutputCap:
    """Bounds one cell's outputs as they arrive.

    Args:
        stream_chars: Of each stream, the characters kept at the start, and again at the end.
        display_bytes: The most the cell's rich outputs may hold; later ones are spilled.
        run_dir: The run directory; None writes nothing and drops the excess.
        stem: The spill files' name prefix, e.g. `cell-1a2b3c4d`.
    """

    def __init__(self, *, stream_chars: int, display_bytes: int, run_dir: Path | None = None, stem: str = "cell") -> None:
        self.stream_chars = stream_chars
        self.display_bytes = display_bytes
        self._run_dir = run_dir
        self._stem = stem
        self._streams: dict[str, _Stream] = {}
        self._display_used = 0
        self._displays: IO[str] | None = None
        self.files: list[str] = []
        """The spill files written, relative to the run directory."""

    def _open(self, suffix: str, mode: str) -> tuple[IO[str], str] | None:
        """A spill file, or None without a run directory or when it cannot be written."""
        if self._run_dir is None:
            return None
        relative = f"{SPILL_FOLDER}/{self._stem}-{suffix}"
        try:
            (self._run_dir / SPILL_FOLDER).mkdir(parents=True, exist_ok=True)
            handle = (self._run_dir / relative).open(mode, encoding="utf-8", errors="backslashreplace")
        except OSError:
            return None
        if relative not in self.files:
            self.files.append(relative)
        return handle, relative

    def stream(self, outputs: list[dict[str, Any]], name: str, text: str) -> None:
        """Add stream text to `outputs`, keeping only the head and the tail of a long stream."""
        s = self._streams.setdefault(name, _Stream())
        keep = self.stream_chars
        s.total += len(text)
        if s.head < keep:
            part, text = text[: keep - s.head], text[keep - s.head :]
            s.head += len(part)
            append_stream(outputs, name, part)
        if not text:
            return
        if s.file is None and s.path is None and s.total > 2 * keep:
            opened = self._open(f"{name}.txt", "w")
            s.file, s.path = opened if opened else (None, "")
            head = "".join(o["text"] for o in outputs if o.get("name") == name and o is not s.shown)
            self._write(s, head + s.tail)
        self._write(s, text)
        s.tail = text[-keep:] if len(text) >= keep else (s.tail + text)[-keep:]
        if s.shown is None:
            s.shown = {"output_type": "stream", "name": name, "text": ""}
        elif outputs[-1] is not s.shown:  # another output came in between: the tail moves to the end
            outputs[:] = [o for o in outputs if o is not s.shown]
        if not outputs or outputs[-1] is not s.shown:
            outputs.append(s.shown)
        cut = s.total - s.head - len(s.tail)
        where = f"the whole {name} is in {s.path} (in the run folder)" if s.path else "it was not kept"
        s.shown["text"] = f"\n[... {cut:,} characters of {name} cut here; {where} ...]\n{s.tail}" if cut else s.tail

    @staticmethod
    def _write(s: _Stream, text: str) -> None:
        if s.file is None:
            return
        try:
            s.file.write(text)
        except OSError:  # a full disk ends the spill file, not the cell
            s.file.close()
            s.file, s.path = None, ""

    def fit(
        self, data: dict[str, Any], metadata: dict[str, Any], *, kind: str, replacing: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The data and metadata to keep for a rich output: its own if they fit the budget, else a line
        saying where it went. `replacing` is the data an update replaces."""
        size = _size(data) + _OUTPUT_COST
        freed = _size(replacing) + _OUTPUT_COST if replacing is not None else 0
        if self._display_used - freed + size <= self.display_bytes:
            self._display_used = max(0, self._display_used - freed) + size
            return data, metadata
        self._display_used = max(0, self._display_used - freed)
        if self._displays is None:
            opened = self._open("displays.jsonl", "a")
            self._displays = opened[0] if opened else None
        where = "dropped"
        if self._displays is not None:
            try:
                self._displays.write(json.dumps({"output_type": kind, "data": data, "metadata": metadata}) + "\n")
                self._displays.flush()
                where = f"saved in {SPILL_FOLDER}/{self._stem}-displays.jsonl (in the run folder), one output per line"
            except OSError:
                pass
        mib = self.display_bytes / 2**20
        line = f"[{', '.join(data)} output of {size / 1e6:,.1f} MB not kept: this cell's rich outputs passed {mib:g} MiB; {where}]"
        return {"text/plain": line}, {}

    def error(self, output: dict[str, Any]) -> dict[str, Any]:
        """An error output, its traceback cut in the middle when it is longer than a stream's head and tail."""
        keep = self.stream_chars
        trace = "\n".join(output["traceback"])
        if len(trace) + len(output["evalue"]) <= 2 * keep:
            return output
        opened = self._open("error.txt", "a")
        where = "it was not kept"
        if opened is not None:
            with contextlib.suppress(OSError), opened[0] as handle:
                handle.write(f"{output['ename']}: {output['evalue']}\n{trace}\n")
                where = f"the whole traceback is in {opened[1]} (in the run folder)"
        cut = max(0, len(trace) - 2 * keep)
        marker = f"\n[... {cut:,} characters of the traceback cut here; {where} ...]\n"
        evalue = output["evalue"] if len(output["evalue"]) <= keep else output["evalue"][:keep] + " [...]"
        return {**output, "evalue": evalue, "traceback": [trace[:keep] + marker + trace[-keep:] if cut else trace]}

    def clear(self) -> None:
        """The outputs were cleared: budgets start again (a stream's spill file is rewritten if it overflows again)."""
        for s in self._streams.values():
            if s.file is not None:
                s.file.close()
        self._streams.clear()
        self._display_used = 0

    def close(self) -> None:
        """Close the spill files (the cell has ended)."""
        self.clear()
        if self._displays is not None:
            self._displays.close()
            self._displays = None
