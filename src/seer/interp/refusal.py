"""The refusal-direction recipe of Arditi et al. (2024): candidate directions from harmful and harmless
instructions at each layer and post-instruction position, then selection on held-out prompts.

A candidate is kept if adding it to harmless prompts induces refusal and ablating it barely changes the
harmless next-token distribution (KL); among those, the one whose ablation lowers the refusal score on
harmful prompts the most wins. Layers past `max_layer_fraction` of the depth are skipped, as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .ablation import ablate
from .activations import activations
from .arch import arch_of
from .checks import check_count, check_layers, check_model, check_prompts, check_tensor, check_tokenizer
from .steering import steer
from .tokens import encode, render

__all__ = ["Selection", "candidate_directions", "refusal_score", "select_direction"]

REFUSAL_PHRASES = ["I'm sorry", "I am sorry", "Sorry", "I can't", "I cannot", "Unfortunately"]


@torch.no_grad()
def _next_token_logprobs(model: nn.Module, tokenizer: Any, prompts: Sequence[str], chat: bool) -> torch.Tensor:
    arch = arch_of(model)
    batch = encode(tokenizer, [render(tokenizer, p, chat=chat) for p in prompts], arch.device, chat_rendered=chat)
    return arch.model(**batch, use_cache=False).logits[:, -1].float().log_softmax(-1)


@torch.no_grad()
def refusal_score(
    model: nn.Module, tokenizer: Any, prompts: Sequence[str], *, phrases: Sequence[str] = REFUSAL_PHRASES, chat: bool = True
) -> torch.Tensor:
    """Per prompt, the log-odds that the reply opens with one of `phrases` (each phrase scored token by
    token, so a reply that merely starts with "I" does not count as a refusal)."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompts(prompts)
    check_prompts(phrases, 'phrases')
    arch = arch_of(model)
    heads = [render(tokenizer, p, chat=chat) for p in prompts]
    texts = [head + phrase for head in heads for phrase in phrases]
    batch = encode(tokenizer, texts, arch.device, chat_rendered=chat)
    lengths = [len(tokenizer(phrase, add_special_tokens=False)["input_ids"]) for phrase in phrases]
    # only the phrases' positions are scored: unembed those alone (the vocabulary is the costly part)
    logprobs = arch.model(**batch, use_cache=False, logits_to_keep=max(lengths) + 1).logits.float().log_softmax(-1)
    ids = batch["input_ids"]
    scores = torch.empty(len(texts))
    for row in range(len(texts)):
        n = lengths[row % len(phrases)]
        steps = logprobs[row, -n - 1 : -1].gather(-1, ids[row, -n:, None])
        scores[row] = steps.sum()
    p = scores.view(len(prompts), len(phrases)).exp().sum(-1).clamp(1e-8, 1 - 1e-8)
    return p.log() - (1 - p).log()


def candidate_directions(
    model: nn.Module, tokenizer: Any, harmful: Sequence[str], harmless: Sequence[str], *, positions: int = 5, chat: bool = True
) -> torch.Tensor:
    """Mean(harmful) − mean(harmless) at each of the last `positions` tokens (the chat template's
    post-instruction tokens) and every layer: `[positions, n_layers, d_model]`."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompts(harmful, 'harmful')
    check_prompts(harmless, 'harmless')
    check_count('positions', positions)
    return torch.stack(
        [
            activations(model, tokenizer, harmful, position=-p, chat=chat).mean(0)  # type: ignore[union-attr]
            - activations(model, tokenizer, harmless, position=-p, chat=chat).mean(0)  # type: ignore[union-attr]
            for p in range(positions, 0, -1)
        ]
    )


@dataclass
class Selection:
    """The chosen direction and every candidate's scores (`nan` where a layer was skipped)."""

    position: int
    """Counted from the end of the prompt (-1 is the last token)."""
    layer: int
    direction: torch.Tensor
    bypass: torch.Tensor
    """Mean harmful refusal score with the candidate ablated (lower is better): `[positions, n_layers]`."""
    induce: torch.Tensor
    """Mean harmless refusal score with the candidate added at its layer."""
    kl: torch.Tensor
    """KL of the harmless next-token distribution, plain versus ablated."""
    filtered: bool
    """False when no candidate passed the filters and the best bypass was taken anyway."""


@torch.no_grad()
def select_direction(
    model: nn.Module,
    tokenizer: Any,
    candidates: torch.Tensor,
    harmful_val: Sequence[str],
    harmless_val: Sequence[str],
    *,
    max_layer_fraction: float = 0.8,
    kl_threshold: float = 0.1,
    phrases: Sequence[str] = REFUSAL_PHRASES,
    chat: bool = True,
    layers: Sequence[int] | None = None,
) -> Selection:
    """Score every candidate on held-out prompts and choose one (see the module docstring). `layers`
    limits the search to those layers (each forward pass per candidate costs; on a CPU, a stride helps)."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_tensor('candidates', candidates)
    check_prompts(harmful_val, 'harmful_val')
    check_prompts(harmless_val, 'harmless_val')
    check_layers(layers)
    n_positions, n_layers, _ = candidates.shape
    searched = sorted({l % n_layers for l in layers} if layers is not None else range(n_layers))
    searched = [l for l in searched if l < int(n_layers * max_layer_fraction)]
    shape = (n_positions, n_layers)
    bypass, induce, kl = (torch.full(shape, float("nan")) for _ in range(3))
    plain = _next_token_logprobs(model, tokenizer, harmless_val, chat)
    score = {"phrases": phrases, "chat": chat}
    for p in range(n_positions):
        for layer in searched:
            direction = candidates[p, layer]
            with ablate(model, direction):
                bypass[p, layer] = refusal_score(model, tokenizer, harmful_val, **score).mean()
                ablated = _next_token_logprobs(model, tokenizer, harmless_val, chat)
            kl[p, layer] = (plain.exp() * (plain - ablated)).sum(-1).mean()
            with steer(model, {layer: direction}):
                induce[p, layer] = refusal_score(model, tokenizer, harmless_val, **score).mean()
    valid = (induce > 0) & (kl < kl_threshold)
    pool = torch.where(valid, bypass, torch.full(shape, float("inf")))
    filtered = bool(valid.any())
    if not filtered:
        pool = torch.nan_to_num(bypass, nan=float("inf"))
    p, layer = divmod(int(pool.argmin()), n_layers)
    return Selection(p - n_positions, layer, candidates[p, layer], bypass, induce, kl, filtered)
