"""Shared fixtures: real kernels in real sessions, offline, every wait bounded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # a hub call otherwise hangs ~50 s on a machine without network
if workers := os.environ.get("PYTEST_XDIST_WORKER_COUNT"):  # `make test` runs TEST_WORKERS pytest processes at once
    from seer.sandbox.threads import THREAD_VARIABLES, usable_cores

    share = str(max(1, usable_cores() // int(workers)))
    for name in THREAD_VARIABLES:  # before torch is imported: this worker, its kernels and its subprocesses share the cores
        os.environ.setdefault(name, share)

from seer.environment import Environment  # noqa: E402
from seer.session import Session  # noqa: E402
from tests.providers import jupyter_server, on_provider, parametrized_provider, shared_jupyter_server  # noqa: E402, F401
from tests.ray_cluster import ray_cluster  # noqa: E402, F401


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def provider() -> str:
    """Where sessions run; a module that runs its tests on every provider overrides this with
    `parametrized_provider` (see tests/providers.py)."""
    return "local"


@pytest.fixture
async def session(tmp_path: Path, on_provider: Callable[[Environment], Environment]) -> AsyncIterator[Session]:
    """A fresh notebook session with a short cell timeout, closed after the test."""
    env = on_provider(Environment(name="test", timeouts={"cell_s": 20}))
    async with Session.open(env, runs_dir=tmp_path / "runs") as live:
        yield live
