"""Forward hooks that edit a module's output, whether it returns a tensor or a tuple (transformers 5
decoder layers return tensors; attention blocks return tuples), always removed on exit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["Chunk", "editing", "first", "tracking_positions"]

Edit = Callable[[torch.Tensor], torch.Tensor]


def first(output: Any) -> torch.Tensor:
    """The hidden states in a module's output."""
    return output[0] if isinstance(output, tuple) else output


def _edit_hook(edit: Edit) -> Callable[..., Any]:
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (edit(output[0]), *output[1:])
        return edit(output)

    return hook


@contextmanager
def editing(pairs: list[tuple[nn.Module, Edit]]) -> Iterator[None]:
    """Apply `edit` to each module's output inside the block; every hook is removed on exit."""
    handles = []
    try:
        for module, edit in pairs:
            handles.append(module.register_forward_hook(_edit_hook(edit)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class Chunk:
    """Which absolute token positions the current forward pass covers (prefill, or one decode step)."""

    start: int = 0
    length: int = 0
    prompt_length: int = 0

    def positions(self, device: torch.device) -> torch.Tensor:
        return torch.arange(self.start, self.start + self.length, device=device)


@contextmanager
def tracking_positions(model: nn.Module) -> Iterator[Chunk]:
    """Keep a `Chunk` up to date on every forward pass of `model`, with or without a KV cache."""
    chunk = Chunk()

    def pre(module: nn.Module, args: Any, kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        embeds = kwargs.get("inputs_embeds")
        length = (ids if ids is not None else embeds).shape[1]
        cache = kwargs.get("past_key_values")
        start = int(cache.get_seq_length()) if cache is not None and hasattr(cache, "get_seq_length") else 0
        chunk.start, chunk.length = start, length
        if start == 0:
            chunk.prompt_length = length

    handle = model.register_forward_pre_hook(pre, with_kwargs=True)
    try:
        yield chunk
    finally:
        handle.remove()
