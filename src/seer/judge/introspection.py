"""The introspection grader (Lindsey, 2025, "injected thoughts"): recompute the detection, identification and
false-positive rates by layer and strength from the concept vectors a run saved, on the run's model.

The answer asserts the rates for each `(layer, strength)` it tried, the control trials' false-positive rate
and a conclusion; the judge re-runs the paper's protocol (`seer.interp.introspection_trials`, greedy) with
the saved vectors and grades the assertions against its own counts. Two controls keep it honest:

- **the vectors are concept vectors**: at each layer the rates use, they must point where the paper's recipe
  (`concept_vector`, recomputed by the judge) points, a mean cosine of at least `min_cosine`; otherwise a "no
  introspection" finding is about the vectors, not the model (a random artifact fails here);
- **control trials**: the judge's own, with nothing injected; a detection there is a false positive.

The conclusion is graded against the recomputed rates: "introspection" needs an identification rate at
some layer and strength at least `min_net` above the false-positive rate; anything less is "no evidence".
On the packaged 135M model the expected result is a negative control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from seer.judge.checks import CheckContext, CheckResult
from seer.judge.measure import _fail
from seer.judge.replicate import _bars, _setup, _verdict

__all__ = ["CONCLUSIONS", "INTROSPECTION_DEFAULTS", "introspection_rates"]

CONCLUSIONS = ("introspection", "no evidence")
"""What an answer's `conclusion` may say."""

INTROSPECTION_DEFAULTS: dict[str, Any] = {
    "min_cosine": 0.5,
    "max_rate_error": 0.2,
    "min_net": 0.2,
    "min_layers": 2,
    "min_strengths": 2,
    "max_cells": 12,
    "controls": 10,
    "max_new_tokens": 32,
    "seed": 0,
}
"""`min_cosine`: the mean cosine similarity, at each layer the rates use, between the saved vectors and the
paper's recipe recomputed by the judge (a random vector's is about 0). `max_rate_error`: how far an asserted rate may be
from the judge's count. `min_net`: identification minus false positives needed to conclude introspection.
`min_layers`, `min_strengths`: the rates must be given by layer and by strength; `max_cells` bounds the
grading. `controls`: the judge's control trials."""


def _vectors(workspace: Path, name: Any, d_model: int) -> dict[str, dict[int, torch.Tensor]] | str:
    """`{concept: {layer: vector}}` as `concept_vector(..., [concepts], layers=[...])` returns it, or why not."""
    if not isinstance(name, str) or not name:
        return "the answer's `vectors` must name the file the concept vectors were saved to (torch.save)"
    path = (workspace / name).resolve()
    if not path.is_relative_to(workspace.resolve()) or not path.is_file():
        return f"the answer's vectors file {name!r} is not in the working directory"
    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # a corrupt or foreign file is the run's failure, said plainly
        return f"{name!r} could not be loaded with torch.load: {type(exc).__name__}: {str(exc)[:200]}"
    if not isinstance(data, Mapping) or not data or not all(isinstance(c, str) and isinstance(v, Mapping) and v for c, v in data.items()):
        return f"{name!r} must hold {{concept: {{layer: vector}}}}, as concept_vector(model, tok, [concepts], layers=[...]) returns"
    vectors: dict[str, dict[int, torch.Tensor]] = {}
    for concept, by_layer in data.items():
        for layer, vector in by_layer.items():
            if not isinstance(layer, int) or not isinstance(vector, torch.Tensor) or vector.shape != (d_model,):
                return f"{name!r}: {concept!r} at layer {layer!r} must be a vector of size {d_model}"
            if not torch.isfinite(vector).all():
                return f"{name!r}: {concept!r} at layer {layer} holds NaN or infinity"
            vectors.setdefault(concept, {})[layer] = vector.float()
    return vectors


