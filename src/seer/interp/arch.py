"""Where things are in a transformers decoder: embeddings, decoder layers, attention and MLP blocks,
and the projections that write into the residual stream. One table row per model family.

Works through PEFT wrappers (`PeftModel`, LoRA layers) by unwrapping to the base model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Arch", "arch_of", "unwrap"]


@dataclass(frozen=True)
class Family:
    layers: str
    """Dotted path from the causal-LM module to the list of decoder layers."""
    embeddings: tuple[str, ...]
    """Modules whose outputs are added into the residual stream before layer 0."""
    final_norm: str
    attn: str
    mlp: str
    attn_out: str
    """The attention block's output projection, relative to the attention module."""
    mlp_out: str
    post_norms: tuple[str, str] | None = None
    """Norms (relative to the layer) applied to the attention and MLP outputs before they join the residual
    (Gemma 2/3). Their outputs are the real writes; weight orthogonalisation cannot stand in for ablation."""


_LLAMA = Family("model.layers", ("model.embed_tokens",), "model.norm", "self_attn", "mlp", "o_proj", "down_proj")
_GEMMA2 = Family(
    "model.layers", ("model.embed_tokens",), "model.norm", "self_attn", "mlp", "o_proj", "down_proj",
    ("post_attention_layernorm", "post_feedforward_layernorm"),
)  # fmt: skip
FAMILIES = {
    "llama": _LLAMA, "mistral": _LLAMA, "qwen2": _LLAMA, "qwen3": _LLAMA, "gemma": _LLAMA, "olmo2": _LLAMA,
    "gemma2": _GEMMA2, "gemma3_text": _GEMMA2, "gemma3": _GEMMA2,
    "gpt2": Family("transformer.h", ("transformer.wte", "transformer.wpe"), "transformer.ln_f", "attn", "mlp", "c_proj", "c_proj"),
}  # fmt: skip


def unwrap(model: nn.Module) -> nn.Module:
    """The causal-LM module under any PEFT wrapper."""
    while hasattr(model, "base_model") and model.base_model is not model and type(model).__name__.startswith("Peft"):
        model = model.base_model
    if type(model).__name__ == "LoraModel":
        model = model.model
    return model


def _get(root: nn.Module, path: str) -> nn.Module:
    module = root
    for part in path.split("."):
        module = getattr(module, part)
    return module


class Arch:
    """Named access to a loaded decoder's parts."""

    def __init__(self, model: nn.Module) -> None:
        self.model = unwrap(model)
        model_type = getattr(self.model.config, "model_type", "")
        if model_type not in FAMILIES:
            raise NotImplementedError(
                f"no layout known for model_type {model_type!r}; known: {', '.join(sorted(FAMILIES))}. "
                "Add a row to seer.interp.arch.FAMILIES."
            )
        self.family = FAMILIES[model_type]

    @property
    def layers(self) -> nn.ModuleList:
        return _get(self.model, self.family.layers)  # type: ignore[return-value]

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def layer(self, index: int) -> nn.Module:
        """Decoder layer `index`; negative counts from the end."""
        return self.layers[index]

    def attn(self, index: int) -> nn.Module:
        return getattr(self.layer(index), self.family.attn)

    def mlp(self, index: int) -> nn.Module:
        return getattr(self.layer(index), self.family.mlp)

    def residual_writes(self) -> list[nn.Module]:
        """The modules whose outputs are added into the residual stream: embeddings, then per layer the
        attention and MLP blocks (or the norms after them, where the family has post-norms)."""
        writes = self.embeddings()
        for index in range(self.n_layers):
            if self.family.post_norms:
                writes += [getattr(self.layer(index), name) for name in self.family.post_norms]
            else:
                writes += [self.attn(index), self.mlp(index)]
        return writes

    def embeddings(self) -> list[nn.Module]:
        return [_get(self.model, path) for path in self.family.embeddings if _has(self.model, path)]

    def final_norm(self) -> nn.Module:
        return _get(self.model, self.family.final_norm)

    def unembed(self) -> nn.Module:
        return self.model.get_output_embeddings()

    def writers(self) -> list[nn.Module]:
        """Every projection that writes into the residual stream: attention and MLP outputs per layer."""
        found = []
        for index in range(self.n_layers):
            found.append(_get(self.attn(index), self.family.attn_out))
            found.append(_get(self.mlp(index), self.family.mlp_out))
        return found

    @property
    def d_model(self) -> int:
        return int(self.model.get_input_embeddings().weight.shape[1])

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def _has(root: nn.Module, path: str) -> bool:
    try:
        _get(root, path)
    except AttributeError:
        return False
    return True


def arch_of(model: nn.Module) -> Arch:
    """The `Arch` of a model."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a loaded model (a torch nn.Module, e.g. from load_model), got {type(model).__name__} {model!r:.60}")
    return Arch(model)
