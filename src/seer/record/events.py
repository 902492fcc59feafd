"""The transcript's events, one class per kind (`kind` is the discriminator).

Every event has `seq` (0, 1, 2 … in file order), `kind` and `at` (UTC, ISO 8601). The writer validates
each event against its class, so a misspelt kind or a missing field fails where it is written; readers
accept fields they do not know, so a record written by a newer Seer still loads.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "TRANSCRIPT_FORMAT",
    "Checkpoint",
    "Compaction",
    "Event",
    "ModelTurn",
    "Retry",
    "Stopped",
    "ToolCallRecord",
    "ToolResult",
    "UserMessage",
    "parse_event",
]

TRANSCRIPT_FORMAT = "seer.transcript/1"
"""The version of the event schema below; `run.json` names it as `transcript_format`."""


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    seq: int = Field(ge=0)
    at: str


class UserMessage(_Event):
    """Words the agent receives as the user: the task, the researcher, a nudge, a budget or resume notice."""

    kind: Literal["user"] = "user"
    text: str
    source: Literal["task", "researcher", "nudge", "budget", "resume"]
    """Who spoke: the task, the researcher, or Seer (a nudge, a budget or resume notice)."""


class ToolCallRecord(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    id: str
    name: str
    arguments: Any
    malformed: str | None = None
    """The raw arguments when they were not a JSON object."""


class ModelTurn(_Event):
    """One model call and what it cost; `spent` is the run's running total after it."""

    kind: Literal["model_turn"] = "model_turn"
    turn: int
    """1 for the run's first model call."""
    text: str
    """What the model said besides its tool calls."""
    tool_calls: list[ToolCallRecord]
    usage: dict[str, Any]
    """Tokens of this call: `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens`."""
    cost_usd: float | None
    """Its price; none when the model's price is unknown (or Claude Code reports the run's cost itself)."""
    duration_s: float | None
    stop_reason: str | None
    """As the API said it (`tool_use`, `end_turn`, `max_tokens` …)."""
    attempts: int = 1
    """How many tries the call took (see `retry` events)."""
    spent: dict[str, Any]


class ToolResult(_Event):
    """What a tool returned to the agent; `images` are paths under `artifacts/`."""

    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    """The `id` of the tool call in the `model_turn` before it."""
    name: str
    text: str
    """Exactly what the agent read."""
    images: list[str]
    is_error: bool
    duration_s: float | None


class Checkpoint(_Event):
    """A question the agent asked the researcher, and the answer it got."""

    kind: Literal["checkpoint"] = "checkpoint"
    question: str
    answer: str
    answered_by: str
    """`researcher`, `researcher (viewer)` or `batch` (the configured reply)."""


class Retry(_Event):
    """A model call that failed and is tried again after `wait_s`."""

    kind: Literal["retry"] = "retry"
    error: str
    attempt: int
    wait_s: float


class Compaction(_Event):
    """The middle of the conversation replaced by a summary (the context window was full)."""

    kind: Literal["compaction"] = "compaction"
    summary: str
    replaced_messages: int


class Stopped(_Event):
    """The run ended: why, against which limit, with which report, having spent what."""

    kind: Literal["stopped"] = "stopped"
    reason: Literal["finished", "budget", "no_action", "error", "interrupted"]
    limit: str | None
    detail: str | None
    report: str | None
    spent: dict[str, Any]


Event = Annotated[UserMessage | ModelTurn | ToolResult | Checkpoint | Retry | Compaction | Stopped, Field(discriminator="kind")]
"""Any transcript event."""

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: dict[str, Any]) -> Event:
    """The typed event for one decoded transcript line.

    Raises:
        pydantic.ValidationError: An unknown kind, or a field missing or of the wrong type.
    """
    return _EVENT.validate_python(data)
