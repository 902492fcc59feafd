"""Sparse autoencoders: load (sae-lens releases, or a folder in sae-lens's saved layout), encode
activations, find the top features per token, and steer with a feature's decoder direction.

Without sae-lens, a folder holding `cfg.json` and `sae_weights.safetensors` (sae-lens's layout:
`W_enc [d_in, d_sae]`, `b_enc`, `W_dec [d_sae, d_in]`, `b_dec`) loads as a ReLU SAE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .activations import activations
from .checks import check_count, check_model, check_number, check_prompt, check_tokenizer
from .steering import steer

__all__ = ["SparseAutoencoder", "load_sae", "steer_with_feature", "top_features"]


class SparseAutoencoder(nn.Module):
    """A ReLU SAE: `f = relu((x − b_dec) W_enc + b_enc)`, `x̂ = f W_dec + b_dec`."""

    def __init__(self, W_enc: torch.Tensor, b_enc: torch.Tensor, W_dec: torch.Tensor, b_dec: torch.Tensor) -> None:  # noqa: N803
        super().__init__()
        self.W_enc, self.b_enc = nn.Parameter(W_enc), nn.Parameter(b_enc)
        self.W_dec, self.b_dec = nn.Parameter(W_dec), nn.Parameter(b_dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu((x - self.b_dec) @ self.W_enc + self.b_enc)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        return f @ self.W_dec + self.b_dec

    def save(self, folder: str | Path, **cfg: Any) -> None:
        """Write the sae-lens layout: `cfg.json` and `sae_weights.safetensors`."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()}, folder / "sae_weights.safetensors")
        (folder / "cfg.json").write_text(json.dumps({"d_in": self.W_enc.shape[0], "d_sae": self.W_enc.shape[1], **cfg}))


def load_sae(source: str | Path, sae_id: str | None = None) -> Any:
    """An SAE from a local folder (sae-lens layout), or from a sae-lens release and id (needs sae-lens)."""
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be a folder or a sae-lens release name (a string), got {type(source).__name__} {source!r:.60}")
    if sae_id is not None and not isinstance(sae_id, str):
        raise TypeError(f"sae_id must be a string (the SAE's id within the release) or None, got {type(sae_id).__name__} {sae_id!r:.60}")
    folder = Path(source)
    if (folder / "sae_weights.safetensors").is_file():
        from safetensors.torch import load_file

        weights = load_file(folder / "sae_weights.safetensors")
        return SparseAutoencoder(weights["W_enc"], weights["b_enc"], weights["W_dec"], weights["b_dec"])
    try:
        from sae_lens import SAE
    except ImportError:
        raise ModuleNotFoundError(f"{source!r} is not an SAE folder, and loading a release needs `pip install sae-lens`") from None
    return SAE.from_pretrained(str(source), sae_id)


@torch.no_grad()
def top_features(model: nn.Module, tokenizer: Any, sae: Any, prompt: str, *, layer: int, k: int = 5) -> list[tuple[str, list[tuple[int, float]]]]:
    """For each token of `prompt`, the `k` most active SAE features at `layer` as `(feature, activation)`."""
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_prompt(prompt, chat=False)
    check_count('layer', layer, 0)
    check_count('k', k)
    (stream,) = activations(model, tokenizer, [prompt], layers=[layer], position="all")
    features = sae.encode(stream[0].to(sae.W_enc.dtype))
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(prompt)["input_ids"])
    top = features.topk(k, dim=-1)
    return [
        (token, [(int(i), round(float(v), 4)) for v, i in zip(values, ids)])
        for token, values, ids in zip(tokens, top.values, top.indices)
    ]


@contextmanager
def steer_with_feature(model: nn.Module, sae: Any, feature: int, *, layer: int, strength: float, positions: Any = "all") -> Iterator[None]:
    """Steer along one feature's decoder direction at `layer`."""
    check_model('model', model)
    check_count('feature', feature, 0)
    check_count('layer', layer, 0)
    check_number('strength', strength)
    with steer(model, {layer: sae.W_dec[feature].detach()}, strength=strength, positions=positions):
        yield
