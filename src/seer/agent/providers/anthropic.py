"""Anthropic Messages API adapter: tool use, images in tool results, prompt caching.

Cache breakpoints go on the system prompt, the last tool and the newest message, so every turn
re-reads the stable prefix from the cache.
"""

from __future__ import annotations

import base64
from typing import Any

from seer.agent.messages import Image, Message, Text, ToolCall, ToolReturn, TurnRequest, TurnResponse, Usage
from seer.agent.providers.base import ProviderError, SdkProvider, sdk_errors

__all__ = ["AnthropicProvider"]

_CACHE = {"type": "ephemeral"}


def _image(png: bytes) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png).decode()}}


def _block(block: Any) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, Image):
        return _image(block.png)
    if isinstance(block, ToolCall):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.arguments}
    if isinstance(block, ToolReturn):
        content = [{"type": "text", "text": block.text or "(empty)"}] + [_image(png) for png in block.images]
        return {"type": "tool_result", "tool_use_id": block.call_id, "content": content, "is_error": block.is_error}
    raise ProviderError(f"the anthropic adapter cannot send a {type(block).__name__} block")


def to_wire(request: TurnRequest) -> dict[str, Any]:
    """The Messages API request body for a turn (without `model`)."""
    messages = [{"role": m.role, "content": [_block(b) for b in m.content]} for m in request.messages]
    if messages and messages[-1]["content"]:
        messages[-1]["content"][-1] = {**messages[-1]["content"][-1], "cache_control": _CACHE}
    tools = [dict(t) for t in request.tools]
    if tools:
        tools[-1]["cache_control"] = _CACHE
    return {
        "max_tokens": request.max_tokens,
        "system": [{"type": "text", "text": request.system, "cache_control": _CACHE}],
        "messages": messages,
        "tools": tools,
    }


class AnthropicProvider(SdkProvider):
    """Claude through the Anthropic Messages API."""

    name = sdk = "anthropic"
    client = "AsyncAnthropic"
    key_env = "ANTHROPIC_API_KEY"

    async def turn(self, request: TurnRequest) -> TurnResponse:
        with sdk_errors(self._sdk, self.name, too_long=lambda exc: "prompt is too long" in str(exc.message).lower()):
            reply = await self._client.messages.create(model=self.model, **to_wire(request))
        content: list[Text | ToolCall] = []
        for block in reply.content:
            if block.type == "text":
                content.append(Text(block.text))
            elif block.type == "tool_use":
                content.append(ToolCall(block.id, block.name, dict(block.input or {})))
        usage = reply.usage
        cache_read = usage.cache_read_input_tokens or 0
        cache_write = usage.cache_creation_input_tokens or 0
        return TurnResponse(
            Message("assistant", content),
            Usage(usage.input_tokens + cache_read + cache_write, usage.output_tokens, cache_read, cache_write),
            reply.stop_reason or "",
        )

