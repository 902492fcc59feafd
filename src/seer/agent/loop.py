"""The tool-use loop: any provider drives a session's toolset in-process, under a budget, on the record.

Each turn: check the budget, call the model (retrying transient failures with backoff, compacting the
conversation if it no longer fits), record the turn, run its tool calls, record their results. The
run ends when the agent calls `finish`, when a budget runs out (the agent is asked for its report
once, then stopped), when it stops acting, on an error that retries cannot fix, or when someone outside
calls `AgentLoop.stop` (the viewer's Stop button).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, Protocol

from seer.agent.budget import Budget, Spent, price_usd
from seer.agent.messages import Image, Message, Text, ToolCall, ToolReturn, TurnRequest, TurnResponse
from seer.agent.providers.base import Provider
from seer.errors import ContextTooLong, ProviderError
from seer.record.transcript import Transcript
from seer.session import Session
from seer.tools.base import ToolContext, Toolset

__all__ = ["AgentLoop", "Interaction", "LoopOptions", "Outcome"]

StopReason = Literal["finished", "budget", "no_action", "error", "interrupted"]

NUDGE = "Continue with the tools, or call `finish` with your final report if you are done."
BATCH_REPLY = "No researcher is watching this run; continue with your best judgement and note the question in your report."


class Interaction(Protocol):
    """A researcher at the other end (a terminal in `seer chat`)."""

    async def next_message(self) -> str | None:
        """The researcher's next message; `None` ends the run."""
        ...

    async def answer(self, question: str) -> str:
        """The researcher's answer to a checkpoint question."""
        ...

    def wants_to_speak(self) -> bool:
        """True when the researcher interrupted and wants to add a message before the next turn."""
        ...


@dataclass(frozen=True)
class LoopOptions:
    """How the loop behaves, apart from the budget."""

    max_tokens: int = 8192
    """Output tokens per model call."""
    max_retries: int = 5
    """Attempts per model call after the first, for retryable failures."""
    backoff_s: float = 1.0
    """First wait between attempts; doubles each time, with jitter, capped at 60 s."""
    max_nudges: int = 2
    """Turns in a row without a tool call before a batch run stops as `no_action`."""
    checkpoint_reply: str = BATCH_REPLY
    """What a batch run answers to `checkpoint`."""
    keep_recent_messages: int = 6
    """Messages kept verbatim when the conversation is compacted."""


@dataclass
class Outcome:
    """How a run ended."""

    reason: StopReason
    detail: str = ""
    limit: str | None = None
    report: str | None = None
    spent: Spent = field(default_factory=Spent)


