"""Steering: add vectors to the residual stream, on the prompt, on generated tokens, or both.

```python
with steer(model, {6: love_minus_hate}, strength=4.0, positions="generated"):
    text = generate(model, tokenizer, prompts)
```
Works during `model.generate` with the KV cache: each decode step is one position past the prompt.
Leaving the block (even by an exception) removes every hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Literal

import torch
from torch import nn

from .arch import arch_of
from .checks import check_layers, check_model, check_number, check_vectors
from .hooks import PassPositions, editing, tracking_positions

__all__ = ["Positions", "steer"]

Positions = Literal["all", "prompt", "generated"] | slice


def _check(positions: Positions) -> None:
    if isinstance(positions, slice):
        if positions.step not in (None, 1):
            raise ValueError(f"positions: a slice with a step ({positions!r}) is not supported; steer a range of positions")
    elif positions not in ("all", "prompt", "generated"):
        raise ValueError(f"positions must be 'all', 'prompt', 'generated' or a slice; got {positions!r}")


def _mask(tracker: PassPositions, positions: Positions) -> torch.Tensor:
    """Which tokens of the current pass to steer, `[batch, length]`."""
    pos, prompt_end = tracker.current, tracker.prompt_end
    assert pos is not None and prompt_end is not None  # the pre-hook ran
    if positions == "prompt":
        return pos < prompt_end
    if positions == "generated":
        return pos >= prompt_end
    assert isinstance(positions, slice)
    mask = pos >= (positions.start or 0)
    return mask if positions.stop is None else mask & (pos < positions.stop)


@contextmanager
def steer(
    model: nn.Module,
    vectors: dict[int, torch.Tensor] | torch.Tensor,
    *,
    layers: list[int] | None = None,
    strength: float = 1.0,
    positions: Positions = "all",
) -> Iterator[None]:
    """Add `strength * vector` to the output of decoder layers (the residual stream after the layer).

    Args:
        model: A transformers decoder (PEFT-wrapped is fine).
        vectors: `{layer: vector}`, or one vector applied at every layer in `layers`.
        layers: The layers for a single vector; negative counts from the end.
        strength: Scale applied to every vector.
        positions: `"all"`, `"prompt"` (the prompt pass only), `"generated"` (decode steps only), or a
            `slice` of token positions. Positions count the tokens of each sequence from 0, padding not
            counted, so a left-padded batch is steered as each prompt would be alone.
    """
    check_model('model', model)
    check_vectors(vectors)
    check_layers(layers)
    check_number('strength', strength)
    _check(positions)
    arch = arch_of(model)
    if isinstance(vectors, torch.Tensor):
        if not layers:
            raise ValueError("a single steering vector needs `layers=[...]`")
        vectors = {layer: vectors for layer in layers}
    pairs = []
    with tracking_positions(arch.model) if positions != "all" else nullcontext() as tracker:
        for layer, vector in vectors.items():
            if vector.shape[-1] != arch.d_model:
                raise ValueError(f"vector for layer {layer} has size {vector.shape[-1]}; the model's width is {arch.d_model}")
            weight = next(arch.layer(layer).parameters())
            scaled = (strength * vector.to(weight.device, torch.float32)).to(weight.dtype)  # moved once, not per step

            def edit(hidden: torch.Tensor, scaled: torch.Tensor = scaled) -> torch.Tensor:
                added = scaled.to(hidden.device, hidden.dtype)
                if tracker is None:
                    return hidden + added
                return hidden + added * _mask(tracker, positions).to(hidden.device, hidden.dtype)[..., None]

            pairs.append((arch.layer(layer), edit))
        with editing(pairs):
            yield
