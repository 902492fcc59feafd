"""The ray sandbox: a Jupyter server hosted by a Ray actor on a node with the requested GPUs, driven by
the jupyter provider over the cluster network.

The actor (`_JupyterHost`) reserves `sandbox.gpus` GPUs and `sandbox.cpus` CPUs, starts
`python -m jupyter_server` on its node (bound to the node's cluster address, a port the OS picks, a
random token, a fresh root folder), and answers with the URL and the token once the server does; a
`JupyterSandbox` then does the rest. The actor's code travels by value, so nodes need Ray,
`jupyter_server` and `ipykernel`, never Seer.

The server does not outlive its actor: `terminate` stops it (kernels included) and removes its folder;
Ray kills a dead actor's child processes and kills the actor when Seer's process ends; and the server
shuts itself down after `_IDLE_S` seconds without kernels. Every wait is bounded; blocking Ray calls run
in threads and the actor's replies are awaited as futures, so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from pydantic import Field

from seer.environment import Environment, SandboxSpec
from seer.errors import MissingExtra, SandboxError
from seer.sandbox.base import SandboxPlugin
from seer.sandbox.hosted import HostedJupyter

__all__ = ["PROVIDER", "RaySandbox", "RaySpec", "doctor_ray"]

_INSTALL = "pip install 'seer-interp[ray]'"
_ADDRESSES = "'auto', 'ray://head:10001' or 'head:6379'"
_IDLE_S = 600
"""The node's Jupyter server shuts itself down after this long without kernels (a last resort)."""
_SERVER_START_S = 60.0
"""How long the actor waits for its Jupyter server to answer."""
_CONNECT_S = 60.0
"""How long joining a reachable cluster may take."""
_STOP_S = 30.0
"""How long `terminate` waits for the actor to stop its server."""
_connecting = threading.Lock()


class RaySpec(SandboxSpec):
    """`[sandbox] provider = "ray"`: an actor on a Ray cluster holds the GPUs, a Jupyter server beside it."""

    address: str | None = None
    """The cluster's address ('auto', 'ray://head:10001', '10.0.0.5:6379'); none starts a local one."""
    gpus: int = Field(0, ge=0)
    """How many GPUs the actor reserves on its node."""


class RaySandbox(HostedJupyter):
    """A sandbox on a Ray cluster: an actor holding the GPUs, and a Jupyter server beside it.

    Args:
        spec: `address` picks the cluster (None joins the local one, starting it if needed), `gpus`
            and `cpus` what the actor reserves on its node.
        name: A label for the actor and the run's folder on the server (the run id).
        start_timeout_s: The longest `start` waits for a node to take the actor and its server to answer.
    """

    def __init__(self, spec: RaySpec, *, name: str = "seer", start_timeout_s: float = 300.0) -> None:
        self.spec = spec
        self.name = name
        self.start_timeout_s = start_timeout_s
        self.url = ""
        """The Jupyter server's address on the cluster network, once started."""
        self.actor_name = ""
        """The actor's name in the cluster (`ray list actors`), once placed."""
        self._actor: Any = None

    async def start(self) -> None:
        """Join the cluster, place the actor, start its Jupyter server and connect to it.

        Raises:
            SandboxError: The cluster is unreachable, no node has the GPUs and CPUs asked for, or the
                server did not come up in time; whatever was made is cleaned up first.
        """
        from seer.sandbox.jupyter import JupyterSandbox

        try:
            ray = _ray()
            try:
                await asyncio.wait_for(asyncio.to_thread(_connect, ray, self.spec.address), _CONNECT_S)
            except TimeoutError:
                raise SandboxError(f"joining the Ray cluster at {_where(self.spec.address)} took over {_CONNECT_S:g} s; check that `ray status` works there") from None
            self._actor = await asyncio.to_thread(self._place, ray)
            self.url, token = await self._serve(ray)
            self.jupyter = JupyterSandbox(self.url, token, folder=f"seer/{self.name}")
            await self.jupyter.start()
        except BaseException:
            await self.terminate()
            raise

    def _place(self, ray: Any) -> Any:
        """Check that a node can take the actor, then ask Ray for it; returns its handle at once."""
        _check_capacity(ray, self.spec)
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # nodes need not have Seer
        self.actor_name = f"seer-{self.name}-{secrets.token_hex(3)}"
        host = ray.remote(_JupyterHost).options(num_gpus=self.spec.gpus, num_cpus=self.spec.reserved_cpus, name=self.actor_name)
        return host.remote()

    async def _serve(self, ray: Any) -> tuple[str, str]:
        """Wait (without holding a thread) for the actor to be placed and its server to answer."""
        reply = self._actor.start.remote(self.name, _SERVER_START_S).future()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(reply), self.start_timeout_s)
        except TimeoutError:
            raise SandboxError(
                f"no node took the sandbox within {self.start_timeout_s:g} s (asked for {self.spec.gpus} GPU(s), "
                f"{self.spec.reserved_cpus:g} CPU(s); free now: {_resources(ray.available_resources())}); wait for other "
                "sessions to finish, or lower `[sandbox] gpus`/`cpus`"
            ) from None
        except ray.exceptions.RayError as exc:
            raise SandboxError(f"the Ray actor could not start a Jupyter server: {getattr(exc, 'cause', None) or exc}") from None

    async def terminate(self) -> None:
        """Shut the kernels, stop the server (its folder on the node goes too) and kill the actor; safe twice."""
        jupyter, actor = self.jupyter, self._actor
        self.jupyter = self._actor = None
        try:
            if jupyter is not None:
                await jupyter.terminate()
        finally:
            if actor is not None:
                await _stop_actor(actor, serving=jupyter is not None)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SandboxError(f"the ray sandbox needs Ray: {_INSTALL}") from None
    return ray


