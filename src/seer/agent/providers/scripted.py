"""The scripted provider: replays a fixed plan of tool calls. For baselines, demos and tests.

A plan is a list of steps; step N answers the model call that has N assistant messages before it, so
a resumed run continues where it stopped. A step is `{"tool": NAME, "arguments": {...}}`, or
`{"text": "...", "calls": [{"tool": ..., "arguments": ...}, ...]}` for several calls in one turn. When
the loop asks for a final report (a budget ran out), the plan's `final_report` is handed in with
`finish`. `{{last_output}}` in a string argument stands for what the previous tool call returned, so a
plan can hand in a report its cells computed; an argument that is exactly `{{last_output.KEY}}` becomes
the value at KEY of the JSON object the previous call printed last (a structured answer, say).

A plan stops at the first tool call that fails (a cell that raised or timed out): the run ends as an
error naming the step, not with a report built from a traceback. `"continue_on_error": true` in the
plan goes on instead. Every record of a scripted run says `provider: scripted`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from seer.agent.history import INTERRUPTED_CALL
from seer.agent.messages import Message, Text, ToolCall, ToolReturn, TurnRequest, TurnResponse
from seer.agent.providers.base import ProviderError
from seer.errors import SpecError
from seer.spec_files import read_spec_file

__all__ = ["LAST_OUTPUT", "ScriptedProvider", "load_plan"]

LAST_OUTPUT = "{{last_output}}"
"""In a string argument, replaced by the text the previous tool call returned (a cell's header line
removed): how a plan reports what it computed without knowing it in advance."""
_LAST_KEY = re.compile(r"\{\{last_output\.(\w+)\}\}")


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read a plan file: a JSON list of steps, or `{"steps": [...], "final_report": "..."}`.

    Raises:
        SpecError: The file is missing or malformed; the message says which step and why.
    """
    path = Path(path)
    data = read_spec_file(path, missing="no such plan file")
    plan = {"steps": data} if isinstance(data, list) else data
    if not isinstance(plan, dict) or not isinstance(plan.get("steps"), list):
        raise SpecError(f"{path}: a plan is a JSON list of steps, or an object with a `steps` list")
    if not isinstance(plan.get("continue_on_error", False), bool):
        raise SpecError(f"{path}: `continue_on_error` is true or false")
    for i, step in enumerate(plan["steps"]):
        calls = step.get("calls", [step] if "tool" in step else []) if isinstance(step, dict) else None
        if calls is None or not (calls or step.get("text")):
            raise SpecError(f"{path}: steps[{i}]: give `tool` (and `arguments`), `calls`, or `text`")
        for call in calls:
            if not isinstance(call.get("tool"), str) or not isinstance(call.get("arguments", {}), dict):
                raise SpecError(f"{path}: steps[{i}]: each call needs a `tool` name and an `arguments` object")
    return plan


class ScriptedProvider:
    """Replays `steps`; no model, no key, no cost."""

    name = "scripted"

    def __init__(
        self, steps: list[dict[str, Any]], *, final_report: str | None = None, model: str = "plan", continue_on_error: bool = False
    ) -> None:
        self.model = model
        self.steps = steps
        self.continue_on_error = continue_on_error
        self.final_report = final_report or "The scripted plan was stopped before its end; no findings."

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedProvider:
        plan = load_plan(path)
        return cls(plan["steps"], final_report=plan.get("final_report"), model=Path(path).name,
                   continue_on_error=plan.get("continue_on_error", False))  # fmt: skip

    async def aclose(self) -> None:
        """Nothing to release."""

    async def turn(self, request: TurnRequest) -> TurnResponse:
        position = sum(1 for m in request.messages if m.role == "assistant")
        if request.final:
            call = ToolCall(f"scripted_{position}_0", "finish", {"report": self.final_report})
            return TurnResponse(Message("assistant", [call]), stop_reason="tool_use")
        if position >= len(self.steps):
            raise ProviderError(f"the scripted plan has {len(self.steps)} steps and all were used; end it with finish")
        failed = _failed_call(request.messages)
        if failed is not None and not self.continue_on_error:
            raise ProviderError(f"the scripted plan stopped: step {position - 1} ({failed.name}) failed: {_headline(failed.text)}")
        step = self.steps[position]
        calls = step.get("calls", [step] if "tool" in step else [])
        content: list[Text | ToolCall] = [Text(step["text"])] if step.get("text") else []
        last = _last_output(request.messages)
        content += [
            ToolCall(f"scripted_{position}_{i}", call["tool"], _fill(dict(call.get("arguments", {})), last, position))
            for i, call in enumerate(calls)
        ]
        return TurnResponse(Message("assistant", list(content)), stop_reason="tool_use" if calls else "end_turn")


def _last_output(messages: list[Message]) -> str:
    for message in reversed(messages):
        returns = [b for b in message.content if isinstance(b, ToolReturn)]
        if returns:
            text = returns[-1].text
            return text.split("\n", 1)[1].strip() if text.startswith("[cell ") and "\n" in text else text.strip()
    return ""


def _failed_call(messages: list[Message]) -> ToolReturn | None:
    """The failed tool call of the previous step, if any (the last message holds that step's returns); a
    call cut off by a stop is not a failure: the resumed plan goes on."""
    if not messages or messages[-1].role != "user":
        return None
    failed = (b for b in messages[-1].content if isinstance(b, ToolReturn) and b.is_error and b.text != INTERRUPTED_CALL)
    return next(failed, None)


def _headline(text: str) -> str:
    """A failed call's gist: its first line and its last non-empty line (where a traceback names the error)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " … ".join(dict.fromkeys([lines[0], lines[-1]]))[:600] if lines else "(no output)"


def _fill(arguments: dict[str, Any], last: str, position: int) -> dict[str, Any]:
    """Substitute the previous call's output into string arguments.

    Raises:
        ProviderError: A `{{last_output.KEY}}` argument, and the previous output has no JSON object with KEY.
    """
    filled: dict[str, Any] = {}
    for key, value in arguments.items():
        if isinstance(value, str) and (match := _LAST_KEY.fullmatch(value)):
            filled[key] = _json_field(last, match.group(1), position)
        else:
            filled[key] = value.replace(LAST_OUTPUT, last) if isinstance(value, str) else value
    return filled


def _json_field(last: str, key: str, position: int) -> Any:
    for line in reversed(last.splitlines()):
        if line.strip().startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and key in data:
                return data[key]
    raise ProviderError(f"step {position} of the scripted plan wants {{{{last_output.{key}}}}}, but the previous call printed no JSON object with {key!r}")
