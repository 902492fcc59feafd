"""OpenAI Chat Completions adapter, for OpenAI and every compatible server (OpenRouter, vLLM, Ollama,
llama.cpp…): the wire format is one, the endpoint is what differs.

Chat Completions tool messages carry text only, so images from a tool call follow the tool messages
in one user message that names the call they came from.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from seer.agent.messages import Image, Message, Text, ToolCall, ToolReturn, TurnRequest, TurnResponse, Usage
from seer.agent.providers.base import ProviderError, SdkProvider, sdk_errors

__all__ = ["OpenAIProvider"]


def _image_part(png: bytes) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}}


def _messages(request: TurnRequest) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
    for message in request.messages:
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.malformed or json.dumps(c.arguments)}}
                    for c in message.tool_calls
                ]
            wire.append(entry)
            continue
        parts: list[dict[str, Any]] = []
        for block in message.content:
            if isinstance(block, ToolReturn):
                text = ("[error] " if block.is_error else "") + (block.text or "(empty)")
                wire.append({"role": "tool", "tool_call_id": block.call_id, "content": text})
                if block.images:
                    parts.append({"type": "text", "text": f"Images from tool call {block.call_id} ({block.name}):"})
                    parts += [_image_part(png) for png in block.images]
            elif isinstance(block, Text):
                parts.append({"type": "text", "text": block.text})
            elif isinstance(block, Image):
                parts.append(_image_part(block.png))
        if parts:
            wire.append({"role": "user", "content": parts})
    return wire


def to_wire(request: TurnRequest, *, max_tokens_field: str = "max_tokens") -> dict[str, Any]:
    """The Chat Completions request body for a turn (without `model`)."""
    body: dict[str, Any] = {"messages": _messages(request), max_tokens_field: request.max_tokens}
    if request.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]}}
            for t in request.tools
        ]
    return body


class OpenAIProvider(SdkProvider):
    """Any model behind a Chat Completions endpoint."""

    name = sdk = "openai"
    client = "AsyncOpenAI"
    key_env = "OPENAI_API_KEY"
    keyless = "none"

    @property
    def _max_tokens_field(self) -> str:
        """OpenAI's own API wants max_completion_tokens; compatible servers still read max_tokens."""
        return "max_completion_tokens" if self.endpoint.base_url is None else "max_tokens"

    async def turn(self, request: TurnRequest) -> TurnResponse:
        with sdk_errors(self._sdk, self.name, too_long=_context_overflow):
            reply = await self._client.chat.completions.create(
                model=self.model, **to_wire(request, max_tokens_field=self._max_tokens_field)
            )
        if not reply.choices:
            raise ProviderError("openai: the reply had no choices", retryable=True)
        choice = reply.choices[0]
        content: list[Text | ToolCall] = [Text(choice.message.content)] if choice.message.content else []
        for call in choice.message.tool_calls or []:
            content.append(_tool_call(call.id, call.function.name, call.function.arguments))
        usage = reply.usage
        cached = 0
        if usage is not None and usage.prompt_tokens_details is not None:
            cached = usage.prompt_tokens_details.cached_tokens or 0
        return TurnResponse(
            Message("assistant", content),
            Usage(usage.prompt_tokens, usage.completion_tokens, cached) if usage is not None else Usage(),
            choice.finish_reason or "",
        )


def _context_overflow(exc: Any) -> bool:
    return getattr(exc, "code", None) == "context_length_exceeded" or "context length" in str(exc.message).lower()


def _tool_call(call_id: str, name: str, raw: str) -> ToolCall:
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return ToolCall(call_id, name, {}, malformed=raw)
    if not isinstance(arguments, dict):
        return ToolCall(call_id, name, {}, malformed=raw)
    return ToolCall(call_id, name, arguments)

