"""`[[services]]`: a process service starts healthy beside the kernel, the agent calls it through the generated
`services` functions, and nothing of it survives the session's close or a SIGKILL of the harness."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.errors import SandboxError
from seer.prompt import system_prompt
from seer.services import container_runtime
from seer.session import Session

pytestmark = pytest.mark.anyio

SERVICE = Path(__file__).parent / "fixtures" / "calc_service.py"
CALC = {"name": "calc", "command": [sys.executable, str(SERVICE)], "health": "/health",
        "endpoints": [{"name": "add", "path": "/add", "description": "The sum of a and b."}, {"name": "echo", "method": "POST", "path": "/echo"}]}  # fmt: skip


def tagged(tag: str) -> list[int]:
    marker = f"SEER_SERVICE_TAG={tag}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def gone(tag: str, within_s: float = 15.0) -> bool:
    for _ in range(int(within_s * 10)):  # bounded
        if not tagged(tag):
            return True
        time.sleep(0.1)
    return False


async def test_a_service_is_called_through_generated_functions_and_stops_with_the_session(tmp_path: Path) -> None:
    env = Environment(name="svc", services=[CALC])
    assert "calc_add(**arguments): The sum of a and b." in system_prompt(env)
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        cell = await session.execute("import services\nprint(services.calc_add(a=2, b=3), services.calc_echo(x=[1, 2]))")
        assert "{'sum': 5} {'x': [1, 2]}" in cell.render()[0]
        record = session.run.read_record()
        tag = f"{session.run.id}-calc"
        assert len(tagged(tag)) == 1 and record["services"][0]["url"].startswith("http://127.0.0.1:")
    assert gone(tag)


async def test_a_service_that_dies_at_start_fails_the_session_with_its_log(tmp_path: Path) -> None:
    broken = {**CALC, "command": [sys.executable, "-c", "import sys; print('no luck'); sys.exit(3)"]}
    with pytest.raises(SandboxError, match=r"(?s)services.calc: the service exited \(code 3\); its log .*no luck"):
        async with Session.open(Environment(name="svc", services=[broken]), runs_dir=tmp_path / "runs"):
            pass


async def test_nothing_of_a_service_survives_a_sigkill_of_the_harness(tmp_path: Path) -> None:
    script = tmp_path / "harness.py"
    script.write_text(f"""
import asyncio, sys
from seer.environment import Environment
from seer.services import container_runtime
from seer.session import Session

async def main():
    session = await Session.start(Environment(name="svc", services=[{json.dumps(CALC)}]), runs_dir={str(tmp_path / "runs")!r})
    print(session.run.id, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
""")
    harness = await asyncio.create_subprocess_exec(sys.executable, str(script), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert harness.stdout is not None
    run_id = (await asyncio.wait_for(harness.stdout.readline(), 300)).decode().strip()
    tag = f"{run_id}-calc"
    assert tagged(tag), "the service is running"
    os.kill(harness.pid, signal.SIGKILL)
    await harness.wait()
    assert gone(tag), "the watchdog stopped the service after the harness died"


async def test_a_container_service_without_a_container_engine_says_so(tmp_path: Path) -> None:
    runtime, why = container_runtime()
    if runtime is not None:
        pytest.skip(f"{runtime} answers here: the refusal cannot be shown")
    env = Environment(name="svc", services=[{"name": "web", "image": "nginx:alpine"}])
    with pytest.raises(SandboxError, match="services.web: a container service needs a working docker or podman: "):
        async with Session.open(env, runs_dir=tmp_path / "runs"):
            pass
    assert why


async def test_a_container_service_runs_where_docker_or_podman_is(tmp_path: Path) -> None:
    runtime, why = container_runtime()
    if runtime is None:
        pytest.skip(f"no container engine on this machine: {why}")
    env = Environment(name="svc", services=[{"name": "web", "image": "nginx:alpine", "health": "/"}])
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        assert session.run.read_record()["services"][0]["name"] == "web"
