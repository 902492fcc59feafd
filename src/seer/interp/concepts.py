"""Concept vectors and concept injection, for introspection experiments (Lindsey, 2025).

A concept vector is the activation for a prompt about the concept minus the mean over baseline words.
Injecting it means steering from a chosen token onward; a control trial asks the same question
without injection, so false positives can be counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .activations import activations
from .steering import steer

__all__ = ["BASELINE_WORDS", "concept_vector", "inject"]

BASELINE_WORDS = ["table", "river", "window", "number", "paper", "bottle", "music", "stone", "letter", "street"]


def concept_vector(
    model: nn.Module,
    tokenizer: Any,
    concept: str,
    *,
    layer: int,
    baseline: Sequence[str] = BASELINE_WORDS,
    template: str = "Tell me about {}.",
    chat: bool = True,
) -> torch.Tensor:
    """Activation at `layer` (last token) for `template` filled with `concept`, minus the baseline mean."""
    words = [w for w in baseline if w.lower() != concept.lower()]
    target = activations(model, tokenizer, [template.format(concept)], layers=[layer], chat=chat)[0, 0]  # type: ignore[index]
    reference = activations(model, tokenizer, [template.format(w) for w in words], layers=[layer], chat=chat)
    return target - reference[:, 0].mean(0)  # type: ignore[index]


@contextmanager
def inject(model: nn.Module, vector: torch.Tensor, *, layer: int, strength: float, from_position: int) -> Iterator[None]:
    """Add `strength * vector` at `layer` for every token from position `from_position` on (counted within
    each sequence, padding not counted), generated tokens included."""
    with steer(model, {layer: vector}, strength=strength, positions=slice(from_position, None)):
        yield
