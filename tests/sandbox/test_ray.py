"""The ray provider on a real local Ray cluster (`ray_cluster`, from tests/ray_cluster.py via conftest):
the actor's Jupyter server, its cleanup, placement errors, and the doctor."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import httpx2
import psutil
import pytest

from seer.errors import SandboxError
from seer.sandbox.ray import RaySandbox, RaySpec, doctor_ray
from tests.providers import free_port

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]


def spec(address: str, **fields: object) -> RaySpec:
    return RaySpec.model_validate({"provider": "ray", "address": address, "cpus": 1, **fields})


@pytest.fixture
async def sandbox(ray_cluster: str) -> AsyncIterator[RaySandbox]:
    box = RaySandbox(spec(ray_cluster), name="test")
    started = time.monotonic()
    await box.start()
    print(f"RaySandbox.start took {time.monotonic() - started:.1f} s")
    yield box
    await box.terminate()


def server_family(box: RaySandbox) -> list[psutil.Process]:
    """The node's Jupyter server for `box` and everything under it (its kernels)."""
    root = box.workspace.split("/root/", 1)[0] + "/root"
    servers = [p for p in psutil.process_iter(["cmdline"]) if f"--ServerApp.root_dir={root}" in (p.info["cmdline"] or [])]
    assert len(servers) == 1, f"expected one Jupyter server for {root}, found {servers}"
    return [servers[0], *servers[0].children(recursive=True)]


def port_open(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


async def gone(processes: list[psutil.Process], url: str, within_s: float) -> bool:
    """Whether the processes have ended and the port has closed within `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(map(running, processes)) and not port_open(url):
            return True
        await anyio.sleep(0.2)
    return False


def running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # gone (psutil also refuses a pid that was reused)
        return False


async def free_cpus(expected: float, within_s: float = 10) -> float:
    deadline = time.monotonic() + within_s
    while (cpus := ray.available_resources().get("CPU", 0)) != expected and time.monotonic() < deadline:
        await anyio.sleep(0.2)
    return cpus


async def test_the_actor_serves_jupyter_on_the_node_address_with_its_token_only(sandbox: RaySandbox) -> None:
    assert urlsplit(sandbox.url).hostname == ray.util.get_node_ip_address()
    assert sandbox.jupyter is not None
    token = sandbox.jupyter.server.token
    for header, status in [(f"token {token}", 200), (None, 403), ("token wrong", 403)]:
        headers = {"Authorization": header} if header else {}
        async with httpx2.AsyncClient(timeout=10) as client:  # one each: a token login sets a cookie
            assert (await client.get(f"{sandbox.url}/api/status", headers=headers)).status_code == status


async def test_a_kernel_started_through_the_sandbox_runs_code(sandbox: RaySandbox) -> None:
    kernel = await sandbox.start_kernel(env={"SEER_TEST": "ray"}, start_timeout_s=60)
    run = await kernel.execute("import os\nprint(1 + 1, os.environ['SEER_TEST'], 'JUPYTER_TOKEN' in os.environ)", timeout_s=30)
    assert run.status == "ok"
    assert "".join(o.get("text", "") for o in run.outputs) == "2 ray False\n"


async def test_terminate_stops_the_server_and_its_kernels_and_frees_the_actor(ray_cluster: str) -> None:
    box = RaySandbox(spec(ray_cluster), name="test-terminate")
    await box.start()
    await box.start_kernel(env={}, start_timeout_s=60)
    family, folder = server_family(box), box.workspace.split("/root/", 1)[0]
    assert len(family) >= 3  # the server, the sandbox's helper kernel and this kernel
    await box.terminate()
    await box.terminate()  # twice is harmless
    assert await gone(family, box.url, within_s=15)
    assert not os.path.exists(folder)
    assert await free_cpus(4) == 4  # the actor is gone and its CPU back
    with pytest.raises(ValueError):
        ray.get_actor(box.actor_name)


async def test_the_server_and_its_kernels_die_with_the_actor(ray_cluster: str) -> None:
    box = RaySandbox(spec(ray_cluster), name="test-killed")
    await box.start()
    family, folder = server_family(box), box.workspace.split("/root/", 1)[0]
    ray.kill(ray.get_actor(box.actor_name))
    assert await gone(family, box.url, within_s=30)
    await box.terminate()  # still harmless with the actor already dead
    shutil.rmtree(folder)  # a killed actor cannot remove its folder; it stays in the node's /tmp


async def test_more_gpus_than_the_cluster_has_is_a_clear_error_at_once(ray_cluster: str) -> None:
    box = RaySandbox(spec(ray_cluster, gpus=64), name="test-greedy")
    with anyio.fail_after(20), pytest.raises(SandboxError, match=r"asks for 64 GPU\(s\).*lower `\[sandbox\] gpus`"):
        await box.start()
    assert await free_cpus(4) == 4  # nothing was placed
    await box.terminate()


async def test_a_busy_cluster_times_out_with_what_is_free_and_leaves_no_actor(sandbox: RaySandbox, ray_cluster: str) -> None:
    late = RaySandbox(spec(ray_cluster, cpus=4), name="test-late", start_timeout_s=3)  # `sandbox` holds 1 of 4
    with anyio.fail_after(15), pytest.raises(SandboxError, match=r"within 3 s .*free now: 0 GPU, 3 CPU"):
        await late.start()
    with pytest.raises(ValueError):
        ray.get_actor(late.actor_name)
    assert await free_cpus(3) == 3


async def test_doctor_names_an_unreachable_address_within_seconds(ray_cluster: str) -> None:
    closed = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    problems = doctor_ray(closed)
    assert time.monotonic() - started < 5
    assert len(problems) == 1 and closed in problems[0] and "`ray start --head`" in problems[0]
    assert doctor_ray(ray_cluster) == []
    assert doctor_ray("auto") == []  # RAY_ADDRESS names the test cluster


def test_a_server_that_does_not_answer_in_time_is_stopped_and_its_log_shown() -> None:
    from seer.sandbox.ray import _JupyterHost  # the actor's class, run here as a plain object

    host = _JupyterHost()
    with pytest.raises(RuntimeError, match=r"did not answer within 0\.1 s; its log ends:"):
        host.start("test-slow", wait_s=0.1)
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if any("seer-test-slow-" in part for part in p.info["cmdline"] or [])]
    assert leftovers == [] and host._folder == ""
