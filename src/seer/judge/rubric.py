"""The rubric judge: a model grades each criterion and each claim against the notebook cells it cites."""

from __future__ import annotations

import json
import re
from typing import Any

from seer.agent.messages import Message, Text, TurnRequest
from seer.agent.providers.base import Provider
from seer.judge.claims import Claim

__all__ = ["JudgeRefused", "ask_json", "grade"]

SYSTEM = (
    "You grade an AI research agent's final report. You see the task, the hidden ground truth, the grading "
    "criteria, and every claim of the report with the notebook cells it cites. A claim is supported only if "
    "the cited cells show it. Answer with one JSON object and nothing else."
)
FORMAT = """{"criteria": {"<criterion name>": {"met": true|false, "reason": "..."}},
 "claims": [{"index": <claim number>, "verdict": "supported"|"unsupported"|"contradicted", "reason": "..."}],
 "correct": true|false}"""


class JudgeRefused(Exception):
    """The judge model did not give a usable verdict."""


async def ask_json(provider: Provider, system: str, prompt: str, max_tokens: int = 4096) -> Any:
    """Ask the judge model once; the JSON object its reply holds.

    Raises:
        JudgeRefused: The reply holds no JSON object, or an invalid one.
    """
    reply = await provider.turn(TurnRequest(system, [Message("user", [Text(prompt)])], [], max_tokens))
    text = reply.message.text
    match = re.search(r"\{.*\}", text, flags=re.S)
    if match is None:
        raise JudgeRefused(f"the judge gave no JSON verdict: {text[:300]!r}")
    try:
        return json.loads(match.group(0))
    except json.JSONDecodeError:
        raise JudgeRefused(f"the judge's verdict is not valid JSON: {match.group(0)[:300]!r}") from None


def _cells_text(notebook: dict[str, Any], indices: tuple[int, ...]) -> str:
    parts = []
    for index in indices:
        if not 0 <= index < len(notebook["cells"]):
            parts.append(f"[cell {index}: does not exist]")
            continue
        cell = notebook["cells"][index]
        outputs = "".join(o.get("text", "") or "".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", []))
        parts.append(f"[cell {index}]\n{cell['source'][:1500]}\n--- output ---\n{outputs[:1500]}")
    return "\n".join(parts)


async def grade(
    provider: Provider, *, task: str, truth: dict[str, Any], criteria: list[dict[str, str]], claims: list[Claim], notebook: dict[str, Any]
) -> dict[str, Any]:
    """Ask the judge model; returns its parsed verdict.

    Raises:
        JudgeRefused: The reply is a refusal or holds no JSON verdict of the expected shape.
    """
    listed = "\n\n".join(
        f"Claim {i}: {c.text}\nCited cells:\n{_cells_text(notebook, c.cells) or '(none cited)'}" for i, c in enumerate(claims)
    )
    prompt = (
        f"TASK\n{task}\n\nGROUND TRUTH\n{json.dumps(truth)}\n\nCRITERIA\n"
        + "\n".join(f"- {c['name']}: {c['description']}" for c in criteria)
        + f"\n\nCLAIMS\n{listed}\n\nReply with JSON of this shape:\n{FORMAT}"
    )
    verdict = await ask_json(provider, SYSTEM, prompt)
    if not isinstance(verdict, dict) or not isinstance(verdict.get("correct"), bool) or not isinstance(verdict.get("criteria", {}), dict):
        raise JudgeRefused(f"the judge's verdict lacks a boolean `correct` or a `criteria` object: {str(verdict)[:300]}")
    return verdict
