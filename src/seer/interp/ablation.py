"""Directional ablation (Arditi et al.): remove a direction from everything written into the residual
stream, either with hooks (reversible) or by orthogonalising the weights (permanent, no hooks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .arch import arch_of
from .checks import check_model, check_tensor
from .hooks import editing

__all__ = ["ablate", "orthogonalize", "project_out"]


def project_out(x: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """`x` minus its component along `direction` (which need not be unit length)."""
    check_tensor('x', x)
    check_tensor('direction', direction)
    unit = (direction / direction.norm()).to(x.device, x.dtype)
    return x - (x @ unit)[..., None] * unit


@contextmanager
def ablate(model: nn.Module, direction: torch.Tensor) -> Iterator[None]:
    """Inside the block, everything written into the residual stream (embeddings, attention and MLP
    outputs) loses its component along `direction`, so the residual stream never holds it."""
    check_model('model', model)
    check_tensor('direction', direction)
    arch = arch_of(model)
    with editing([(module, lambda x: project_out(x, direction)) for module in arch.residual_writes()]):
        yield


@torch.no_grad()
def orthogonalize(model: nn.Module, direction: torch.Tensor) -> None:
    """Edit the weights in place so that nothing can write `direction` into the residual stream.

    Equivalent to `ablate` on architectures whose blocks write straight into the residual stream.

    Raises:
        NotImplementedError: The architecture normalises block outputs before adding them (Gemma 2/3),
            where no weight edit equals ablation; use `ablate` there.
    """
    check_model('model', model)
    check_tensor('direction', direction)
    arch = arch_of(model)
    if arch.family.post_norms:
        raise NotImplementedError(
            f"{arch.model.config.model_type} normalises each block's output before the residual add; "
            "orthogonalising weights does not remove the direction there. Use `with ablate(model, d):`."
        )
    unembed = arch.unembed()
    if any(unembed.weight is e.weight for e in arch.embeddings()):  # tied: the unembedding must not change
        unembed.weight = nn.Parameter(unembed.weight.detach().clone(), requires_grad=unembed.weight.requires_grad)
    for embedding in arch.embeddings():
        embedding.weight.copy_(project_out(embedding.weight, direction))
    unit = direction / direction.norm()
    for writer in arch.writers():
        weight = writer.weight
        u = unit.to(weight.device, weight.dtype)
        if isinstance(writer, nn.Linear):  # y = W x + b, W: [d_model, d_in]
            weight.copy_(weight - torch.outer(u, u @ weight))
        else:  # transformers Conv1D: y = x W + b, W: [d_in, d_model]
            weight.copy_(weight - torch.outer(weight @ u, u))
        if writer.bias is not None:
            writer.bias.copy_(project_out(writer.bias, direction))
