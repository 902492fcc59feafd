"""Services: processes or OCI containers a session starts beside its kernel (`[[services]]`), reached by the
agent through functions the kernel's `services` module holds, stopped with the session on every exit path.

Each service runs under a small watchdog in the sandbox: it starts the service with a tag in its
environment, and when it is told to stop, when the service exits, or when its own parent (the harness)
dies, even by SIGKILL, it stops every process carrying the tag: the service's signal, then SIGKILL after
five seconds. So nothing of a service outlives the session.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
from typing import Any

import httpx2

from seer.environment import Environment, ServiceSpec
from seer.errors import SandboxError
from seer.run import RunDir
from seer.sandbox.base import Sandbox, Service

__all__ = ["WATCHDOG", "client_module", "container_runtime", "start_services"]

WATCHDOG = r"""
import os, signal, subprocess, sys, time
tag, stop_signal, cwd, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[5:]
parent = os.getppid()
marker = f"SEER_SERVICE_TAG={tag}".encode()

def tagged():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        found.append(int(pid))
            except OSError:
                pass
    return found

def stop(*_, code=0):
    for sig, wait in ((stop_signal, 5.0), (signal.SIGKILL, 2.0)):
        for pid in tagged():
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + wait
        while tagged() and time.monotonic() < end:
            time.sleep(0.1)
    os._exit(code)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
child = subprocess.Popen(argv, cwd=cwd, env={**os.environ, "SEER_SERVICE_TAG": tag}, stdin=subprocess.DEVNULL, start_new_session=True)
while True:
    if child.poll() is not None:
        stop(code=child.returncode if child.returncode >= 0 else 128 - child.returncode)
    if os.getppid() != parent:
        stop()
    time.sleep(0.2)
"""
"""Runs in the sandbox: `python -c WATCHDOG TAG SIGNAL CWD -- ARGV...`."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def container_runtime() -> tuple[str | None, str]:
    """The docker or podman whose engine answers, or None and why there is none."""
    problems = []
    for name in ("docker", "podman"):
        if (path := shutil.which(name)) is None:
            continue
        try:
            done = subprocess.run([path, "info"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"{name} does not answer ({exc})")
            continue
        if done.returncode == 0:
            return path, ""
        said = (done.stderr or done.stdout).strip().splitlines()
        problems.append(f"{name} is installed but its engine does not answer: {said[0] if said else f'exit {done.returncode}'}")
    return None, "; ".join(problems) or "neither docker nor podman is installed"


def _argv(spec: ServiceSpec, port: int, workspace: str) -> list[str]:
    if spec.command:
        return [part.replace("{port}", str(port)) for part in spec.command]
    runtime, why = container_runtime()
    if runtime is None:
        raise SandboxError(f"services.{spec.name}: a container service needs a working docker or podman: {why}; "
                           "start one, or run the service as a `command`")  # fmt: skip
    mounts = [arg for mount in spec.mounts for arg in ("-v", f"{workspace}/{mount}" if not mount.startswith("/") else mount)]
    return [runtime, "run", "--rm", "--init", "-p", f"127.0.0.1:{port}:{spec.container_port}", *mounts, str(spec.image)]


async def _healthy(spec: ServiceSpec, url: str, service: Service, sandbox: Sandbox, log: str) -> None:
    deadline = asyncio.get_running_loop().time() + spec.start_timeout_s
    async with httpx2.AsyncClient(transport=sandbox.service_transport(), timeout=2.0) as client:
        while True:
            try:
                if (await client.get(url + spec.health)).status_code < 500:
                    return
            except httpx2.TransportError:
                pass
            if (code := await service.exit_code()) is not None or asyncio.get_running_loop().time() > deadline:
                tail = (await sandbox.read_file(log)).decode(errors="replace")[-3000:]
                why = f"exited (code {code})" if code is not None else f"did not answer {spec.health} within {spec.start_timeout_s:g} s"
                raise SandboxError(f"services.{spec.name}: the service {why}; its log ({log}):\n{tail}")
            await asyncio.sleep(0.2)


async def start_services(env: Environment, sandbox: Sandbox, run: RunDir) -> dict[str, str]:
    """Start every service and wait until each answers its health check; record them in `run.json`; returns
    the variables the kernel needs (`SEER_SERVICE_<NAME>_URL`).

    Raises:
        SandboxError: A service exited or did not become healthy in time (its log's end is in the message),
            or a container service has no docker or podman.
    """
    variables: dict[str, str] = {}
    record: list[dict[str, Any]] = []
    for spec in env.services:
        port = spec.port or _free_port()
        argv = _argv(spec, port, sandbox.workspace)
        cwd = f"{sandbox.workspace}/{spec.cwd}" if spec.cwd else sandbox.workspace
        log = f"{sandbox.private}/services/{spec.name}.log"
        await sandbox.write_file(log, b"")
        tag = f"{run.id}-{spec.name}"
        watchdog = [sandbox.python, "-c", WATCHDOG, tag, str(int(getattr(signal, spec.stop_signal))), cwd, "--", *argv]
        service = await sandbox.spawn(watchdog, env={**sandbox.base_env(), **spec.env, "PORT": str(port)}, cwd=cwd, log=log)
        url = f"http://127.0.0.1:{port}"
        record.append({"name": spec.name, "url": url, "argv": argv, "log": log, "watchdog_pid": service.pid})
        run.update_record(services=record)
        await _healthy(spec, url, service, sandbox, log)
        variables[f"SEER_SERVICE_{spec.name.upper()}_URL"] = url
    return variables


_MODULE = '''"""The environment's services, as functions; each calls the service over HTTP on 127.0.0.1.

{listing}
"""

import json as _json
import os as _os
import urllib.parse as _parse
import urllib.request as _request

_OPENER = _request.build_opener(_request.ProxyHandler({{}}))


def _call(service, method, path, arguments):
    url = _os.environ[f"SEER_SERVICE_{{service.upper()}}_URL"] + path
    data = None
    if method == "GET" and arguments:
        url += "?" + _parse.urlencode(arguments)
    elif method == "POST":
        data = _json.dumps(arguments).encode()
    request = _request.Request(url, data=data, method=method, headers={{"Content-Type": "application/json"}})
    with _OPENER.open(request, timeout=300) as reply:
        body = reply.read().decode()
    try:
        return _json.loads(body)
    except ValueError:
        return body
'''


def client_module(env: Environment) -> str:
    """Source of the kernel's `services` module: one function `<service>_<endpoint>(**arguments)` per endpoint."""
    functions, listing = [], []
    for spec in env.services:
        for point in spec.endpoints:
            name = f"{spec.name}_{point.name}"
            doc = point.description or f"{point.method} {point.path} of the {spec.name} service."
            listing.append(f"- `{name}(**arguments)`: {doc}")
            functions.append(f"\n\ndef {name}(**arguments):\n    {json.dumps(doc)}\n"
                             f"    return _call({spec.name!r}, {point.method!r}, {point.path!r}, arguments)\n")  # fmt: skip
    return _MODULE.format(listing="\n".join(listing) or "(no endpoints declared)") + "".join(functions)
