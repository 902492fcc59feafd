"""The researcher's terminal: a live view of a run's events, and the `seer chat` interaction."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from seer.session import Session

__all__ = ["TerminalInteraction", "event_printer"]

_QUIT = {"/quit", "/exit", "/stop"}


def _short(text: str, limit: int = 600) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else text[: limit // 2] + f"\n  … ({len(text) - limit:,} characters) …\n" + text[-limit // 2 :]


def event_printer(out: TextIO = sys.stdout) -> Callable[[dict[str, Any]], None]:
    """A transcript observer that prints what the agent says and does, one block per event; on a terminal,
    a running cell's progress (time so far, last printed line) on one line that rewrites itself."""
    live = out.isatty()
    pending = [False]

    def show(event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "progress":
            if live:
                print(f"\r\033[K  … {event['text'][:120]}", end="", file=out, flush=True)
                pending[0] = True
            return
        if pending[0]:
            print("\r\033[K", end="", file=out)
            pending[0] = False
        if kind == "model_turn":
            if event["text"]:
                print(f"\nagent> {event['text']}", file=out)
            for call in event["tool_calls"]:
                args = call["arguments"]
                shown = args.get("code") or args.get("source") or args.get("report") or args.get("question") or args
                print(f"\n▶ {call['name']}\n{_short(str(shown))}", file=out)
        elif kind == "tool_result":
            images = f" (+{len(event['images'])} image)" if event["images"] else ""
            print(_short(event["text"]) + images, file=out)
        elif kind == "retry":
            print(f"[retrying in {event['wait_s']} s: {event['error']}]", file=out)
        elif kind == "stopped":
            print(f"\n■ stopped: {event['reason']} ({event['detail']})", file=out)
        out.flush()

    return show


class TerminalInteraction:
    """Talk with the agent from a terminal. Ctrl-C interrupts the running cell and lets you speak
    before the next turn; an empty line, `/quit` or end-of-input ends the run."""

    def __init__(self, read: Callable[[str], str] = input) -> None:
        self._read = read
        self._interrupted = False
        self.session: Session | None = None

    def attach(self, session: Session) -> None:
        self.session = session

    async def _prompt(self, text: str) -> str | None:
        try:
            line = await anyio.to_thread.run_sync(self._read, text)
        except EOFError:
            return None
        return None if line.strip() in _QUIT else line

    async def next_message(self) -> str | None:
        self._interrupted = False
        line = await self._prompt("\nyou> ")
        return line if line and line.strip() else None

    async def answer(self, question: str) -> str:
        line = await self._prompt(f"\nagent asks> {question}\nyour answer> ")
        return line or "(the researcher gave no answer; use your judgement)"

    def wants_to_speak(self) -> bool:
        return self._interrupted

    async def on_interrupt(self) -> None:
        """Ctrl-C: stop the running cell (if any) and take the floor before the next model call."""
        self._interrupted = True
        if self.session is not None:
            await self.session.interrupt()
