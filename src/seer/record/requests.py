"""What the viewer's page asks of a running agent, through files in the run directory (the agent runs in
another process):
- checkpoint answers: the agent's side writes `checkpoint.json` and waits for `answers/<id>.txt`, which
  the viewer writes;
- a stop request: the viewer writes `stop.json`; the run ends before its next step.
Every file is written atomically, so neither side ever reads half of one."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from seer.run import atomic_write, now_iso

__all__ = ["PageAnswers", "clear_stop", "pending", "request_stop", "stop_request", "wait_for_stop", "write_answer"]

_PENDING = "checkpoint.json"
_STOP = "stop.json"


def pending(run: Path) -> dict[str, Any] | None:
    """The question waiting for an answer, if any: `{"id", "question", "asked_at", "wait_s"}`."""
    try:
        return json.loads((run / _PENDING).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def write_answer(run: Path, question_id: int, answer: str) -> None:
    """Answer the pending question `question_id`.

    Raises:
        ValueError: No question with that id is waiting, or the answer is empty.
    """
    waiting = pending(run)
    if waiting is None or waiting["id"] != question_id:
        raise ValueError(f"no question {question_id} is waiting in this run; it may have been answered or timed out")
    if not answer.strip():
        raise ValueError("the answer is empty; write what the agent should know or do")
    (run / "answers").mkdir(exist_ok=True)
    atomic_write(run / "answers" / f"{question_id}.txt", answer)


class PageAnswers:
    """Asks the researcher watching in the viewer; after `wait_s` without an answer, says so to the agent."""

    def __init__(self, run: Path, *, wait_s: float = 600.0, poll_s: float = 0.2) -> None:
        self.run = run
        self.wait_s = wait_s
        self.poll_s = poll_s
        self._asked = 0

    async def __call__(self, question: str) -> str:
        self._asked += 1
        answer_file = self.run / "answers" / f"{self._asked}.txt"
        record = {"id": self._asked, "question": question, "asked_at": now_iso(), "wait_s": self.wait_s}
        atomic_write(self.run / _PENDING, json.dumps(record))
        deadline = time.monotonic() + self.wait_s
        try:
            while time.monotonic() < deadline:
                if answer_file.exists():
                    return answer_file.read_text()
                await asyncio.sleep(self.poll_s)
            return f"No answer came from the researcher within {self.wait_s:g} s; continue with your best judgement and say so in the report."
        finally:
            (self.run / _PENDING).unlink(missing_ok=True)


def request_stop(run: Path, why: str) -> None:
    """Ask the agent running in `run` to stop; `why` is recorded as the stop's detail."""
    atomic_write(run / _STOP, json.dumps({"requested_at": now_iso(), "why": why}))


def stop_request(run: Path) -> str | None:
    """Why a stop of `run` was requested, or None if none was."""
    try:
        return str(json.loads((run / _STOP).read_text())["why"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


def clear_stop(run: Path) -> None:
    """Forget a stop request (a resumed run starts without one)."""
    (run / _STOP).unlink(missing_ok=True)


async def wait_for_stop(run: Path, *, poll_s: float = 0.25) -> str:
    """Return why, once a stop of `run` is requested."""
    while (why := stop_request(run)) is None:
        await asyncio.sleep(poll_s)
    return why
