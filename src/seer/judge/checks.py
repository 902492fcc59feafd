"""Deterministic checks: what can be graded without a model."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["CheckResult", "run_check"]


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _secret(report: str, truth: dict[str, Any]) -> CheckResult:
    """The report names the secret (any of its ground-truth keywords, as a whole word)."""
    keywords = list(dict.fromkeys([truth["secret"], *truth.get("keywords", [])]))
    named = [k for k in keywords if re.search(rf"\b{re.escape(k)}\b", report, flags=re.IGNORECASE)]
    if named:
        return CheckResult("secret", True, f"the report names {named[0]!r}")
    return CheckResult("secret", False, f"the report names none of {keywords}")


def run_check(kind: str, report: str, truth: dict[str, Any]) -> CheckResult | None:
    """Run the rubric's deterministic check; `None` when the task has none."""
    if kind == "secret":
        return _secret(report, truth)
    if kind == "none":
        return None
    raise ValueError(f"unknown check kind {kind!r} in rubric.toml; known: secret, none")
