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
from contextlib import contextmanager
from typing import Literal

import torch
from torch import nn

from .arch import arch_of
from .hooks import Chunk, editing, tracking_positions

__all__ = ["Positions", "steer"]

Positions = Literal["all", "prompt", "generated"] | slice


def _mask(chunk: Chunk, positions: Positions, device: torch.device) -> torch.Tensor:
    pos = chunk.positions(device)
    if positions == "all":
        return torch.ones_like(pos, dtype=torch.bool)
    if positions == "prompt":
        return pos < chunk.prompt_length
    if positions == "generated":
        return pos >= chunk.prompt_length
    if isinstance(positions, slice):
        low = positions.start or 0
        high = positions.stop if positions.stop is not None else 1 << 62
        return (pos >= low) & (pos < high)
    raise ValueError(f"positions must be 'all', 'prompt', 'generated' or a slice; got {positions!r}")


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
        model: A Hugging Face decoder (PEFT-wrapped is fine).
        vectors: `{layer: vector}`, or one vector applied at every layer in `layers`.
        layers: The layers for a single vector; negative counts from the end.
        strength: Scale applied to every vector.
        positions: `"all"`, `"prompt"` (the prompt pass only), `"generated"` (decode steps only), or a
            `slice` of absolute token positions (in the padded batch).
    """
    arch = arch_of(model)
    if isinstance(vectors, torch.Tensor):
        if not layers:
            raise ValueError("a single steering vector needs `layers=[...]`")
        vectors = {layer: vectors for layer in layers}
    pairs = []
    with tracking_positions(arch.model) as chunk:
        for layer, vector in vectors.items():
            if vector.shape[-1] != arch.d_model:
                raise ValueError(f"vector for layer {layer} has size {vector.shape[-1]}; the model's width is {arch.d_model}")

            def edit(hidden: torch.Tensor, vector: torch.Tensor = vector) -> torch.Tensor:
                mask = _mask(chunk, positions, hidden.device).to(hidden.dtype)[None, :, None]
                return hidden + strength * vector.to(hidden.device, hidden.dtype) * mask

            pairs.append((arch.layer(layer), edit))
        with editing(pairs):
            yield
