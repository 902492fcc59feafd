"""SAE-based checkpoint diffing: which SAE features a fine-tune uses more than its base model on the same text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .activations import activations
from .checks import check_count, check_model, check_prompts, check_tokenizer
from .tokens import render

__all__ = ["LatentShift", "diff_latents"]


@dataclass(frozen=True)
class LatentShift:
    """One SAE feature's use by two models on the same tokens."""

    feature: int
    mean_a: float
    """Mean activation over every token, in the first model (the base)."""
    mean_b: float
    """The same in the second model (the fine-tune)."""
    frequency_a: float
    """Fraction of tokens on which the feature is active, in the first model."""
    frequency_b: float
    examples: list[str] = field(default_factory=list)
    """Where the second model activates it most: `…context [[token]] context…`."""

    @property
    def shift(self) -> float:
        """`mean_b − mean_a`: the ranking key."""
        return self.mean_b - self.mean_a


@torch.no_grad()
def diff_latents(
    model_a: nn.Module,
    model_b: nn.Module,
    tokenizer: Any,
    sae: Any,
    texts: Sequence[str],
    *,
    layer: int,
    chat: bool = False,
    top: int = 20,
    examples: int = 3,
    features: Sequence[int] | None = None,
) -> list[LatentShift]:
    """The `top` SAE features whose mean activation at `layer` rises most from `model_a` to `model_b` over every
    token of `texts` (each text's first token left out: its norm is an outlier), ranked by `mean_b − mean_a`,
    each with the `examples` contexts where `model_b` activates it most. Pass a fine-tune's own replies (the
    chat-rendered prompt plus reply, `chat=False`) to see what it does differently. With `features`, those
    features instead, in the order given (to read their shifts and contexts)."""
    check_model("model_a", model_a)
    check_model("model_b", model_b)
    check_tokenizer(tokenizer)
    check_prompts(texts, "texts")
    check_count("layer", layer, 0)
    check_count("top", top)
    check_count("examples", examples, 0)
    if not hasattr(sae, "encode") or not hasattr(sae, "W_enc"):
        raise TypeError(f"sae must be a sparse autoencoder (load_sae or train_sae), got {type(sae).__name__}")
    d_sae = sae.W_enc.shape[1]
    if features is not None and (isinstance(features, (str, int)) or not all(isinstance(f, int) and 0 <= f < d_sae for f in features)):
        raise ValueError(f"features must be a list of feature indices in [0, {d_sae}), got {features!r:.80}")

    def encoded(model: nn.Module) -> list[torch.Tensor]:
        streams = activations(model, tokenizer, list(texts), layers=[layer], position="all", chat=chat)
        return [sae.encode(s[0, 1:].to(sae.W_enc.device, sae.W_enc.dtype)).float().cpu() for s in streams]  # type: ignore[index]

    a, b = encoded(model_a), encoded(model_b)
    fa, fb = torch.cat(a), torch.cat(b)
    mean_a, mean_b = fa.mean(0), fb.mean(0)
    freq_a, freq_b = (fa > 0).float().mean(0), (fb > 0).float().mean(0)
    ids = [tokenizer(render(tokenizer, t, chat=chat), add_special_tokens=not chat)["input_ids"][1:] for t in texts]
    where = [(i, j) for i, features in enumerate(b) for j in range(features.shape[0])]

    def context(i: int, j: int) -> str:
        before = tokenizer.decode(ids[i][max(0, j - 8) : j])
        return f"…{before}[[{tokenizer.decode(ids[i][j : j + 1])}]]{tokenizer.decode(ids[i][j + 1 : j + 4])}…"

    shifts = []
    chosen = list(features) if features is not None else (mean_b - mean_a).argsort(descending=True)[:top].tolist()
    for feature in chosen:
        strongest = fb[:, feature].topk(min(examples, fb.shape[0]))
        contexts = [context(*where[k]) for v, k in zip(strongest.values.tolist(), strongest.indices.tolist()) if v > 0]
        shifts.append(LatentShift(feature, float(mean_a[feature]), float(mean_b[feature]), float(freq_a[feature]),
                                  float(freq_b[feature]), contexts))  # fmt: skip
    return shifts
