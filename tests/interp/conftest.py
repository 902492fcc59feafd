"""Tiny random models of several architectures, built once per test session."""

from typing import Any

import pytest
import torch

from seer.interp import load_model

ARCHS = ["tiny-gpt2", "tiny-llama", "tiny-qwen2", "tiny-gemma2"]


@pytest.fixture(scope="session", params=ARCHS)
def tiny(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    torch.use_deterministic_algorithms(True)
    return load_model(f"seer:{request.param}", seed=7)


@pytest.fixture
def direction() -> torch.Tensor:
    return torch.randn(64, generator=torch.Generator().manual_seed(3))
