"""ActAdd, the published method (Turner et al., 2023): the difference of a prompt pair's activations,
position by position, added at the front positions of the residual stream at one layer.

```python
addition = actadd_vector(model, tokenizer, "Love", "Hate", layer=6, coefficient=5)   # [k, d_model]
with add_at_front(model, addition, layer=6):
    text = generate(model, tokenizer, ["I hate you because"], chat=False)
```
The shorter prompt of the pair is padded with spaces to the longer one's token count, as in the paper.
`diff_in_means` + `steer` is the other variant: one averaged vector added at every position.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .activations import activations
from .arch import arch_of
from .checks import check_model, check_number, check_tensor, check_tokenizer
from .hooks import editing, tracking_positions

__all__ = ["actadd_vector", "add_at_front"]


def _padded(tokenizer: Any, plus: str, minus: str) -> tuple[str, str]:
    """The pair, the shorter padded with spaces until both have the same number of tokens."""
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    plus, minus = str(plus), str(minus)
    for _ in range(64):
        a, b = count(plus), count(minus)
        if a == b:
            return plus, minus
        if a < b:
            plus += " "
        else:
            minus += " "
    raise ValueError(f"could not pad {plus!r} and {minus!r} to the same token count with spaces; choose prompts of similar length")


@torch.no_grad()
def actadd_vector(model: nn.Module, tokenizer: Any, plus: str, minus: str, *, layer: int, coefficient: float = 1.0) -> torch.Tensor:
    """`coefficient * (h(plus) − h(minus))` at every token of the padded pair, in the residual stream after
    `layer`: `[k, d_model]`, row i for position i (special tokens the tokenizer adds, such as BOS, included)."""
    check_model("model", model)
    check_tokenizer(tokenizer)
    for name, text in (("plus", plus), ("minus", minus)):
        if not isinstance(text, str) or not text:
            raise TypeError(f"{name} must be a non-empty string, got {type(text).__name__} {text!r:.60}")
    check_number("coefficient", coefficient)
    plus, minus = _padded(tokenizer, plus, minus)
    both = activations(model, tokenizer, [plus, minus], layers=[layer], position="all", chat=False)
    rows = [a[0] if a.dim() == 3 else a for a in both]  # [length, d] each
    return coefficient * (rows[0].float() - rows[1].float())


@contextmanager
def add_at_front(model: nn.Module, addition: torch.Tensor, *, layer: int) -> Iterator[None]:
    """Add `addition[i]` to the residual stream after `layer` at token position i of each sequence (i <
    len(addition); positions count each sequence's own tokens, padding not counted). Generation with the
    KV cache is fine: decode steps lie past the front and are left alone."""
    check_model("model", model)
    check_tensor("addition", addition)
    arch = arch_of(model)
    rows = addition.detach().reshape(-1, addition.shape[-1]) if addition.dim() in (1, 2) else None
    if rows is None or rows.shape[-1] != arch.d_model:
        raise ValueError(f"addition must be [positions, {arch.d_model}] (or one [{arch.d_model}] vector), got {tuple(addition.shape)}")
    weight = next(arch.layer(layer).parameters())
    table = rows.to(weight.device, weight.dtype)
    front = table.shape[0]
    with tracking_positions(arch.model) as tracker:

        def edit(hidden: torch.Tensor) -> torch.Tensor:
            pos = tracker.current
            assert pos is not None  # the pre-hook ran
            pos = pos.to(hidden.device)
            inside = (pos >= 0) & (pos < front)
            added = table.to(hidden.device, hidden.dtype)[pos.clamp(0, front - 1)]
            return hidden + added * inside[..., None].to(hidden.dtype)

        with editing([(arch.layer(layer), edit)]):
            yield
