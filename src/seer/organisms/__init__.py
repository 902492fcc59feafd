"""Model organisms: LoRA adapters on the packaged SmolLM2-135M-Instruct with planted behaviours.

Use one in an environment as `adapter = "seer:<name>"`. Each folder under `adapters/` holds the adapter
and its model card (`MODEL_CARD.md`, `card.json` with measured behaviour rates); `seer.organisms.train`
rebuilds any of them from `recipes.py`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ADAPTERS", "organism_names", "organism_path"]

ADAPTERS = Path(__file__).parent / "adapters"


def organism_names() -> list[str]:
    """The organisms shipped with this Seer."""
    return sorted(p.name for p in ADAPTERS.glob("*") if (p / "adapter_config.json").is_file())


def organism_path(name: str) -> Path:
    """The folder of organism `name`.

    Raises:
        KeyError: No such organism; the message lists the shipped ones.
    """
    path = ADAPTERS / name
    if not (path / "adapter_config.json").is_file():
        raise KeyError(f"no organism {name!r}; shipped: {', '.join(organism_names()) or 'none'}")
    return path
