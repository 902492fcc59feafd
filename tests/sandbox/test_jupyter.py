"""The jupyter sandbox against a real Jupyter server on 127.0.0.1: what the session suite does not
cover (tokens, files through the contents API, shell commands and long-running processes through the
helper kernel, HTTP relayed to the server machine's loopback)."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest

from seer.environment import Environment
from seer.errors import SandboxError, SpecError
from seer.sandbox.jupyter import JupyterSandbox
from seer.sandbox.providers import make_sandbox
from tests.providers import SharedJupyterServer, free_port

pytestmark = pytest.mark.anyio


async def test_a_wrong_token_is_a_clear_error(jupyter_server: tuple[str, str]) -> None:
    url, _ = jupyter_server
    sandbox = JupyterSandbox(url, "not-the-token")
    with pytest.raises(SandboxError, match=r"refused the token \(HTTP 403\); pass the token it was started with"):
        await sandbox.start()
    await sandbox.terminate()


def test_the_suites_shared_server_comes_back_after_it_stopped_itself(tmp_path: Path) -> None:
    """The shared server quits after ten idle minutes; a later test gets a fresh one, not a dead URL."""
    server = SharedJupyterServer(tmp_path / "root")
    try:
        url, token = server.running()
        assert server.running() == (url, token)
        assert server.process is not None
        server.process.terminate()
        server.process.wait(30)
        again, _ = server.running()
        assert httpx2.get(f"{again}/api/status", headers={"Authorization": f"token {token}"}, timeout=10).status_code == 200
    finally:
        server.stop()


async def test_an_unreachable_server_and_a_missing_token_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = JupyterSandbox(f"http://127.0.0.1:{free_port()}", "t", request_timeout_s=5)
    with pytest.raises(SandboxError, match="could not reach the Jupyter server at .*is it running, and is the URL right"):
        await sandbox.start()
    with pytest.raises(SandboxError, match="no token"):
        JupyterSandbox("http://127.0.0.1:1", "")
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    env = Environment.from_dict({"sandbox": {"provider": "jupyter", "url": "http://127.0.0.1:1"}})
    with pytest.raises(SpecError, match=r"read from \$JUPYTER_TOKEN, which is not set; export it"):
        make_sandbox(env, tmp_path, "r")


async def test_files_and_commands_reach_the_server(jupyter_server: tuple[str, str], tmp_path: Path) -> None:
    url, token = jupyter_server
    package = tmp_path / "pkg"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 7\n")
    (package / "__pycache__" / "x.pyc").write_bytes(b"junk")
    sandbox = JupyterSandbox(url, token, folder="seer/files-test")
    await sandbox.start()
    try:
        await sandbox.upload(package, "libs/pkg")
        await sandbox.write_file(".seer/adapters/weights.bin", bytes(range(256)))  # hidden: through the kernel
        await sandbox.write_file(f"{sandbox.private}/scope/token", b"secret")
        listing = await sandbox.exec(["find", ".", "-type", "f"])
        slow = await sandbox.exec(["sleep", "30"], timeout_s=1)
        assert await sandbox.read_file(".seer/adapters/weights.bin") == bytes(range(256))
        assert await sandbox.read_file("libs/pkg/__init__.py") == b"VALUE = 7\n"
        assert await sandbox.read_file(f"{sandbox.private}/scope/token") == b"secret"
    finally:
        await sandbox.terminate()
    assert sorted(listing.stdout.split()) == ["./.seer/adapters/weights.bin", "./libs/pkg/__init__.py"]
    assert slow.timed_out and slow.exit_code == -9
    assert sandbox.workspace.endswith("/seer/files-test/workspace") and sandbox.private.endswith("/seer/files-test/private")


SERVE = """
import http.server, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201 if self.headers.get("X-Probe") == "yes" else 400)
        self.end_headers()
        self.wfile.write(body[::-1])
    def log_message(self, *args):
        print("served", self.path, flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
"""


async def test_a_spawned_process_runs_on_the_server_and_is_reached_through_its_kernel(
    jupyter_server: tuple[str, str], tmp_path: Path
) -> None:
    url, token = jupyter_server
    sandbox = JupyterSandbox(url, token, folder="seer/spawn-test")
    await sandbox.start()
    port = free_port()
    try:
        await sandbox.write_file("serve.py", SERVE.encode())
        service = await sandbox.spawn([sandbox.python, "serve.py", str(port)], env={}, cwd=sandbox.workspace, log=f"{sandbox.private}/serve.log")
        failing = await sandbox.spawn([sandbox.python, "-c", "raise SystemExit(3)"], env={}, cwd=sandbox.workspace, log=f"{sandbox.private}/fail.log")
        async with httpx2.AsyncClient(transport=sandbox.service_transport(), base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):  # bounded: the server needs a moment to bind
                try:
                    reply = await client.post("/echo", content=b"abc", headers={"X-Probe": "yes"})
                    break
                except httpx2.ConnectError:
                    await anyio.sleep(0.1)
            refused = await client.post("/echo", content=b"xyz")
            assert await service.exit_code() is None
            await service.stop()
            with pytest.raises(httpx2.ConnectError, match=f"127.0.0.1:{port} on the Jupyter server's machine"):
                await client.post("/echo", content=b"gone")
        assert await service.exit_code() is not None and await failing.exit_code() == 3
        log = (await sandbox.read_file(f"{sandbox.private}/serve.log")).decode()
    finally:
        await sandbox.terminate()
    assert (reply.status_code, reply.content) == (201, b"cba") and (refused.status_code, refused.content) == (400, b"zyx")
    assert "served /echo" in log
