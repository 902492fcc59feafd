"""Stochastic Parameter Decomposition (SPD; Bushnaq, Braun, Sharkey, 2025) on the toy model of superposition.

SPD writes each weight matrix as a sum of C rank-one subcomponents `U_c V_cᵀ`. A small MLP per subcomponent
reads its inner activation `x · V_c` and predicts a causal importance `g_c(x)` in [0, 1]; the model is
then run with stochastic masks `m = g + (1 − g) · u`, `u ~ U(0, 1)`, on every subcomponent. The losses:
faithfulness (the subcomponents sum to the weights), stochastic reconstruction (the masked model's output
matches the original, all layers masked and each layer alone) and importance minimality (`Σ g^p`, so that
as few subcomponents as possible matter on each input).

```python
tms = train_tms(5, 2, seed=0)                      # out = ReLU(Wᵀ W x + b): 5 features in 2 dimensions
spd = decompose_parameters(tms, n_components=20, seed=0)
mmcs, ml2r = mmcs_ml2r(spd.components, tms.W)      # the paper's Table 1: 1.000 and 0.993 on TMS 5-2
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .checks import check_count, check_number, check_tensor, kind

__all__ = ["TMS", "Decomposition", "decompose_parameters", "mmcs_ml2r", "train_tms"]


class TMS(nn.Module):
    """The toy model of superposition (Elhage et al., 2022): `out = ReLU(Wᵀ W x + b)`, W `[n_hidden, n_features]`."""

    def __init__(self, n_features: int = 5, n_hidden: int = 2) -> None:
        super().__init__()
        check_count("n_features", n_features)
        check_count("n_hidden", n_hidden)
        self.W = nn.Parameter(torch.empty(n_hidden, n_features))
        self.b = nn.Parameter(torch.zeros(n_features))
        nn.init.xavier_normal_(self.W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x @ self.W.T @ self.W + self.b)

    @property
    def n_features(self) -> int:
        return self.W.shape[1]

    @classmethod
    def load(cls, path: str | Path) -> TMS:
        """A TMS saved with `torch.save(tms.state_dict(), path)`; its sizes are read from the file."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or set(state) != {"W", "b"} or state["W"].dim() != 2:
            raise ValueError(f"{path} is not a saved TMS: expected a state dict with W [n_hidden, n_features] and b [n_features]")
        model = cls(state["W"].shape[1], state["W"].shape[0])
        model.load_state_dict(state)
        return model.requires_grad_(False)


