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
from .arch import arch_of
from .checks import check_count, check_model, check_number, check_tensor, check_tokenizer
from .steering import steer

__all__ = ["BASELINE_WORDS", "concept_vector", "inject"]

BASELINE_WORDS = ["table", "river", "window", "number", "paper", "bottle", "music", "stone", "letter", "street"]


def concept_vector(
    model: nn.Module,
    tokenizer: Any,
    concept: str | Sequence[str],
    *,
    layer: int | None = None,
    layers: Sequence[int] | None = None,
    baseline: Sequence[str] = BASELINE_WORDS,
    template: str = "Tell me about {}.",
    chat: bool = True,
) -> Any:
    """Activation at `layer` (last token) for `template` filled with `concept`, minus the baseline mean.

    Pass exactly one of `layer` (returns one vector) or `layers` (returns `{layer: vector}`). `concept` may
    be a list of concepts: then the result is `{concept: <what one concept returns>}`. All layers are read
    from the same forward passes, and the baseline prompts run once however many layers (and, for a list,
    concepts) are asked for. A baseline word equal to the concept (case-insensitive) is left out of its mean.
    """
    check_model("model", model)
    check_tokenizer(tokenizer)
    if (layer is None) == (layers is None):
        raise TypeError("pass exactly one of `layer` (one vector) or `layers` (a dict of vectors)")
    n_layers = arch_of(model).n_layers
    if layers is None:
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise TypeError(f"layer must be an int, not {type(layer).__name__}")
        chosen, name = [layer], "layer"
    else:
        if isinstance(layers, (str, int)) or not isinstance(layers, Sequence):
            raise TypeError(f"layers must be a list of ints, not {layers!r}")
        if not layers or any(isinstance(l, bool) or not isinstance(l, int) for l in layers):
            raise TypeError(f"layers must be a non-empty list of ints, not {layers!r}")
        chosen, name = list(dict.fromkeys(layers)), "layers"
    for l in chosen:
        if not -n_layers <= l < n_layers:
            raise ValueError(f"{name}: {l} is outside the model's {n_layers} layers")
    single = isinstance(concept, str)
    concepts = [concept] if single else concept
    if not isinstance(concepts, Sequence) or not concepts or not all(isinstance(c, str) for c in concepts):
        raise TypeError(f"concept must be a string or a non-empty list of strings, not {concept!r}")
    if isinstance(baseline, str) or not all(isinstance(w, str) for w in baseline):
        raise TypeError(f"baseline must be a list of strings, not {baseline!r}")

    if single:  # the baseline without the concept, as a single concept always computed it
        words = [w for w in baseline if w.lower() != concept.lower()]  # type: ignore[union-attr]
    else:
        words = list(baseline)
    if not words:
        raise ValueError("baseline has no words left once the concept is removed")
    targets = activations(model, tokenizer, [template.format(c) for c in concepts], layers=chosen, chat=chat)
    reference = activations(model, tokenizer, [template.format(w) for w in words], layers=chosen, chat=chat)
    if not isinstance(targets, torch.Tensor) or not isinstance(reference, torch.Tensor):
        raise AssertionError("activations at one position are a tensor")

    results: dict[str, Any] = {}
    for i, c in enumerate(concepts):
        keep = [j for j, w in enumerate(words) if single or w.lower() != c.lower()]
        if not keep:
            raise ValueError(f"baseline has no words left once {c!r} is removed")
        mean = reference[keep].mean(0)  # [n_layers, d_model]
        vectors = targets[i] - mean
        results[c] = vectors[0] if layers is None else {l: vectors[n] for n, l in enumerate(chosen)}
    return results[concepts[0]] if single else results


@contextmanager
def inject(model: nn.Module, vector: torch.Tensor, *, layer: int, strength: float, from_position: int) -> Iterator[None]:
    """Add `strength * vector` at `layer` for every token from position `from_position` on (counted within
    each sequence, padding not counted), generated tokens included."""
    check_model("model", model)
    check_tensor("vector", vector)
    check_count("layer", layer, -arch_of(model).n_layers)
    check_number("strength", strength)
    check_count("from_position", from_position, 0)
    with steer(model, {layer: vector}, strength=strength, positions=slice(from_position, None)):
        yield
