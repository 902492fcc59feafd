"""Residual-stream activations, batched and padding-correct, and difference-in-means directions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from .arch import arch_of
from .checks import check_count, check_layers, check_model, check_prompts, check_tokenizer
from .hooks import first
from .tokens import encode, render

__all__ = ["activations", "diff_in_means"]


class _Enough(Exception):
    """Raised by the capture hook once the last requested layer has run."""


@torch.no_grad()
def activations(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    layers: Sequence[int] | None = None,
    position: int | Literal["all"] = -1,
    chat: bool = False,
    batch_size: int = 32,
) -> torch.Tensor | list[torch.Tensor]:
    """The residual stream after each chosen layer.

    Args:
        layers: Decoder layers (negative from the end); default all.
        position: A token index among each prompt's real tokens (`-1`: the last), or `"all"`.
        chat: Wrap each prompt in the chat template (with the generation prompt).
        batch_size: Prompts per forward pass.

    Returns:
        For an index: a `[n_prompts, n_layers, d_model]` tensor. For `"all"`: one `[n_layers, n_tokens,
        d_model]` tensor per prompt.
    """
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompts(prompts)
    check_layers(layers)
    check_count('batch_size', batch_size)
    arch = arch_of(model)
    chosen = [l % arch.n_layers for l in (layers if layers is not None else range(arch.n_layers))]
    texts = [render(tokenizer, p, chat=chat) for p in prompts]
    results: list[Any] = []
    for begin in range(0, len(texts), batch_size):
        batch = encode(tokenizer, texts[begin : begin + batch_size], arch.device, chat_rendered=chat)
        captured: dict[int, torch.Tensor] = {}
        last = max(chosen)

        def capture(module: nn.Module, args: Any, output: Any, layer: int) -> None:
            captured[layer] = first(output)
            if layer == last:
                raise _Enough  # later layers and the unembedding would be wasted work

        handles = [arch.layer(l).register_forward_hook(lambda m, a, out, l=l: capture(m, a, out, l)) for l in chosen]
        try:
            arch.model(**batch, use_cache=False)
        except _Enough:
            pass
        finally:
            for handle in handles:
                handle.remove()
        stacked = torch.stack([captured[l] for l in chosen], dim=1)  # [batch, layers, tokens, d]
        lengths = batch["attention_mask"].sum(-1)
        width = stacked.shape[2]
        for row in range(stacked.shape[0]):
            real = stacked[row, :, width - int(lengths[row]) :]
            results.append(real if position == "all" else real[:, position])
    return results if position == "all" else torch.stack(results)


def diff_in_means(
    model: nn.Module,
    tokenizer: Any,
    positive: Sequence[str],
    negative: Sequence[str],
    *,
    layers: Sequence[int] | None = None,
    position: int = -1,
    chat: bool = False,
) -> torch.Tensor:
    """Mean activation over `positive` minus mean over `negative`: `[n_layers, d_model]`."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompts(positive, 'positive')
    check_prompts(negative, 'negative')
    check_layers(layers)
    a = activations(model, tokenizer, positive, layers=layers, position=position, chat=chat)
    b = activations(model, tokenizer, negative, layers=layers, position=position, chat=chat)
    return a.mean(0) - b.mean(0)  # type: ignore[union-attr]