@dataclass(eq=False)
class AgentLoop:
    """Runs one agent in one session.

    Args:
        provider: The model.
        session: The live notebook session the tools act on.
        tools: The toolset the agent is given (its manifest is what the provider is sent).
        system: The system prompt.
        budget: Hard limits.
        transcript: Where events go.
        options: Retries, nudges, checkpoint reply, compaction.
        interaction: A researcher, for interactive runs; `None` for batch runs.
        answerer: Answers checkpoint questions in a batch run (the viewer's page); without it, the
            batch reply does.
        spent: What earlier parts of this run used (when resuming).
    """

    provider: Provider
    session: Session
    tools: Toolset
    _: KW_ONLY
    system: str
    budget: Budget
    transcript: Transcript
    options: LoopOptions = field(default_factory=LoopOptions)
    interaction: Interaction | None = None
    answerer: Callable[[str], Awaitable[str]] | None = None
    spent: Spent = field(default_factory=Spent)

    def __post_init__(self) -> None:
        self.manifest = self.tools.specs()
        self._wall_before = self.spent.wall_s
        self._started = time.monotonic()
        self._stop_why: str | None = None
        self._stopping = asyncio.Event()
        self._harness_fault: str | None = None
        """Set by a tool result the session cannot get past (`ToolResult.fatal`); the run stops with `error`."""

    async def stop(self, why: str) -> None:
        """End the run from outside, as `interrupted` with `why` as the detail: the running cell is
        interrupted, a model call in flight is abandoned (its cost goes unrecorded), and tool calls not yet
        run are answered with an error, so the conversation stays whole for `seer resume`."""
        self._stop_why = why
        self._stopping.set()
        if self.session.has_kernel:
            await self.session.interrupt()

    async def run(self, messages: list[Message]) -> Outcome:
        """Continue the conversation in `messages` (at least the task) until the run stops."""
        self._started = time.monotonic()
        final_limit: tuple[str, str] | None = None
        nudges = 0
        while True:
            if self._stop_why is not None:
                return self._stop("interrupted", self._stop_why)
            self._clock()
            limit = self.budget.exhausted(self.spent)
            if limit and final_limit is None:
                final_limit = limit
                self._say_user(messages, f"The {limit[0]} budget is exhausted ({limit[1]}). Call `finish` now with "
                               "your final report; no other tool will run.", "budget")  # fmt: skip
            elif limit and final_limit is not None:
                return self._stop("budget", limit[1], limit=limit[0])
            if self.interaction is not None and self.interaction.wants_to_speak():
                said = await self.interaction.next_message()
                if said is None:
                    return self._stop("interrupted", "the researcher ended the run")
                self._say_user(messages, said, "researcher")
            try:
                response = await self._unless_stopped(self._model_call(messages, final=final_limit is not None))
            except ProviderError as exc:
                return self._stop("error", str(exc))
            if response is None:
                continue
            messages.append(response.message)
            calls = response.message.tool_calls
            if not calls:
                if final_limit is not None:
                    return self._stop("budget", final_limit[1], limit=final_limit[0], report=response.message.text or None)
                if self.interaction is not None:
                    said = await self.interaction.next_message()
                    if said is None:
                        return self._stop("interrupted", "the researcher ended the run")
                    self._say_user(messages, said, "researcher")
                    continue
                nudges += 1
                if nudges > self.options.max_nudges:
                    return self._stop("no_action", f"{nudges} turns in a row without a tool call")
                self._say_user(messages, NUDGE, "nudge")
                continue
            nudges = 0
            returns = [await self._run_tool(call, only_finish=final_limit is not None) for call in calls]
            messages.append(Message("user", list(returns)))
            if self._harness_fault is not None:
                return self._stop("error", self._harness_fault)
            report = next((c.arguments.get("report") for c, r in zip(calls, returns) if c.name == "finish" and not r.is_error), None)
            if report is not None:
                if final_limit is not None:
                    return self._stop("budget", final_limit[1], limit=final_limit[0], report=report)
                return self._stop("finished", "the agent called finish", report=report)
            if final_limit is not None:
                return self._stop("budget", final_limit[1], limit=final_limit[0])

    async def _unless_stopped(self, call: Awaitable[TurnResponse]) -> TurnResponse | None:
        """The model's response, or None if the run was stopped while waiting for it."""
        turn = asyncio.ensure_future(call)
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({turn, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if turn.done():
            return turn.result()
        turn.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn
        return None

    def _clock(self) -> None:
        self.spent.wall_s = self._wall_before + time.monotonic() - self._started

    def _say_user(self, messages: list[Message], text: str, source: str) -> None:
        messages.append(Message("user", [Text(text)]))
        self.transcript.append("user", text=text, source=source)

    async def _model_call(self, messages: list[Message], *, final: bool) -> TurnResponse:
        """One model call with retries and compaction; records the turn and what it cost."""
        compacted = False
        attempt = 0
        while True:
            request = TurnRequest(self.system, messages, self.manifest, self.options.max_tokens, final=final)
            began = time.monotonic()
            try:
                response = await self.provider.turn(request)
                break
            except ContextTooLong as exc:
                if compacted or len(messages) <= self.options.keep_recent_messages + 1:
                    raise ProviderError(f"the conversation does not fit even after compaction: {exc}") from None
                await self._compact(messages)
                compacted = True
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.options.max_retries:
                    raise
                attempt += 1
                wait = exc.retry_after_s
                if wait is None:
                    wait = min(60.0, self.options.backoff_s * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                self.transcript.append("retry", error=str(exc), attempt=attempt, wait_s=round(wait, 3))
                await asyncio.sleep(wait)
        cost = price_usd(self.provider.name, self.provider.model, response.usage)
        self.spent.turns += 1
        self.spent.usage = self.spent.usage + response.usage
        if cost is None:
            self.spent.cost_known = False
        else:
            self.spent.cost_usd += cost
        self.transcript.append(
            "model_turn",
            turn=self.spent.turns,
            text=response.message.text,
            tool_calls=[_call_record(c) for c in response.message.tool_calls],
            usage=vars(response.usage),
            cost_usd=cost,
            duration_s=round(time.monotonic() - began, 3),
            stop_reason=response.stop_reason,
            attempts=attempt + 1,
            spent=self.spent.as_dict(),
        )
        return response

    async def _run_tool(self, call: ToolCall, *, only_finish: bool) -> ToolReturn:
        began = time.monotonic()
        if call.malformed is not None:
            result_text = (f"Your call to {call.name} had arguments that are not a JSON object: {call.malformed[:500]!r}. "
                           "Send the call again with a JSON object of arguments.")  # fmt: skip
            ret = ToolReturn(call.id, call.name, result_text, is_error=True)
        elif self._stop_why is not None:
            ret = ToolReturn(call.id, call.name, f"Not run: the run was stopped ({self._stop_why}).", is_error=True)
        elif only_finish and call.name != "finish":
            ret = ToolReturn(call.id, call.name, "The budget is exhausted; only `finish` runs now.", is_error=True)
        else:
            ctx = ToolContext(self.session, call_id=call.id, ask=self._ask, progress=self._progress(call.id))
            result = await self.tools.call(call.name, call.arguments, ctx)
            ret = ToolReturn(call.id, call.name, result.text, tuple(result.images), result.is_error)
            if result.fatal:
                self._harness_fault = f"{call.name}: {result.text}"
        self.transcript.append(
            "tool_result",
            call_id=call.id,
            name=call.name,
            text=ret.text,
            images=[self.transcript.save_image(png) for png in ret.images],
            is_error=ret.is_error,
            duration_s=round(time.monotonic() - began, 3),
        )
        return ret

    def _progress(self, call_id: str) -> Callable[[str], Awaitable[None]] | None:
        """Shows a long call's progress to whoever watches the run live (`seer run`'s terminal); never written
        to the transcript, which records results."""
        observer = self.transcript.observer
        if observer is None:
            return None

        async def show(message: str) -> None:
            observer({"kind": "progress", "call_id": call_id, "text": message})

        return show

    async def _ask(self, question: str) -> str:
        if self.interaction is not None:
            answer, by = await self.interaction.answer(question), "researcher"
        elif self.answerer is not None:
            answer, by = await self.answerer(question), "researcher (viewer)"
        else:
            answer, by = self.options.checkpoint_reply, "batch"
        self.transcript.append("checkpoint", question=question, answer=answer, answered_by=by)
        return answer

    async def _compact(self, messages: list[Message]) -> None:
        """Replace the middle of the conversation with a summary, keeping the task and the recent turns."""
        keep_from = len(messages) - self.options.keep_recent_messages
        while keep_from < len(messages) and messages[keep_from].role != "assistant":
            keep_from += 1
        middle = messages[1:keep_from]
        summary = await self._summarise(middle)
        messages[1:keep_from] = [Message("user", [Text(f"Summary of the earlier part of this investigation:\n{summary}")])]
        self.transcript.append("compaction", summary=summary, replaced_messages=len(middle))

    async def _summarise(self, middle: list[Message]) -> str:
        """A summary written by the model itself; a mechanical digest if that call fails too."""
        digest = digest_messages(middle)
        request = TurnRequest(
            "You summarise a research agent's work so it can continue with less context.",
            [Message("user", [Text("Summarise the findings, the code state (variables defined) and open questions "
                                   f"of this transcript in under 300 words:\n\n{digest[-60_000:]}")])],  # fmt: skip
            [],
            2048,
        )
        try:
            return (await self.provider.turn(request)).message.text or digest[-4000:]
        except ProviderError:
            return digest[-4000:]

    def _stop(self, reason: StopReason, detail: str, *, limit: str | None = None, report: str | None = None) -> Outcome:
        self._clock()
        outcome = Outcome(reason, detail, limit, report, self.spent)
        self.transcript.append("stopped", reason=reason, limit=limit, detail=detail, report=report, spent=self.spent.as_dict())
        return outcome


def _call_record(call: ToolCall) -> dict[str, Any]:
    record: dict[str, Any] = {"id": call.id, "name": call.name, "arguments": call.arguments}
    if call.malformed is not None:
        record["malformed"] = call.malformed
    return record


def digest_messages(messages: list[Message], *, max_result_chars: int = 500) -> str:
    """A plain-text account of messages: what was said, called and returned (results shortened)."""
    lines = []
    for message in messages:
        for block in message.content:
            if isinstance(block, Text):
                lines.append(f"{message.role}: {block.text}")
            elif isinstance(block, ToolCall):
                lines.append(f"call {block.name}({block.arguments})")
            elif isinstance(block, ToolReturn):
                lines.append(f"result of {block.name}: {block.text[:max_result_chars]}")
            elif isinstance(block, Image):
                lines.append("[image]")
    return "\n".join(lines)

