"""Linear probes on activations: logistic regression with a held-out split."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import check_count, check_tensor

__all__ = ["Probe", "train_probe"]


@dataclass
class Probe:
    """A trained linear probe: `sigmoid(x · weight + bias)`."""

    weight: torch.Tensor
    bias: torch.Tensor
    train_accuracy: float
    test_accuracy: float

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Probability of label 1 for each row of `x`."""
        return torch.sigmoid(x.float() @ self.weight + self.bias)

    @property
    def direction(self) -> torch.Tensor:
        """The probe's unit direction in activation space."""
        return self.weight / self.weight.norm()


def train_probe(
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    test_fraction: float = 0.25,
    steps: int = 300,
    lr: float = 0.1,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> Probe:
    """Fit a logistic-regression probe on `x` (`[n, d]`) for binary `labels` (`[n]`), holding out a test split."""
    check_tensor('x', x)
    check_tensor('labels', labels)
    check_count('steps', steps)
    x, labels = x.detach().float(), labels.detach().float()
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=generator)
    n_test = max(1, int(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    z = (x - mean) / std
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.Adam([weight, bias], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z[train] @ weight + bias, labels[train])
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        raw_weight = weight / std  # fold the standardisation into the probe, so it reads raw activations
        raw_bias = bias - (mean / std) @ weight
        probe = Probe(raw_weight, raw_bias, 0.0, 0.0)
        correct = ((probe.predict(x) > 0.5).float() == labels).float()
        probe.train_accuracy, probe.test_accuracy = float(correct[train].mean()), float(correct[test].mean())
    return probe
