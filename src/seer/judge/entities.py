"""The entity-recognition grader (Ferrando et al., 2025): recount the separation scores of the run's known- and
unknown-entity SAE latents, and check that they separate entities the run never saw.

The judge labels the entities itself, with the run's model (`seer.interp.known_entities`: the greedy completion
names the entity's attribute). On the shipped entities (`entities.json`, checked unchanged) it recounts each
latent's MaxMin score, the minimum over entity types of `f_known − f_unknown` (negated for the unknown latent),
which the answer must report within a tolerance. On the ground truth's held-out entities the latent must still
separate: its mean score over types at least `min_score`, beyond what shuffling the known/unknown labels within
each type gives (a one-sided permutation test). Both latents must be rare on ordinary text (the paper's 2%
filter). A latent picked at random fails: it is rarely active on entity tokens at all. The figures also give each
latent's held-out scores on real entities alone (made-up ones left out), the paper's own setting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from seer.judge.checks import CheckContext, CheckResult
from seer.judge.measure import _fail
from seer.judge.replicate import _answer_sae, _bars, _setup, _verdict

__all__ = ["ENTITY_DEFAULTS", "entity_separation"]

ENTITY_DEFAULTS: dict[str, Any] = {"min_score": 0.1, "tolerance": 0.1, "max_density": 0.02, "permutations": 500, "max_p": 0.05,
                                   "generic_windows": 40, "seed": 0}  # fmt: skip
"""`min_score`: the held-out mean separation score over types each latent needs; `max_p`: the largest permutation
p-value it may have (`permutations` label shuffles within each type); `tolerance`: how far the answer's reported
train-set MaxMin may be from the recount; `max_density`: the largest fraction of ordinary-text tokens (the first
`generic_windows` 128-token windows of the Python documentation's prose) a latent may be active on."""

ROLES = {"known": 1.0, "unknown": -1.0}
"""Each latent the answer names, and the sign that turns its separation score into "higher is better"."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores(model: Any, tokenizer: Any, sae: Any, data: Mapping[str, Any], layer: int) -> tuple[dict[str, torch.Tensor], dict[str, list[bool]]] | str:
    """Per entity type: the judge's known labels and the `[n, d_sae]` active latents at each entity's last token; or
    why not (a type whose entities the model knows all or none of)."""
    from seer.interp import entity_prompt, known_entities
    from seer.interp.entities import _active

    actives, labels = {}, {}
    for kind, template in data["templates"].items():
        rows = data["entities"][kind]
        names = [r["name"] for r in rows]
        labels[kind] = known_entities(model, tokenizer, template, names, [r["answer"] for r in rows])
        if all(labels[kind]) or not any(labels[kind]):
            return f"the model knows {sum(labels[kind])} of {len(names)} {kind} entities: no known/unknown split to separate"
        actives[kind] = _active(model, tokenizer, sae, [entity_prompt(template, n) for n in names], layer)
    return actives, labels


def _separation(active: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """`[..., d_sae]` `f_known − f_unknown` for one or several (stacked) label vectors `known` `[..., n]`."""
    k = known.float()
    return (k @ active) / k.sum(-1, keepdim=True) - ((1 - k) @ active) / (1 - k).sum(-1, keepdim=True)


def entity_separation(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any] | None,
                      context: CheckContext) -> CheckResult:  # fmt: skip
    """Recount and grade the answer's `known_latent` and `unknown_latent`.

    `answer` holds `sae` (an SAE folder in the working directory, or `release:sae_id`), `layer`, `known_latent`,
    `unknown_latent`, and the train-set MaxMin scores `known_score` and `unknown_score` (each positive: how much more
    often the latent is active on known, or unknown, entities, in the type where it separates least).

    Raises:
        ValueError: `settings` holds an unknown key or a value of the wrong type, or the ground truth lacks
            `templates`, `held_out` or `train_sha256`.
    """
    kind = "entity_separation"
    ready = _setup(kind, answer, settings, context, ENTITY_DEFAULTS, "sae, layer, known_latent, unknown_latent and their scores")
    if isinstance(ready, CheckResult):
        return ready
    config, model, tokenizer = ready
    from seer.interp import arch_of, latent_frequency
    from seer.saes.train import corpus

    if not all(k in truth for k in ("templates", "held_out", "train_sha256")):
        raise ValueError("the ground truth needs `templates`, `held_out` entities and the shipped entities' `train_sha256`")
    shipped = workspace / "entities.json"
    if not shipped.is_file() or _sha256(shipped) != truth["train_sha256"]:
        return _fail(kind, "entities.json in the working directory is missing or changed: the train-set recount needs the shipped one")
    loaded = _answer_sae(workspace, answer.get("sae"))
    if isinstance(loaded, str):
        return _fail(kind, loaded)
    sae, weights = loaded
    if truth.get("sae_sha256") and (weights is None or _sha256(weights) != truth["sae_sha256"]):
        return _fail(kind, "the answer's SAE is not the one the task ships in `sae/`: the paper's latents come from an SAE trained without entity labels")
    arch = arch_of(model)
    layer, d_sae = answer.get("layer"), sae.W_enc.shape[1]
    if not isinstance(layer, int) or isinstance(layer, bool) or not 0 <= layer < arch.n_layers or sae.W_enc.shape[0] != arch.d_model:
        return _fail(kind, f"the SAE (d_in {sae.W_enc.shape[0]}) and `layer` {layer!r} must fit the model ({arch.n_layers} layers, d_model {arch.d_model})")
    latents = {role: answer.get(f"{role}_latent") for role in ROLES}
    if not all(isinstance(f, int) and not isinstance(f, bool) and 0 <= f < d_sae for f in latents.values()) or latents["known"] == latents["unknown"]:
        return _fail(kind, f"`known_latent` and `unknown_latent` must be two different latents in [0, {d_sae}), got {latents}")
    reported = {role: answer.get(f"{role}_score") for role in ROLES}
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in reported.values()):
        return _fail(kind, f"`known_score` and `unknown_score` must be numbers (the train-set MaxMin scores), got {reported}")
    sae = sae.to(arch.device)

    train = json.loads(shipped.read_text())
    splits = {"train": {"templates": train["templates"], "entities": train["entities"]},
              "held_out": {"templates": truth["templates"], "entities": truth["held_out"]}}  # fmt: skip
    measured: dict[str, tuple[dict[str, torch.Tensor], dict[str, list[bool]]]] = {}
    for split, data in splits.items():
        result = _scores(model, tokenizer, sae, data, layer)
        if isinstance(result, str):  # measured, not malformed: the run's model has nothing to separate
            return _verdict(kind, f"the judge's labels of the {split} entities", [result], {"layer": layer, "sae": answer.get("sae")})
        measured[split] = result
    density = latent_frequency(model, tokenizer, sae, corpus(tokenizer, config["generic_windows"]), layer=layer)

    generator = torch.Generator().manual_seed(config["seed"])
    figures: dict[str, Any] = {"layer": layer, "sae": answer.get("sae"), "latents": latents, "thresholds": {k: config[k] for k in
                               ("min_score", "max_p", "tolerance", "max_density")}}  # fmt: skip
    figures["known_entities"] = {s: {k: f"{sum(v)}/{len(v)}" for k, v in labels.items()} for s, (_, labels) in measured.items()}
    problems, groups = [], {}
    for role, sign in ROLES.items():
        latent = latents[role]
        train_scores = {k: sign * float(_separation(a, torch.tensor(measured["train"][1][k]))[latent]) for k, a in measured["train"][0].items()}
        held_scores, real_scores, null = {}, {}, torch.zeros(config["permutations"])
        for k, active in measured["held_out"][0].items():
            known = torch.tensor(measured["held_out"][1][k])
            held_scores[k] = sign * float(_separation(active, known)[latent])
            real = torch.tensor([e["answer"] is not None for e in truth["held_out"][k]])
            if 0 < int(known[real].sum()) < int(real.sum()):
                real_scores[k] = sign * float(_separation(active[real], known[real])[latent])
            shuffled = torch.stack([known[torch.randperm(len(known), generator=generator)] for _ in range(config["permutations"])])
            null += sign * _separation(active[:, latent : latent + 1], shuffled)[:, 0] / len(measured["held_out"][0])
            groups[f"{role} f{latent}\n{k}"] = {"known entities": float(active[known, latent].mean()), "unknown entities": float(active[~known, latent].mean())}
        held_mean = sum(held_scores.values()) / len(held_scores)
        p_value = float((null >= held_mean - 1e-9).float().mean())
        recount = min(train_scores.values())
        figures[role] = {"latent": latent, "reported_maxmin": reported[role], "train_maxmin": round(recount, 4),
                         "train_by_type": {k: round(v, 4) for k, v in train_scores.items()},
                         "held_out_by_type": {k: round(v, 4) for k, v in held_scores.items()}, "held_out_mean": round(held_mean, 4),
                         "held_out_real_entities_by_type": {k: round(v, 4) for k, v in real_scores.items()},
                         "p_value": p_value, "density": round(float(density[latent]), 4)}  # fmt: skip
        if abs(reported[role] - recount) > config["tolerance"]:
            problems.append(f"the {role} latent's reported MaxMin {reported[role]:.3f} is not the recount's {recount:.3f}")
        if held_mean < config["min_score"] or p_value > config["max_p"]:
            problems.append(f"the {role} latent separates held-out entities by {held_mean:.3f} on average (needs ≥ {config['min_score']}), "
                            f"p = {p_value:.3f} against shuffled labels (needs ≤ {config['max_p']})")  # fmt: skip
        if density[latent] > config["max_density"]:
            problems.append(f"the {role} latent is active on {float(density[latent]):.1%} of ordinary text (> {config['max_density']:.0%})")

    best = {}
    rare = density <= config["max_density"]
    for role, sign in ROLES.items():
        per_type = torch.stack([sign * _separation(a, torch.tensor(measured["held_out"][1][k])) for k, a in measured["held_out"][0].items()])
        maxmin = per_type.min(0).values.masked_fill(~rare, float("-inf"))
        top = maxmin.topk(3)
        best[role] = [{"latent": int(i), "maxmin": round(float(v), 4)} for v, i in zip(top.values, top.indices)]
    figures["judge_best_held_out"] = best
    figures["chart"] = _bars(context, kind, "Held-out entities on which each latent is active (recounted)", groups, "fraction active")
    floor = 1 / config["permutations"]

    def p(role: str) -> str:
        return f"p < {floor:.3f}" if figures[role]["p_value"] < floor else f"p {figures[role]['p_value']:.3f}"

    summary = (f"known latent {latents['known']}: held-out mean score {figures['known']['held_out_mean']:.3f} ({p('known')}); "
               f"unknown latent {latents['unknown']}: {figures['unknown']['held_out_mean']:.3f} ({p('unknown')}); "
               f"train MaxMin recounted {figures['known']['train_maxmin']:.3f} / {figures['unknown']['train_maxmin']:.3f}; "
               f"on held-out real entities alone (no made-up ones), by type: known {figures['known']['held_out_real_entities_by_type']}, "
               f"unknown {figures['unknown']['held_out_real_entities_by_type']}")  # fmt: skip
    return _verdict(kind, summary, problems, figures)
