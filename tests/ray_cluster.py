"""A real local Ray cluster for tests: `ray start --head` in a process group of its own, under a short
temporary folder, stopped (with every process it started) at the end of the test session.

`tests/conftest.py` imports `ray_cluster` for every test. It yields the cluster's `host:port` and sets
`RAY_ADDRESS`, so this process's `ray.init()` (and a `SandboxSpec` without `address`) joins it too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

QUIET = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}
"""Keeps the cluster from reporting usage or warning about the container's CPU limit."""


AGENT_PORTS = ("dashboard-agent-listen", "dashboard-agent-grpc", "runtime-env-agent", "metrics-export")
"""`ray start`'s ports that may default to fixed numbers (52365, …), given free ones. The Ray Client server's
(10001) is not started: it needs `ray[client]`, which the suite does not install."""


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address of a real 4-CPU Ray cluster on this machine, shared by the session's tests."""
    pytest.importorskip("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="sr-", dir="/tmp")  # Ray's socket paths must stay under ~107 bytes
    # every port Ray would otherwise take at a fixed default: two test workers each start a cluster
    fixed = [f"--{name}-port={_free_port()}" for name in AGENT_PORTS]
    argv = [
        str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}", "--num-cpus=4", *fixed,
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}", "--object-store-memory=100000000",
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"} | QUIET
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"`ray start` failed with code {process.returncode}:\n{out.decode(errors='replace')[-3000:]}")
        address = f"127.0.0.1:{port}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RAY_ADDRESS", address)
            for key, value in QUIET.items():
                patch.setenv(key, value)
            yield address
    finally:
        _disconnect()
        _stop(process.pid)
        shutil.rmtree(temp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _disconnect() -> None:
    """Leave the cluster if this process joined it."""
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _stop(group: int) -> None:
    """Stop the cluster's daemons (the process group `ray start` led) and everything they started."""
    members = [p for p in psutil.process_iter() if _group_of(p) == group]
    descendants = [child for member in members for child in _children(member)]  # workers have groups of their own
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    for process in [*_running(members, wait_s=2), *descendants]:
        with contextlib.suppress(psutil.Error):
            process.kill()
    _running([*members, *descendants], wait_s=5)


def _running(processes: list[psutil.Process], *, wait_s: float) -> list[psutil.Process]:
    """Those of `processes` still running after up to `wait_s` seconds (zombies count as ended)."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = [p for p in processes if _alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _group_of(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []
