"""The conversation, provider-neutral: what every adapter translates to and from its own API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Content",
    "Image",
    "Message",
    "Text",
    "ToolCall",
    "ToolReturn",
    "TurnRequest",
    "TurnResponse",
    "Usage",
]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Image:
    """A PNG image shown to the model."""

    png: bytes


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    malformed: str | None = None
    """The raw arguments when the model sent something that is not a JSON object; the loop tells it so."""


@dataclass(frozen=True)
class ToolReturn:
    """The result of one tool call, sent back to the model."""

    call_id: str
    name: str
    text: str
    images: tuple[bytes, ...] = ()
    is_error: bool = False


Content = Text | Image | ToolCall | ToolReturn


@dataclass
class Message:
    role: Literal["user", "assistant"]
    content: list[Content]

    @property
    def text(self) -> str:
        return "".join(block.text for block in self.content if isinstance(block, Text))

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [block for block in self.content if isinstance(block, ToolCall)]


@dataclass
class Usage:
    """Tokens one model call used; cache reads and writes are part of the input."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass
class TurnRequest:
    """Everything a provider needs for one model call."""

    system: str
    messages: list[Message]
    tools: list[dict[str, Any]]
    """The tool manifest: `{"name", "description", "input_schema"}` each, as `Toolset.specs()` gives."""
    max_tokens: int = 8192
    final: bool = False
    """True when the loop has asked for the final report (a budget ran out); scripted agents use it."""


@dataclass
class TurnResponse:
    message: Message
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""
