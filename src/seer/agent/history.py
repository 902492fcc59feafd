"""Rebuild a conversation from `transcript.jsonl`, so a stopped or killed run can go on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seer.agent.budget import Spent
from seer.agent.messages import Message, Text, ToolCall, ToolReturn, Usage

__all__ = ["INTERRUPTED_CALL", "rebuild"]

INTERRUPTED_CALL = (
    "This call did not finish: the run was stopped while it ran. The run has been resumed; the kernel "
    "was restored by re-running the notebook's completed cells. Check the state before relying on it."
)


def rebuild(events: list[dict[str, Any]], run_path: Path) -> tuple[list[Message], Spent]:
    """The messages the model had seen, and what the run had spent, as of the last recorded event.

    Tool calls with no recorded result (the process died mid-call) get an error result saying so.
    """
    messages: list[Message] = []
    spent = Spent()
    for event in events:
        kind = event["kind"]
        if kind == "user":
            messages.append(Message("user", [Text(event["text"])]))
        elif kind == "model_turn":
            content: list[Any] = [Text(event["text"])] if event["text"] else []
            content += [ToolCall(c["id"], c["name"], c["arguments"], c.get("malformed")) for c in event["tool_calls"]]
            messages.append(Message("assistant", content))
            spent.turns = event["spent"]["turns"]
            spent.usage = Usage(*(event["spent"][k] for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")))
            spent.cost_usd = event["spent"]["cost_usd"]
            spent.cost_known = event["spent"]["cost_known"]
            spent.wall_s = event["spent"]["wall_s"]
        elif kind == "tool_result":
            images = tuple((run_path / path).read_bytes() for path in event["images"])
            result = ToolReturn(event["call_id"], event["name"], event["text"], images, event["is_error"])
            if messages and messages[-1].role == "user" and all(isinstance(b, ToolReturn) for b in messages[-1].content):
                messages[-1].content.append(result)
            else:
                messages.append(Message("user", [result]))
        elif kind == "compaction":
            replaced = event["replaced_messages"]
            summary = Message("user", [Text(f"Summary of the earlier part of this investigation:\n{event['summary']}")])
            messages[1 : 1 + replaced] = [summary]
    _answer_dangling_calls(messages)
    return messages, spent


def _answer_dangling_calls(messages: list[Message]) -> None:
    """Give every tool call without a result an error result, so the conversation is well formed."""
    for index, message in enumerate(messages):
        if message.role != "assistant" or not message.tool_calls:
            continue
        following = messages[index + 1] if index + 1 < len(messages) else None
        answered = {b.call_id for b in following.content if isinstance(b, ToolReturn)} if following else set()
        missing = [ToolReturn(c.id, c.name, INTERRUPTED_CALL, is_error=True) for c in message.tool_calls if c.id not in answered]
        if not missing:
            continue
        if following is not None and following.role == "user" and answered:
            following.content.extend(missing)
        else:
            messages.insert(index + 1, Message("user", list(missing)))
