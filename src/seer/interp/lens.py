"""The logit lens: read each layer's residual stream through the final norm and the unembedding."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .arch import arch_of
from .patching import residual_stream

__all__ = ["logit_lens"]


@torch.no_grad()
def logit_lens(model: nn.Module, tokenizer: Any, prompt: str, *, position: int = -1, k: int = 5) -> list[list[tuple[str, float]]]:
    """For each layer, the top-`k` next tokens (with probabilities) the residual stream at `position` predicts."""
    arch = arch_of(model)
    stream, _ = residual_stream(model, tokenizer, prompt)
    logits = arch.unembed()(arch.final_norm()(stream[:, position]))
    top = logits.float().softmax(-1).topk(k, dim=-1)
    return [
        [(tokenizer.decode([int(i)]), round(float(p), 4)) for p, i in zip(probs, ids)]
        for probs, ids in zip(top.values, top.indices)
    ]
