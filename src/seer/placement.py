"""Where a session's models go: packaged adapters copied into the sandbox under a root folder (the
workspace, or a scope server's private folder), and the `load_model` arguments for each model."""

from __future__ import annotations

from typing import Any

from seer.environment import ModelSpec
from seer.organisms import organism_path
from seer.sandbox.base import Sandbox

__all__ = ["load_arguments", "place_adapters"]


def _adapter_dir(spec: ModelSpec) -> str:
    """Where a model's packaged organism goes under the root: named for the model's variable, so the
    folder says nothing about the organism (a hash of its name could be guessed word by word)."""
    return f".seer/adapters/{spec.name}"


async def place_adapters(models: list[ModelSpec], sandbox: Sandbox, root: str) -> None:
    """Copy the packaged organisms the models use (weights and config, not the model card) under `root`."""
    for spec in models:
        if spec.adapter and spec.adapter.startswith("seer:"):
            folder = organism_path(spec.adapter[5:])
            for name in ("adapter_config.json", "adapter_model.safetensors"):
                await sandbox.upload(folder / name, f"{root}/{_adapter_dir(spec)}/{name}")


def load_arguments(spec: ModelSpec, root: str, folder: str | None = None) -> dict[str, Any]:
    """`load_model` keyword arguments for `spec`, plus its `name` and `id` (packaged adapters under `root`;
    the model from `folder` instead of its id when given: a blind kernel's scrubbed copy)."""
    adapter = spec.adapter
    if adapter and adapter.startswith("seer:"):
        adapter = f"{root}/{_adapter_dir(spec)}"
    options: dict[str, Any] = {"dtype": spec.dtype, "revision": spec.revision, "adapter": adapter,
                               "device_map": spec.device_map, "merge_adapter": spec.merge_adapter or None,
                               "trust_remote_code": spec.trust_remote_code or None,
                               "hidden_name": spec.name if spec.hidden else None}  # fmt: skip
    if folder is not None:
        options["revision"] = None  # the copy is of the revision asked for
    return {"name": spec.name, "id": folder or spec.id, **{key: value for key, value in options.items() if value is not None}}
