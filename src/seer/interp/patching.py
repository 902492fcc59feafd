"""Activation patching: run a corrupted prompt with part of a clean run's residual stream put back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from .arch import arch_of
from .checks import check_callable, check_count, check_model, check_prompt, check_tokenizer
from .hooks import editing, first
from .tokens import encode

__all__ = ["patch_residual", "patching_sweep", "residual_stream"]


@torch.no_grad()
def residual_stream(model: nn.Module, tokenizer: Any, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One prompt's residual stream after every layer, `[n_layers, n_tokens, d_model]`, and its logits."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompt(prompt, chat=False)
    arch = arch_of(model)
    captured: list[torch.Tensor] = []
    handles = [layer.register_forward_hook(lambda m, a, out: captured.append(first(out)[0])) for layer in arch.layers]
    try:
        logits = arch.model(**encode(tokenizer, [prompt], arch.device, chat_rendered=False), use_cache=False).logits[0]
    finally:
        for handle in handles:
            handle.remove()
    return torch.stack(captured), logits


@torch.no_grad()
def patch_residual(
    model: nn.Module,
    tokenizer: Any,
    clean: str,
    corrupted: str,
    *,
    layer: int,
    positions: Sequence[int] | None = None,
) -> torch.Tensor:
    """Logits of `corrupted` with the residual stream after `layer` replaced by `clean`'s at `positions`
    (all positions by default). Both prompts must have the same number of tokens."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompt(clean, chat=False, name='clean')
    check_prompt(corrupted, chat=False, name='corrupted')
    check_count('layer', layer, 0)
    arch = arch_of(model)
    clean_stream, _ = residual_stream(model, tokenizer, clean)
    batch = encode(tokenizer, [corrupted], arch.device, chat_rendered=False)
    if batch["input_ids"].shape[1] != clean_stream.shape[1]:
        raise ValueError(
            f"clean has {clean_stream.shape[1]} tokens and corrupted {batch['input_ids'].shape[1]}; patching needs equal lengths"
        )
    where = list(range(clean_stream.shape[1])) if positions is None else list(positions)
    source = clean_stream[layer % arch.n_layers]

    def put_back(hidden: torch.Tensor) -> torch.Tensor:
        hidden = hidden.clone()
        hidden[0, where] = source[where].to(hidden.dtype)
        return hidden

    with editing([(arch.layer(layer), put_back)]):
        return arch.model(**batch, use_cache=False).logits[0]


def patching_sweep(
    model: nn.Module,
    tokenizer: Any,
    clean: str,
    corrupted: str,
    metric: Callable[[torch.Tensor], float],
) -> torch.Tensor:
    """`metric(logits)` for the corrupted run patched at each (layer, position): `[n_layers, n_tokens]`."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompt(clean, chat=False, name='clean')
    check_prompt(corrupted, chat=False, name='corrupted')
    check_callable('metric', metric)
    arch = arch_of(model)
    n_tokens = encode(tokenizer, [clean], arch.device, chat_rendered=False)["input_ids"].shape[1]
    table = torch.zeros(arch.n_layers, n_tokens)
    for layer in range(arch.n_layers):
        for position in range(n_tokens):
            table[layer, position] = metric(patch_residual(model, tokenizer, clean, corrupted, layer=layer, positions=[position]))
    return table
