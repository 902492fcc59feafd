"""Forward hooks that edit a module's output, whether it returns a tensor or a tuple (transformers 5
decoder layers return tensors; attention blocks return tuples), always removed on exit; and the token
positions of each forward pass, for edits that apply to some positions only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

__all__ = ["PassPositions", "editing", "first", "tracking_positions"]

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


class PassPositions:
    """The token positions the current forward pass covers, `[batch, length]`, counted within each
    sequence (padding is not counted), and where each sequence's prompt ends, `[batch, 1]`.

    Both are tensors: a decode step changes their values, never a Python number, so a compiled decode
    step (`cache_implementation="static"`) does not recompile. `prompt_end` is updated in place on a
    buffer marked as a static address, as the static KV cache is, so CUDA graphs can replay it.
    """

    def __init__(self) -> None:
        self.current: torch.Tensor | None = None
        self.prompt_end: torch.Tensor | None = None

    def update(self, positions: torch.Tensor) -> None:
        """Take one pass's positions; a pass that holds a sequence's first token starts its prompt."""
        starts = (positions == 0).any(-1, keepdim=True)
        ends = positions.amax(-1, keepdim=True) + 1
        known = self.prompt_end
        if known is None or known.shape != ends.shape or known.device != ends.device:
            known = ends.clone()
            if known.is_cuda and not torch.compiler.is_compiling():
                torch._dynamo.mark_static_address(known)
            self.prompt_end = known
        else:
            known.copy_(torch.where(starts, ends, known))
        self.current = positions


def _pass_positions(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    """A forward pass's positions, from what the caller passes: `position_ids` (as `generate` does), else
    the attention mask, else the cache's length (a model called by hand)."""
    inputs = kwargs.get("input_ids", args[0] if args else None)
    if inputs is None:
        inputs = kwargs["inputs_embeds"]
    batch, length = inputs.shape[:2]
    positions = kwargs.get("position_ids")
    if positions is not None:
        positions = positions[0] if positions.ndim == 3 else positions  # multimodal rotary: [sections, batch, length]
        return positions.expand(batch, length)
    mask = kwargs.get("attention_mask")
    if isinstance(mask, torch.Tensor) and mask.ndim == 2:
        return (mask.long().cumsum(-1) - 1).clamp(min=0)[:, -length:]
    cache = kwargs.get("cache", kwargs.get("past_key_values"))
    past = cache.get_seq_length() if cache is not None and hasattr(cache, "get_seq_length") else 0
    return (torch.arange(length, device=inputs.device) + past).expand(batch, length)


@contextmanager
def tracking_positions(model: nn.Module) -> Iterator[PassPositions]:
    """Keep a `PassPositions` up to date on every forward pass of `model`, with or without a KV cache."""
    tracker = PassPositions()

    def pre(module: nn.Module, args: Any, kwargs: dict[str, Any]) -> None:
        tracker.update(_pass_positions(args, kwargs))

    handle = model.register_forward_pre_hook(pre, with_kwargs=True)
    try:
        yield tracker
    finally:
        handle.remove()