def _connect(ray: Any, address: str | None) -> None:
    """Join the cluster at `address` unless this process already has (one process, one cluster)."""
    with _connecting:
        if ray.is_initialized():
            return
        problem = _unreachable(address)
        if problem:
            raise SandboxError(problem)
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, ValueError, RuntimeError…
            raise SandboxError(f"could not join the Ray cluster at {_where(address)}: {exc}; set `[sandbox] address` to {_ADDRESSES}") from None


def _check_capacity(ray: Any, spec: RaySpec) -> None:
    """Fail now, not after a timeout, when no live node has the GPUs and CPUs asked for."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if any(r.get("GPU", 0) >= spec.gpus and r.get("CPU", 0) >= spec.reserved_cpus for r in nodes):
        return
    have = "; ".join(_resources(r) for r in nodes) or "no live node"
    raise SandboxError(
        f"the sandbox asks for {spec.gpus} GPU(s) and {spec.reserved_cpus:g} CPU(s) on one node, but the Ray cluster's "
        f"nodes have: {have}; lower `[sandbox] gpus`/`cpus`, or add a node that has them"
    )


def _resources(resources: dict[str, float]) -> str:
    return f"{resources.get('GPU', 0):g} GPU, {resources.get('CPU', 0):g} CPU"


async def _stop_actor(actor: Any, *, serving: bool) -> None:
    """Ask a `serving` actor to stop its server, then kill it (an actor still placing or starting has
    nothing to stop that Ray will not kill with it); a dead actor or cluster leaves nothing to stop."""
    import ray

    if serving:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.wrap_future(actor.stop.remote().future()), _STOP_S)
    with contextlib.suppress(Exception):
        ray.kill(actor)


def _where(address: str | None) -> str:
    return repr(address) if address else "this machine (no `address`)"


def _endpoint(address: str | None) -> str | None:
    """The `host:port` that `ray.init(address)` will dial, found as Ray finds it (`RAY_ADDRESS`, then the
    last `ray start` recorded); None when Ray looks no further (it starts a local cluster, or for `auto`
    looks for one running here)."""
    if address in (None, "auto"):
        folder = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        record = Path(folder, "ray", "ray_current_cluster")
        address = os.environ.get("RAY_ADDRESS") or (record.read_text().strip() if record.is_file() else None)
    return None if address in (None, "local") else address.removeprefix("ray://")


def _unreachable(address: str | None, timeout_s: float = 3.0) -> str | None:
    """Why `ray.init(address)` would fail or hang (it retries a dead address for minutes), or None."""
    endpoint = _endpoint(address)
    if endpoint is None:
        return None
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        return f"Ray address {address!r} is not host:port; set `[sandbox] address` to {_ADDRESSES}"
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"the Ray cluster at {endpoint!r} is unreachable ({reason}); start it (`ray start --head`) or fix `[sandbox] address`"
    return None


def doctor_ray(address: str | None) -> list[str]:
    """What stops the ray sandbox from working with `address`, one line each with its fix; empty when
    nothing. Takes a few seconds at most: one TCP connection attempt (for `auto`, Ray's own look here)."""
    if importlib.util.find_spec("ray") is None:
        return [f"Ray is not installed: {_INSTALL}"]
    if address and address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        return [f"{address!r} is a Ray Client address, which needs Ray Client: pip install 'ray[client]'"]
    problem = _unreachable(address)
    if problem is None and address == "auto" and _endpoint(address) is None:
        problem = _no_cluster_here()
    return [problem] if problem else []


def _no_cluster_here() -> str | None:
    """For `auto` with no recorded address: the problem if Ray finds no cluster running here (it says so at once)."""
    import ray

    if ray.is_initialized():
        return None
    try:
        ray.init(address="auto", log_to_driver=False, logging_level=logging.WARNING)
    except ConnectionError:
        return "`address = 'auto'` but no Ray cluster runs here; start one (`ray start --head`) or give its address ('ray://head:10001' or 'head:6379')"
    ray.shutdown()
    return None


class _JupyterHost:
    """Runs on a cluster node, as a Ray actor: one Jupyter server, started and stopped on request.

    Pickled by value: it may use the standard library, Ray, and Ray's bundled `psutil`, nothing of Seer's.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._folder = ""

    def start(self, name: str, wait_s: float) -> tuple[str, str]:
        """Start the server on this node; return its URL and token once `GET /api/status` answers."""
        import ray

        if importlib.util.find_spec("jupyter_server") is None:
            raise RuntimeError(f"{sys.executable} on this Ray node has no jupyter_server; `pip install jupyter_server ipykernel` there")
        ip, token = ray.util.get_node_ip_address(), secrets.token_urlsafe(32)
        self._folder = tempfile.mkdtemp(prefix=f"seer-{name}-")
        root, runtime, log = (os.path.join(self._folder, part) for part in ("root", "runtime", "server.log"))
        os.mkdir(root)
        config = os.path.join(self._folder, "config.json")  # the token stays out of argv and the kernels' environment
        with open(os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            json.dump({"IdentityProvider": {"token": token}}, file)
        argv = [
            sys.executable, "-m", "jupyter_server", f"--config={config}", "--no-browser", "--allow-root",
            f"--ServerApp.ip={ip}", "--ServerApp.port=0", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
            f"--ServerApp.shutdown_no_activity_timeout={_IDLE_S}",
        ]  # fmt: skip
        with open(log, "wb") as sink:
            self._process = subprocess.Popen(
                argv, cwd=root, env={**os.environ, "JUPYTER_RUNTIME_DIR": runtime}, stdin=subprocess.DEVNULL,
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_default_sigint,
            )  # fmt: skip
        atexit.register(self.stop)
        info = os.path.join(runtime, f"jpserver-{self._process.pid}.json")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a node's HTTP_PROXY must not apply
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and self._process.poll() is None:
            with contextlib.suppress(OSError, ValueError):  # not written yet, or half-written
                with open(info) as file:
                    port = json.load(file)["port"]
                url = f"http://{f'[{ip}]' if ':' in ip else ip}:{port}"
                request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
                with direct.open(request, timeout=2):
                    return url, token
            time.sleep(0.2)
        with open(log, errors="replace") as file:
            tail = file.read()[-2000:]
        code = self._process.poll()
        state = f"did not answer within {wait_s:g} s" if code is None else f"exited with code {code}"
        self.stop()
        raise RuntimeError(f"the Jupyter server on Ray node {ip} {state}; its log ends:\n{tail}")

    def stop(self) -> None:
        """Stop the server and everything under it (kernels first get its own shutdown), and remove its
        folder; safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            import psutil  # bundled with Ray

            try:
                family = psutil.Process(process.pid).children(recursive=True)
            except psutil.Error:
                family = []
            process.terminate()  # the server shuts its kernels down
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            for child in family:  # whatever the server left behind
                with contextlib.suppress(psutil.Error):
                    child.kill()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = ""


def _default_sigint() -> None:
    """In the server's process, before it runs: a Ray worker ignores (and may block) SIGINT, and its
    children would inherit that, so kernels could not be interrupted."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _make(env: Environment, run_path: Path, run_id: str) -> RaySandbox:
    if importlib.util.find_spec("ray") is None:
        raise MissingExtra("ray", "the ray sandbox", "ray")
    assert isinstance(env.sandbox, RaySpec)
    return RaySandbox(env.sandbox, name=run_id)


async def _check(spec: RaySpec) -> list[str]:
    return await asyncio.to_thread(doctor_ray, spec.address)


PROVIDER = SandboxPlugin(make=_make, spec=RaySpec, check=_check)