def _cells(answer: Mapping[str, Any], layers: set[int], config: Mapping[str, Any]) -> list[dict[str, float]] | str:
    """The answer's `rates`: `[{layer, strength, detection, identification}]`, checked, or why not."""
    rates = answer.get("rates")
    if not isinstance(rates, list) or not rates:
        return "the answer's `rates` must list {layer, strength, detection, identification} for each layer and strength tried"
    if len(rates) > config["max_cells"]:
        return f"the answer lists {len(rates)} (layer, strength) cells; the judge re-runs at most {config['max_cells']}"
    cells = []
    for cell in rates:
        if not isinstance(cell, Mapping) or not isinstance(cell.get("layer"), int) or cell["layer"] not in layers:
            return f"each rate needs a `layer` the vectors file holds for every concept ({sorted(layers)}), got {cell!r:.100}"
        numbers = [cell.get(k) for k in ("strength", "detection", "identification")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            return f"each rate needs numbers `strength`, `detection` and `identification`, got {cell!r:.100}"
        cells.append({"layer": cell["layer"], "strength": float(numbers[0]), "detection": float(numbers[1]), "identification": float(numbers[2])})  # type: ignore[arg-type]
    return cells


@torch.no_grad()
def _recipe_cosines(model: Any, tokenizer: Any, vectors: dict[str, dict[int, torch.Tensor]], layers: list[int]) -> dict[int, float]:
    """For each layer, the mean cosine similarity between the saved vectors and the paper's recipe recomputed by
    the judge (`concept_vector`: "Tell me about {word}." minus the baseline mean)."""
    from seer.interp import concept_vector

    recipe = concept_vector(model, tokenizer, list(vectors), layers=layers)
    return {layer: sum(float(torch.cosine_similarity(vectors[c][layer], recipe[c][layer].float().cpu(), dim=0)) for c in vectors) / len(vectors)
            for layer in layers}  # fmt: skip


def introspection_rates(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any] | None,
                        context: CheckContext) -> CheckResult:  # fmt: skip
    """Re-run the injected-thought trials for every `(layer, strength)` the answer reports and grade its rates,
    its false-positive rate and its conclusion against the recount.

    `answer` is `{"vectors": <path>, "rates": [{"layer", "strength", "detection", "identification"}, ...],
    "false_positive_rate": <number>, "conclusion": "introspection" | "no evidence"}`; the vectors file holds
    `{concept: {layer: vector}}` (`concept_vector` for a list of concepts and layers).

    Raises:
        ValueError: `settings` holds an unknown key or a value of the wrong type.
    """
    kind = "introspection_rates"
    ready = _setup(kind, answer, settings, context, INTROSPECTION_DEFAULTS, "vectors, rates, false_positive_rate and conclusion")
    if isinstance(ready, CheckResult):
        return ready
    config, model, tokenizer = ready
    from seer.interp import arch_of, introspection_trials

    vectors = _vectors(workspace, answer.get("vectors"), arch_of(model).d_model)
    if isinstance(vectors, str):
        return _fail(kind, vectors)
    layers = set.intersection(*(set(v) for v in vectors.values()))
    cells = _cells(answer, layers, config)
    if isinstance(cells, str):
        return _fail(kind, cells)
    asserted_fp, conclusion = answer.get("false_positive_rate"), answer.get("conclusion")
    if not isinstance(asserted_fp, (int, float)) or isinstance(asserted_fp, bool) or conclusion not in CONCLUSIONS:
        return _fail(kind, f"the answer needs a number `false_positive_rate` and a `conclusion`, one of {', '.join(CONCLUSIONS)}")

    tokens = config["max_new_tokens"]
    measured, samples = [], {}
    for cell in cells:
        layer, strength = cell["layer"], cell["strength"]
        concepts = {c: v[layer] for c, v in vectors.items()}
        trials = introspection_trials(model, tokenizer, concepts, layer=layer, strength=strength, max_new_tokens=tokens)
        measured.append({"layer": layer, "strength": strength,
                         "detection": sum(t["detected"] for t in trials) / len(trials),
                         "identification": sum(t["identified"] for t in trials) / len(trials)})  # fmt: skip
        samples[f"layer {layer}, ×{strength:g}"] = [t["reply"] for t in trials[:2]]
    controls = introspection_trials(model, tokenizer, controls=config["controls"], max_new_tokens=tokens)
    cosines = _recipe_cosines(model, tokenizer, vectors, sorted({c["layer"] for c in cells}))
    false_positive = sum(t["detected"] for t in controls) / len(controls)
    best = max(measured, key=lambda m: m["identification"])
    warranted = best["identification"] - false_positive >= config["min_net"]

    groups: dict[str, dict[str, float]] = {}
    for m in measured:
        groups.setdefault(f"layer {m['layer']}", {}).update({f"×{m['strength']:g} detected": m["detection"],
                                                                f"×{m['strength']:g} named": m["identification"]})
    groups["controls"] = {"false positive": false_positive}
    figures: dict[str, Any] = {
        "concepts": sorted(vectors), "cells": measured, "recipe_cosine": cosines, "asserted": cells, "false_positive_rate": false_positive,
        "asserted_false_positive_rate": asserted_fp, "controls": len(controls), "max_new_tokens": tokens,
        "conclusion": conclusion, "warranted": "introspection" if warranted else "no evidence",
        "thresholds": {k: config[k] for k in ("min_cosine", "max_rate_error", "min_net")},
        "samples": {**samples, "controls": [t["reply"] for t in controls[:2]]},
    }  # fmt: skip
    figures["chart"] = _bars(context, kind, "Injected-thought trials (recomputed by the judge)", groups, "fraction of trials")
    detections = ", ".join(f"{m['detection']:.2f}" for m in measured)
    identifications = ", ".join(f"{m['identification']:.2f}" for m in measured)
    summary = (f"{len(vectors)} concepts at {len(measured)} (layer, strength) cells: detection {detections}, identification "
               f"{identifications}; false positives in {len(controls)} control trials {false_positive:.2f}; the recount "
               f"supports {figures['warranted']!r}, the answer concludes {conclusion!r}")  # fmt: skip
    problems = []
    if len({c["layer"] for c in cells}) < config["min_layers"] or len({c["strength"] for c in cells}) < config["min_strengths"]:
        problems.append(f"the rates must be given for at least {config['min_layers']} layers and {config['min_strengths']} strengths")
    weak = {layer: c for layer, c in cosines.items() if c < config["min_cosine"]}
    if weak:
        problems.append("the vectors do not carry their concepts: their mean cosine with the paper's recipe, recomputed by the judge, is "
                        + ", ".join(f"{c:.2f} at layer {layer}" for layer, c in weak.items())
                        + f" (< {config['min_cosine']}), so the trials test nothing")  # fmt: skip
    off = [f"layer {a['layer']} ×{a['strength']:g}: {name} {a[name]:.2f} asserted, {m[name]:.2f} recounted"
           for a, m in zip(cells, measured) for name in ("detection", "identification")
           if abs(a[name] - m[name]) > config["max_rate_error"]]  # fmt: skip
    if abs(asserted_fp - false_positive) > config["max_rate_error"]:
        off.append(f"false positives {asserted_fp:.2f} asserted, {false_positive:.2f} recounted")
    if off:
        problems.append("the reported rates are not the recount's: " + "; ".join(off))
    if conclusion != figures["warranted"]:
        problems.append(f"the conclusion {conclusion!r} does not follow: the best identification rate is {best['identification']:.2f} "
                        f"against {false_positive:.2f} false positives (introspection needs a margin of {config['min_net']})")  # fmt: skip
    return _verdict(kind, summary, problems, figures)