def sparse_features(batch: int, n_features: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """`[batch, n_features]`: each feature present with `probability`, at a value drawn from U(0, 1)."""
    values = torch.rand(batch, n_features, generator=generator)
    return values * (torch.rand(batch, n_features, generator=generator) < probability)


def _check_probability(probability: float) -> None:
    check_number("feature_probability", probability)
    if not 0 < probability <= 1:
        raise ValueError(f"feature_probability must be in (0, 1], got {probability}")


def train_tms(n_features: int = 5, n_hidden: int = 2, *, feature_probability: float = 0.05, importance: float = 1.0,
              steps: int = 4000, batch_size: int = 1024, lr: float = 5e-3, seed: int = 0) -> TMS:  # fmt: skip
    """Train a TMS on sparse uniform features; the loss weights feature i by `importance ** i` (Elhage et al.;
    1.0, every feature equal, is the SPD paper's target)."""
    check_count("n_features", n_features)
    check_count("n_hidden", n_hidden)
    _check_probability(feature_probability)
    check_number("importance", importance)
    check_count("steps", steps)
    check_count("batch_size", batch_size)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = TMS(n_features, n_hidden)
    weights = importance ** torch.arange(n_features, dtype=torch.float32)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        x = sparse_features(batch_size, n_features, feature_probability, generator)
        loss = (weights * (model(x) - x) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.requires_grad_(False)


def _active_rows(batch: int, n_features: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """`sparse_features` rows with at least one feature present. An input with none gives `ReLU(b)` however
    the subcomponents are masked, so it carries no reconstruction signal: dropping it speeds SPD up several-fold."""
    rows = torch.empty(0, n_features)
    while len(rows) < batch:
        x = sparse_features(4 * batch, n_features, probability, generator)
        rows = torch.cat([rows, x[x.any(-1)]])
    return rows[:batch]


# --- SPD ---------------------------------------------------------------------------------------------


@dataclass
class Decomposition:
    """What `decompose_parameters` found: the subcomponents of W (the encoder) and of Wᵀ (the decoder)."""

    U: torch.Tensor
    """`[C, n_hidden]`: the output vectors of W's subcomponents."""
    V: torch.Tensor
    """`[C, n_features]`: their input vectors; subcomponent c of W is `outer(U[c], V[c])`."""
    decoder_U: torch.Tensor
    """`[C, n_features]`, and `decoder_V` `[C, n_hidden]`: the subcomponents of the decoder Wᵀ."""
    decoder_V: torch.Tensor
    losses: dict[str, float]
    """The last step's losses: faithfulness, stochastic reconstruction (all layers, layerwise), importance minimality."""
    mean_importance: torch.Tensor
    """`[C]`: each of W's subcomponents' mean causal importance on fresh inputs (dead ones ≈ 0)."""

    @property
    def components(self) -> torch.Tensor:
        """`[C, n_hidden, n_features]`: W's subcomponents as matrices; they sum to W."""
        return torch.einsum("ch,cf->chf", self.U, self.V)


class _Layer(nn.Module):
    """One decomposed matrix: C rank-one subcomponents and their causal-importance MLPs (one hidden layer each)."""

    def __init__(self, n_components: int, d_in: int, d_out: int, hidden: int) -> None:
        super().__init__()
        self.U = nn.Parameter(torch.randn(n_components, d_out) / math.sqrt(d_out))
        self.V = nn.Parameter(torch.randn(n_components, d_in) / math.sqrt(d_in))
        self.w1 = nn.Parameter(torch.randn(n_components, hidden))
        self.b1 = nn.Parameter(torch.zeros(n_components, hidden))
        self.w2 = nn.Parameter(torch.randn(n_components, hidden) / math.sqrt(hidden))
        self.b2 = nn.Parameter(torch.zeros(n_components))

    def weight(self) -> torch.Tensor:
        """`[d_out, d_in]`: the sum of the subcomponents."""
        return self.U.T @ self.V

    def importance(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pre-activation of each subcomponent's importance on `x` `[B, d_in]`, through the lower-leaky
        hard sigmoid (for masks) and the upper-leaky one (for the minimality loss): two `[B, C]`."""
        inner = x @ self.V.T
        pre = (F.gelu(inner[..., None] * self.w1 + self.b1) * self.w2).sum(-1) + self.b2
        lower = torch.where(pre < 0, 0.01 * pre, pre.clamp(max=1.0))
        upper = torch.where(pre > 1, 1 + 0.01 * (pre - 1), pre.clamp(min=0.0))
        return lower, upper

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        inner = x @ self.V.T
        return (inner if mask is None else inner * mask) @ self.U


def decompose_parameters(model: TMS, *, n_components: int = 20, steps: int = 12000, batch_size: int = 256,
                         lr: float = 3e-3, importance_coeff: float = 3e-3, p: float = 1.0, ci_hidden: int = 16,
                         feature_probability: float = 0.05, seed: int = 0) -> Decomposition:  # fmt: skip
    """Decompose a TMS's W and Wᵀ by SPD, each into `n_components` rank-one subcomponents, on the sparse
    inputs it was trained on; deterministic given `seed`. A faithfulness warm-up (a tenth of `steps`) first
    makes the subcomponents sum to the weights."""
    if not isinstance(model, TMS):
        raise TypeError(f"model must be a TMS (train_tms or TMS.load), got {kind(model)}")
    check_count("n_components", n_components)
    check_count("steps", steps, minimum=10)
    check_count("batch_size", batch_size)
    for name, value in (("lr", lr), ("importance_coeff", importance_coeff), ("p", p)):
        check_number(name, value)
    _check_probability(feature_probability)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    W, b = model.W.detach().float(), model.b.detach().float()
    n_hidden, n_features = W.shape
    encoder, decoder = _Layer(n_components, n_features, n_hidden, ci_hidden), _Layer(n_components, n_hidden, n_features, ci_hidden)
    targets = (W, W.T)

    def faithfulness() -> torch.Tensor:
        return sum(((layer.weight() - t) ** 2).sum() for layer, t in zip((encoder, decoder), targets)) / (2 * W.numel())

    warmup = torch.optim.AdamW([encoder.U, encoder.V, decoder.U, decoder.V], lr=1e-2, weight_decay=0.1)
    for _ in range(max(1, steps // 10)):
        warmup.zero_grad()
        faithfulness().backward()
        warmup.step()
    optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)))
    for _ in range(steps):
        x = _active_rows(batch_size, n_features, feature_probability, generator)
        hidden = x @ W.T
        target = F.relu(hidden @ W + b)
        (g1, up1), (g2, up2) = encoder.importance(x), decoder.importance(hidden)
        m1 = g1 + (1 - g1) * torch.rand(g1.shape, generator=generator)
        m2 = g2 + (1 - g2) * torch.rand(g2.shape, generator=generator)
        both = F.relu(decoder(encoder(x, m1), m2) + b)
        first = F.relu(encoder(x, m1) @ W + b)
        second = F.relu(decoder(hidden, m2) + b)
        losses = {
            "faithfulness": faithfulness(),
            "stochastic_reconstruction": F.mse_loss(both, target),
            "stochastic_reconstruction_layerwise": (F.mse_loss(first, target) + F.mse_loss(second, target)) / 2,
            "importance_minimality": (up1.abs() ** p).sum(-1).mean() + (up2.abs() ** p).sum(-1).mean(),
        }
        loss = (losses["faithfulness"] * 100 + losses["stochastic_reconstruction"] + losses["stochastic_reconstruction_layerwise"]
                + importance_coeff * losses["importance_minimality"])  # fmt: skip
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():
        x = sparse_features(batch_size, n_features, feature_probability, generator)
        mean_importance = encoder.importance(x)[0].clamp(0, 1).mean(0)
    detached = {name: float(value.detach()) for name, value in losses.items()}
    return Decomposition(encoder.U.detach().clone(), encoder.V.detach().clone(), decoder.U.detach().clone(),
                         decoder.V.detach().clone(), detached, mean_importance)  # fmt: skip


def mmcs_ml2r(components: torch.Tensor, weight: torch.Tensor, *, min_norm: float = 0.0) -> tuple[float, float]:
    """Mean max cosine similarity and mean L2 ratio (the SPD paper's Table 1) of `components` `[C, d_out, d_in]`
    against the columns of `weight` `[d_out, d_in]`: for each column i, the subcomponent whose column i is
    closest in direction, its cosine, and its norm over the column's; each averaged over the columns. With
    `min_norm`, a subcomponent's column shorter than `min_norm` times W's is no candidate (it has no direction
    to speak of); 0, the default, is the paper's formula."""
    check_tensor("components", components)
    check_tensor("weight", weight)
    check_number("min_norm", min_norm)
    if weight.dim() != 2 or components.dim() != 3 or components.shape[1:] != weight.shape:
        raise ValueError(f"components must be [C, {', '.join(map(str, weight.shape))}] to match weight {tuple(weight.shape)} "
                         f"(stack the rank-one matrices, e.g. Decomposition.components), got {tuple(components.shape)}")  # fmt: skip
    components, weight = components.detach().float(), weight.detach().float()
    columns = weight.norm(dim=0)  # [d_in]
    norms = components.norm(dim=1)  # [C, d_in]
    cosines = (components * weight).sum(1) / (norms * columns).clamp(min=1e-12)  # [C, d_in]
    cosines = cosines.masked_fill(norms < min_norm * columns, -2.0)
    best, which = cosines.max(0)
    ratio = norms.gather(0, which[None])[0] / columns.clamp(min=1e-12)
    return float(best.mean()), float(ratio.mean())
