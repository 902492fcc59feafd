"""Sparse autoencoders: load (sae-lens releases, or a folder in sae-lens's saved layout), train one on
activations you collected, measure it, encode activations, find the top features per token, and steer
with a feature's decoder direction.

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
from .checks import check_count, check_model, check_number, check_prompt, check_tensor, check_tokenizer
from .steering import steer

__all__ = ["SparseAutoencoder", "load_sae", "sae_metrics", "steer_with_feature", "top_features", "train_sae"]


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

        weights = {k: v.float() for k, v in load_file(folder / "sae_weights.safetensors").items()}  # stored half precision: computed in fp32
        return SparseAutoencoder(weights["W_enc"], weights["b_enc"], weights["W_dec"], weights["b_dec"])
    try:
        from sae_lens import SAE
    except ImportError:
        raise ModuleNotFoundError(f"{source!r} is not an SAE folder, and loading a release needs `pip install sae-lens`") from None
    loaded = SAE.from_pretrained(str(source), sae_id)
    return loaded[0] if isinstance(loaded, tuple) else loaded  # sae-lens before 6.0 returned (sae, cfg, sparsity)


def train_sae(
    activations: torch.Tensor, d_sae: int, *, l1: float = 3.0, steps: int = 3000, batch_size: int = 1024, lr: float = 1e-3, seed: int = 0
) -> SparseAutoencoder:
    """A ReLU SAE with `d_sae` features trained on `activations` (`[tokens, d_model]`, e.g. `activations(...,
    position="all")` stacked), in the recipe of Anthropic's April 2024 update: inputs scaled so their mean norm
    about their mean is sqrt(d_model) (a residual stream's large constant part would otherwise set the penalty's
    scale; the scale is folded back into the returned weights), loss = squared error + `l1` · Σ fᵢ‖W_decᵢ‖,
    the encoder initialised as the decoder's transpose, Adam with the learning rate decayed to 0 over the last
    fifth of `steps`. Deterministic for a `seed` on one device."""
    check_tensor("activations", activations)
    if activations.ndim != 2 or activations.shape[0] < 2:
        raise ValueError(f"activations must be [tokens, d_model] with at least 2 tokens, got shape {tuple(activations.shape)}")
    check_count("d_sae", d_sae)
    check_number("l1", l1)
    check_count("steps", steps)
    check_count("batch_size", batch_size)
    check_number("lr", lr)
    x = activations.detach().float()
    d_model = x.shape[1]
    scale = float(d_model**0.5 / (x - x.mean(0)).norm(dim=-1).mean().clamp(min=1e-8))
    x = x * scale
    generator = torch.Generator().manual_seed(seed)
    W_dec = torch.randn(d_sae, d_model, generator=generator)  # noqa: N806
    W_dec = W_dec / W_dec.norm(dim=-1, keepdim=True) * 0.1  # noqa: N806
    sae = SparseAutoencoder(W_dec.t().clone(), torch.zeros(d_sae), W_dec, x.mean(0))
    optimiser = torch.optim.Adam(sae.parameters(), lr=lr, betas=(0.9, 0.999))
    decay = max(1, steps // 5)
    with torch.enable_grad():
        for step in range(steps):
            for group in optimiser.param_groups:
                group["lr"] = lr * min(1.0, (steps - step) / decay)
            batch = x[torch.randint(0, x.shape[0], (min(batch_size, x.shape[0]),), generator=generator)]
            features = sae.encode(batch)
            error = (sae.decode(features) - batch).pow(2).sum(-1).mean()
            sparsity = (features * sae.W_dec.norm(dim=-1)).sum(-1).mean()
            optimiser.zero_grad()
            (error + l1 * sparsity).backward()
            optimiser.step()
    with torch.no_grad():
        sae.W_enc.mul_(scale)
        sae.W_dec.div_(scale)
        sae.b_dec.div_(scale)
    return sae


@torch.no_grad()
def sae_metrics(sae: Any, activations: torch.Tensor) -> dict[str, float]:
    """How well `sae` explains `activations` (`[tokens, d_model]`): `fvu`, the fraction of variance unexplained
    (0 is perfect); `l0`, the mean number of active features per token; `dead`, the fraction of features
    never active on these tokens."""
    check_tensor("activations", activations)
    if activations.ndim != 2:
        raise ValueError(f"activations must be [tokens, d_model], got shape {tuple(activations.shape)}")
    x = activations.float()
    features = sae.encode(x.to(sae.W_enc.dtype))
    error = (sae.decode(features).float() - x).pow(2).sum()
    variance = (x - x.mean(0)).pow(2).sum().clamp(min=1e-12)
    active = features > 0
    return {"fvu": float(error / variance), "l0": float(active.sum(-1).float().mean()), "dead": float((~active.any(0)).float().mean())}


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
