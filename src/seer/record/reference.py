"""`docs/record.md`, generated from the record's classes: `python -m seer.record.reference > docs/record.md`
(a test checks the page is current)."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel

from seer.record.events import TRANSCRIPT_FORMAT, Checkpoint, Compaction, ModelTurn, Retry, Stopped, ToolCallRecord, ToolResult, UserMessage
from seer.record.run_record import RunRecord

__all__ = ["reference"]

_EVENTS = (UserMessage, ModelTurn, ToolResult, Checkpoint, Retry, Compaction, Stopped)


def _type(annotation: Any) -> str:
    plain = not isinstance(annotation, str) and not getattr(annotation, "__args__", None)
    text = getattr(annotation, "__name__", annotation) if plain else annotation
    return str(text).replace("typing.", "").replace("|", "\\|")


def _table(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        default = "required" if info.is_required() else f"`{info.get_default(call_default_factory=True)!r}`"
        meaning = " ".join((info.description or "").split())
        rows.append(f"| `{name}` | `{_type(info.annotation)}` | {default} | {meaning} |")
    return rows


def reference() -> str:
    """The page: `run.json`'s fields, then each transcript event kind with its fields."""
    lines = [
        "# The run record: reference",
        "",
        "Generated from `seer.record` by `python -m seer.record.reference`; do not edit by hand. The design is in",
        "[architecture.md](architecture.md#the-run-record).",
        "",
        "## `run.json` (`RunRecord`)",
        "",
        inspect.cleandoc(RunRecord.__doc__ or ""),
        "Fields not listed here (set-up steps, the tool manifest, the system prompt …) load as extras.",
        "",
        *_table(RunRecord),
        "",
        f"## `transcript.jsonl` events ({TRANSCRIPT_FORMAT})",
        "",
        "Every event has `seq` (0, 1, 2 … in file order), `kind` and `at` (UTC, ISO 8601).",
    ]
    for event in _EVENTS:
        kind = event.model_fields["kind"].default
        lines += ["", f"### `{kind}`", "", inspect.cleandoc(event.__doc__ or ""), "", *_table(event, skip=("seq", "at", "kind"))]
    lines += ["", "### A tool call in `model_turn.tool_calls`", "", *_table(ToolCallRecord)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
