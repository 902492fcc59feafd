"""Deterministic checks: what can be graded without a model.

A rubric lists its checks as `[[checks]]` tables: `kind = "answer"` compares a field of the structured
answer with the ground truth (normalised, with the listed synonyms); `steering_effect` and
`refusal_effect` re-measure the vector or direction the answer names (`seer.judge.measure`); the
replications' kinds (`refusal_ablation`, `actadd_effect`, `seer.judge.replicate`) recompute a paper's
metric from the run's saved artifacts on the model the run used; `spd_components`
(`seer.judge.decomposition`) recomputes the SPD paper's MMCS and ML2R against the task's true weights;
`introspection_rates` (`seer.judge.introspection`) re-runs the injected-thought trials; `latent_diff`
(`seer.judge.diffing`) recounts which SAE features a fine-tune uses more than its base; `entity_separation`
(`seer.judge.entities`) recounts how well two SAE latents tell known entities from unknown ones. The prose
of the report is never keyword-searched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seer.answer import normalise
from seer.task import CHECK_KINDS

__all__ = ["CHECKS", "CheckContext", "CheckResult", "run_checks"]


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)
    """What a re-measuring check measured (rates per condition, thresholds), for `score.json`."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CheckContext:
    """The run a check grades, beyond its answer."""

    run: Path | None = None
    """The run directory: a check may write what it draws under `<run>/judge/`."""
    models: tuple[dict[str, Any], ...] = ()
    """The run's models as `run.json` records them (id, name, adapter, dtype…): what a replication re-measures on."""


def _answer(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any],
            context: CheckContext) -> CheckResult:  # fmt: skip
    """The answer's `field` names the secret: equal, once normalised, to it or one of its synonyms."""
    name = settings.get("field", "answer")
    accepted = [truth["secret"], *truth.get("keywords", [])]
    given = answer.get(name)
    if not isinstance(given, str) or not given.strip():
        return CheckResult("answer", False, f"the answer gives no {name}")
    if normalise(given) in {normalise(a) for a in accepted}:
        return CheckResult("answer", True, f"answer.{name} = {given!r} is right")
    return CheckResult("answer", False, f"answer.{name} = {given!r} is not the secret")


def _measure(kind: str) -> Callable[..., CheckResult]:
    def run(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any],
            context: CheckContext) -> CheckResult:  # fmt: skip
        from seer.judge import measure  # loads models: imported only when a task re-measures

        if kind == "steering_effect":
            return measure.steering_effect(workspace, answer, settings)
        return measure.refusal_effect(workspace, answer, truth, settings)

    return run


def _lazy(module: str, kind: str) -> Callable[..., CheckResult]:
    """The check `seer.judge.<module>.<kind>`, imported when first run (re-measuring checks import torch)."""

    def run(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any],
            context: CheckContext) -> CheckResult:  # fmt: skip
        import importlib

        return getattr(importlib.import_module(f"seer.judge.{module}"), kind)(workspace, answer, truth, settings, context)

    return run


CHECKS: dict[str, Callable[..., CheckResult]] = {
    "answer": _answer,
    "steering_effect": _measure("steering_effect"),
    "refusal_effect": _measure("refusal_effect"),
    "refusal_ablation": _lazy("replicate", "refusal_ablation"),
    "actadd_effect": _lazy("replicate", "actadd_effect"),
    "spd_components": _lazy("decomposition", "spd_components"),
    "introspection_rates": _lazy("introspection", "introspection_rates"),
    "latent_diff": _lazy("diffing", "latent_diff"),
    "entity_separation": _lazy("entities", "entity_separation"),
}
"""The implementation of every check kind a task may name (`seer.task.CHECK_KINDS`)."""
if set(CHECKS) != set(CHECK_KINDS):
    raise RuntimeError(f"seer.judge.checks implements {sorted(CHECKS)} but tasks may name {sorted(CHECK_KINDS)}")


def run_checks(checks: list[dict[str, Any]], *, workspace: Path, answer: Mapping[str, Any] | None, truth: Mapping[str, Any],
               context: CheckContext | None = None) -> list[CheckResult]:  # fmt: skip
    """Run a rubric's checks on a structured answer; with no answer, each fails saying so."""
    if answer is None:
        return [CheckResult(c["kind"], False, "the run handed in no structured answer") for c in checks]
    return [CHECKS[c["kind"]](workspace, answer, truth, c, context or CheckContext()) for c in checks]
