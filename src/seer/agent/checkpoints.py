"""Checkpoint questions answered from outside the agent's process (the viewer's page), through files in
the run directory: the agent's side writes `checkpoint.json` and waits for `answers/<id>.txt`, which
the viewer writes.
Both are written atomically, so neither side ever reads half a file."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from seer.run import atomic_write, now_iso

__all__ = ["PageAnswers", "pending", "write_answer"]

_PENDING = "checkpoint.json"


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
