"""Sandbox providers for the cross-provider session suite: the same tests on this machine, on a real
Jupyter server started on 127.0.0.1 with a token, and on a real local Ray cluster.

A test module opts in by overriding the `provider` fixture with `parametrized_provider`; `on_provider`
then turns an environment into one that runs on the current provider.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from seer.environment import Environment

PROVIDERS = ["local", "jupyter", "ray"]
TOKEN_ENV = "SEER_TEST_JUPYTER_TOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_jupyter_server(root: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    """A real `jupyter server` on 127.0.0.1 with `token`, serving `root`; returns it once it answers."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = root.parent / f"jupyter-{port}.log"
    with log.open("wb") as sink:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.shutdown_no_activity_timeout=600"],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx2.get(f"{url}/api/status", headers={"Authorization": f"token {token}"}, timeout=2).status_code == 200:
                return process, url
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the test's Jupyter server did not start; see {log}")


class SharedJupyterServer:
    """One Jupyter server for the session's tests, started again if it has exited.

    The server stops itself after ten idle minutes (so a killed test run leaves no orphan), and the
    suite has longer stretches without a Jupyter test than that.
    """

    def __init__(self, root: Path) -> None:
        self.root, self.token = root, secrets.token_urlsafe(24)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def running(self) -> tuple[str, str]:
        """(url, token) of a server that answers now."""
        if self.process is None or self.process.poll() is not None:
            self.process, self.url = start_jupyter_server(self.root, self.token)
        return self.url, self.token

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def shared_jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedJupyterServer]:
    server = SharedJupyterServer(tmp_path_factory.mktemp("jupyter") / "root")
    yield server
    server.stop()


@pytest.fixture
def jupyter_server(shared_jupyter_server: SharedJupyterServer) -> tuple[str, str]:
    """(url, token) of the Jupyter server shared by the session's tests."""
    return shared_jupyter_server.running()


@pytest.fixture(params=PROVIDERS)
def parametrized_provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def on_provider(provider: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Callable[[Environment], Environment]:
    """Turns an environment into the same one running on the current provider."""
    sandbox: dict[str, Any] = {"provider": provider}
    if provider == "jupyter":
        url, token = request.getfixturevalue("jupyter_server")
        monkeypatch.setenv(TOKEN_ENV, token)
        sandbox |= {"url": url, "token_env": TOKEN_ENV}
    elif provider == "ray":
        sandbox |= {"address": request.getfixturevalue("ray_cluster"), "cpus": 1}

    def on(env: Environment) -> Environment:
        return Environment.model_validate({**env.model_dump(), "sandbox": sandbox})

    return on
