"""Sparse autoencoders trained by Seer on the packaged models' residual streams, shipped with their cards.

Each folder holds `sae_weights.safetensors` and `cfg.json` (sae-lens's layout: `seer_interp.load_sae(folder)`
loads it), `card.json` (how it was trained and its measured quality) and `MODEL_CARD.md`.
`python -m seer.saes.train` rebuilds one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAES", "sae_names", "sae_path"]

SAES = Path(__file__).parent


def sae_names() -> list[str]:
    """The SAEs shipped with this Seer."""
    return sorted(p.name for p in SAES.glob("*") if (p / "sae_weights.safetensors").is_file())


def sae_path(name: str) -> Path:
    """The folder of the shipped SAE `name`.

    Raises:
        KeyError: No such SAE; the message lists the shipped ones.
    """
    path = SAES / name
    if not (path / "sae_weights.safetensors").is_file():
        raise KeyError(f"no SAE {name!r}; shipped: {', '.join(sae_names()) or 'none'}")
    return path
