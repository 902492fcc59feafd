"""Entity recognition (Ferrando et al., 2025, "Do I know this entity?"): which entities a model knows, and the
SAE latents whose activation at an entity's last token separates known entities from unknown ones.

```python
known = known_entities(model, tok, "The city of {} is located in the country of", names, answers)
s = separation_scores(model, tok, sae, "The city of {} is located in the country of", names, known, layer=10)
s.argmax(), (-s).argmax()   # the best known-entity latent and the best unknown-entity latent for this type
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .activations import activations
from .checks import check_count, check_model, check_texts, check_tokenizer, kind
from .generation import generate

__all__ = ["entity_prompt", "known_entities", "latent_frequency", "separation_scores"]


def entity_prompt(template: str, entity: str) -> str:
    """The prompt up to and including the entity: `template`'s text before `{}`, then `entity`. Its last token is
    the entity's last token, where the paper reads the residual stream (the rest of the prompt comes after it, so
    a causal model's activation there is the same)."""
    _check_template(template)
    if not isinstance(entity, str) or not entity.strip():
        raise ValueError(f"entity must be a non-empty string, got {kind(entity)}")
    return template.split("{}")[0] + entity


def _check_template(template: Any) -> None:
    if not isinstance(template, str) or template.count("{}") != 1:
        raise ValueError(f"template must be a string with one '{{}}' where the entity goes, got {kind(template)}")


def _check_entities(entities: Any, name: str = "entities") -> None:
    if isinstance(entities, str) or not isinstance(entities, Sequence) or not entities or not all(isinstance(e, str) for e in entities):
        raise TypeError(f"{name} must be a non-empty list of entity names (strings), got {kind(entities)}")


def _check_sae(sae: Any) -> None:
    if not hasattr(sae, "encode") or not hasattr(sae, "W_enc"):
        raise TypeError(f"sae must be a sparse autoencoder (load_sae or train_sae), got {kind(sae)}")


@torch.no_grad()
def known_entities(
    model: nn.Module,
    tokenizer: Any,
    template: str,
    entities: Sequence[str],
    answers: Sequence[str | Sequence[str] | None],
    *,
    max_new_tokens: int = 8,
    batch_size: int = 32,
) -> list[bool]:
    """Whether the model knows each entity: its greedy completion of `template.format(entity)` (no chat template)
    contains the entity's answer, or one of its answers, in any case. An entity whose answer is None (a made-up
    one) is unknown. The paper asks for two attributes; one per entity keeps the sets small models know large."""
    check_model("model", model)
    check_tokenizer(tokenizer)
    _check_template(template)
    _check_entities(entities)
    if isinstance(answers, str) or not isinstance(answers, Sequence) or len(answers) != len(entities):
        raise ValueError(f"answers must be a list as long as entities ({len(entities)}): each a string, a list of strings or None")
    check_count("max_new_tokens", max_new_tokens)
    accepted = [[a] if isinstance(a, str) else list(a or []) for a in answers]
    asked = [i for i, a in enumerate(accepted) if a]
    replies = generate(model, tokenizer, [template.format(entities[i]) for i in asked], chat=False, max_new_tokens=max_new_tokens,
                       batch_size=batch_size) if asked else []  # fmt: skip
    known = [False] * len(entities)
    for i, reply in zip(asked, replies, strict=True):
        known[i] = any(a.lower() in reply.lower() for a in accepted[i])
    return known


def _active(model: nn.Module, tokenizer: Any, sae: Any, prompts: list[str], layer: int) -> torch.Tensor:
    """`[n_prompts, d_sae]`: which latents are active at each prompt's last token."""
    stream = activations(model, tokenizer, prompts, layers=[layer])[:, 0]  # type: ignore[index]
    return (sae.encode(stream.to(sae.W_enc.device, sae.W_enc.dtype)) > 0).float().cpu()


@torch.no_grad()
def separation_scores(
    model: nn.Module,
    tokenizer: Any,
    sae: Any,
    template: str,
    entities: Sequence[str],
    known: Sequence[bool],
    *,
    layer: int,
) -> torch.Tensor:
    """`[d_sae]`: each latent's separation score `f_known − f_unknown`, where `f` is the fraction of the known (or
    unknown) entities at whose last token (`entity_prompt`) the latent is active in the residual stream after
    `layer`. Positive: a known-entity latent; negative: an unknown-entity latent. Over several entity types the
    paper ranks latents by their minimum score across types (`torch.stack(scores).min(0)`, "MaxMin")."""
    check_model("model", model)
    check_tokenizer(tokenizer)
    _check_sae(sae)
    _check_entities(entities)
    check_count("layer", layer, 0)
    if isinstance(known, str) or not isinstance(known, Sequence) or len(known) != len(entities) or not all(isinstance(k, bool) for k in known):
        raise ValueError(f"known must be a list of booleans as long as entities ({len(entities)}), as known_entities returns")
    if all(known) or not any(known):
        raise ValueError(f"known must mark some entities known and some unknown, got {sum(known)} known of {len(known)}")
    active = _active(model, tokenizer, sae, [entity_prompt(template, e) for e in entities], layer)
    mask = torch.tensor(known)
    return active[mask].mean(0) - active[~mask].mean(0)


@torch.no_grad()
def latent_frequency(model: nn.Module, tokenizer: Any, sae: Any, texts: Sequence[str], *, layer: int) -> torch.Tensor:
    """`[d_sae]`: the fraction of the tokens of `texts` (each one's first left out: its norm is an outlier) on which
    each latent is active. The paper sets aside latents active on over 2% of ordinary text: they fire on nearly
    anything, entities included."""
    check_model("model", model)
    check_tokenizer(tokenizer)
    _check_sae(sae)
    check_texts("texts", texts)
    check_count("layer", layer, 0)
    streams = activations(model, tokenizer, list(texts), layers=[layer], position="all")
    codes = [(sae.encode(s[0, 1:].to(sae.W_enc.device, sae.W_enc.dtype)) > 0).float().cpu() for s in streams]  # type: ignore[index]
    return torch.cat(codes).mean(0)
