"""The modal sandbox at the Modal client boundary: specs from an Environment, the model cache, cleanup.

Modal's control plane cannot be reached from here, so `FakeModal` stands in for the few calls the
provider makes (App.lookup, Sandbox.create/list and the calls on a sandbox); images, secrets, volumes
and probes are real `modal` objects, which are built lazily without network. The Jupyter server and
the cache script run for real on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import anyio
import modal
import pytest
from huggingface_hub import try_to_load_from_cache
from packaging.version import Version

from seer.environment import Environment
from seer.errors import SandboxError
from seer.sandbox.base import ExecResult
from seer.sandbox.modal import (
    CACHE,
    HF_HOME,
    MARKER,
    PORT,
    STACK,
    ModalSandbox,
    ModalSpec,
    cache_status,
    doctor_modal,
    ensure_model,
    gpu_spec,
    image_spec,
    jupyter_command,
    list_sandboxes,
    prefetch_command,
    requirements,
    secret_values,
    stop_sandboxes,
)
from tests.providers import free_port

pytestmark = pytest.mark.anyio

COMMIT = "a" * 40
OTHER = "b" * 40


def aio(function: Any) -> SimpleNamespace:
    """Modal's calling convention: `thing.call.aio(...)`."""
    return SimpleNamespace(aio=function)


class FakeSandbox:
    """One sandbox as the control plane would report it; `terminate` yields to the event loop first,
    as a network call would, so an unshielded cleanup under cancellation never gets there."""

    def __init__(self, control: FakeModal, args: tuple[str, ...], kwargs: dict[str, Any]) -> None:
        self.control, self.args, self.kwargs = control, list(args), kwargs
        self.object_id = f"sb-{len(control.sandboxes)}"
        self.app_id = kwargs["app"].app_id
        self.tags = dict(kwargs.get("tags") or {})
        self.execs: list[list[str]] = []
        self.terminated = 0
        self.wait_until_ready = aio(self._ready)
        self.exec = aio(self._exec)
        self.tunnels = aio(self._tunnels)
        self.terminate = aio(self._terminate)
        self.snapshot_filesystem = aio(self._snapshot)
        self.get_tags = aio(self._get_tags)

    @property
    def token(self) -> str:
        return next(a for a in self.args if a.startswith("--IdentityProvider.token=")).partition("=")[2]

    async def _ready(self, *, timeout: int) -> None:
        await self.control.hook("ready")

    async def _exec(self, *argv: str, timeout: int) -> SimpleNamespace:
        self.execs.append(list(argv))
        await self.control.hook("exec")
        code, out = 0, ""
        if argv[:2] == ("python", "-c"):
            code = self.control.download_exit
            out = json.dumps([{"id": m["id"], "commit": COMMIT} for m in json.loads(argv[-1])])
        stream = lambda text: SimpleNamespace(read=aio(lambda: _value(text)))  # noqa: E731
        err = "401 gated repo" if code else ""
        return SimpleNamespace(stdout=stream(out), stderr=stream(err), wait=aio(lambda: _value(code)))

    async def _tunnels(self) -> dict[int, SimpleNamespace]:
        await self.control.hook("tunnels")
        return {PORT: SimpleNamespace(url=f"https://{self.object_id}.modal.host")}

    async def _terminate(self) -> None:
        await anyio.sleep(0)
        self.terminated += 1

    async def _snapshot(self) -> SimpleNamespace:
        return SimpleNamespace(object_id="im-snapshot")

    async def _get_tags(self) -> dict[str, str]:
        return self.tags


async def _value(value: Any) -> Any:
    return value


class FakeModal:
    """The `modal` module as the provider uses it; `fail` maps a stage (create, ready, exec, tunnels)
    to an exception to raise there, or to "hang"."""

    exception = modal.exception
    Image = modal.Image
    Probe = modal.Probe

    def __init__(self, fail: dict[str, Any] | None = None, apps: tuple[str, ...] = ()) -> None:
        self.fail = fail or {}
        self.download_exit = 0
        self.apps = {name: SimpleNamespace(app_id=f"ap-{name}") for name in apps}
        self.sandboxes: list[FakeSandbox] = []
        self.secrets: list[dict[str, str]] = []
        self.volumes: list[tuple[str, bool]] = []
        self.App = SimpleNamespace(lookup=aio(self._lookup))
        self.Sandbox = SimpleNamespace(create=aio(self._create), list=aio(self._list))
        self.Secret = SimpleNamespace(from_dict=self._secret)
        self.Volume = SimpleNamespace(from_name=self._volume)

    async def hook(self, stage: str) -> None:
        action = self.fail.get(stage)
        if action == "hang":
            await anyio.sleep_forever()
        if isinstance(action, BaseException):
            raise action

    async def _lookup(self, name: str, *, create_if_missing: bool = False) -> SimpleNamespace:
        await self.hook("lookup")
        if name not in self.apps:
            if not create_if_missing:
                raise modal.exception.NotFoundError(f"App '{name}' not found")
            self.apps[name] = SimpleNamespace(app_id=f"ap-{name}")
        return self.apps[name]

    async def _create(self, *args: str, **kwargs: Any) -> FakeSandbox:
        sandbox = FakeSandbox(self, args, kwargs)
        self.sandboxes.append(sandbox)  # created on Modal's side even if the caller is interrupted now
        await self.hook("create")
        return sandbox

    async def _list(self, *, app_id: str, tags: dict[str, str]) -> Any:
        for sandbox in list(self.sandboxes):
            if sandbox.app_id == app_id and not sandbox.terminated and tags.items() <= sandbox.tags.items():
                yield sandbox

    def _secret(self, values: dict[str, str]) -> Any:
        self.secrets.append(dict(values))
        return modal.Secret.from_dict(values)

    def _volume(self, name: str, *, create_if_missing: bool = False) -> Any:
        self.volumes.append((name, create_if_missing))
        return modal.Volume.from_name(name, create_if_missing=create_if_missing)


class FakeJupyter:
    """Stands in for `JupyterSandbox` (tested on its own against a real server)."""

    made: list[FakeJupyter] = []
    fail: Exception | None = None

    def __init__(self, url: str, token: str, *, folder: str | None = None) -> None:
        self.url, self.token, self.folder = url, token, folder
        self.workspace, self.private = "/root/seer/r/workspace", "/root/seer/r/private"
        self.python, self.confinement = "python3", None
        self.terminated = 0
        FakeJupyter.made.append(self)

    async def start(self) -> None:
        if FakeJupyter.fail is not None:
            raise FakeJupyter.fail

    async def exec(self, argv: list[str], *, timeout_s: float | None = None) -> ExecResult:
        return ExecResult(argv, 0, "ran in the sandbox", "")

    async def terminate(self) -> None:
        self.terminated += 1


@pytest.fixture
def jupyter(monkeypatch: pytest.MonkeyPatch) -> type[FakeJupyter]:
    module = ModuleType("seer.sandbox.jupyter")
    module.JupyterSandbox = FakeJupyter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "seer.sandbox.jupyter", module)
    monkeypatch.setattr(FakeJupyter, "made", [])
    monkeypatch.setattr(FakeJupyter, "fail", None)
    return FakeJupyter


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.setenv("HF_TOKEN", "hf_allowed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-allowed")
    return Environment(
        name="probe",
        packages=["einops>=0.8"],
        models=[{"id": "org/model", "revision": COMMIT}, {"id": "seer:tiny-gpt2", "name": "tiny"}],
        secrets={"allow": ["HF_TOKEN"]},
        sandbox={"provider": "modal", "gpu": "A10G", "gpus": 2, "cpus": 4, "memory_gib": 32, "idle_timeout_s": 600},
        timeouts={"setup_s": 900},
    )


# --- specs -------------------------------------------------------------------------------------------


def test_the_image_pins_the_harness_versions_then_the_environment_packages(env: Environment) -> None:
    image, pins = image_spec(env, FakeModal())
    assert isinstance(image, modal.Image)
    expected = [f"{name}=={Version(metadata.version(name)).public}" for name in STACK]
    assert pins == [*expected, "einops>=0.8"]
    assert any(p.startswith("torch==") for p in pins) and not any("+" in p or "/" in p for p in pins)


def test_an_environment_package_replaces_the_pin_of_the_same_name(env: Environment) -> None:
    pins = requirements(env.model_copy(update={"packages": ["Transformers==5.0.0"]}))
    assert "Transformers==5.0.0" in pins and not any(p.startswith("transformers==") for p in pins)


@pytest.mark.parametrize(
    ("gpu", "gpus", "expected"),
    [(None, 0, None), ("H100", 0, "H100"), ("H100", 1, "H100"), ("A10G", 2, "A10G:2")],
)
def test_gpu_strings_follow_modal(gpu: str | None, gpus: int, expected: str | None) -> None:
    assert gpu_spec(ModalSpec(provider="modal", gpu=gpu, gpus=gpus)) == expected


def test_a_gpu_count_without_a_type_is_an_error_naming_the_fix() -> None:
    with pytest.raises(SandboxError, match="set `gpu`"):
        gpu_spec(ModalSpec(provider="modal", gpus=2))


def test_only_allowed_secrets_leave_the_host(env: Environment) -> None:
    assert secret_values(env) == {"HF_TOKEN": "hf_allowed"}


async def test_a_missing_allowed_secret_is_named_and_nothing_is_created(
    env: Environment, jupyter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    control = FakeModal()
    with pytest.raises(SandboxError, match="secrets.allow names 'HF_TOKEN', which the host does not set"):
        await ModalSandbox(env, client=control).start()
    assert control.sandboxes == [] and control.apps == {}


def test_the_jupyter_command_demands_a_real_token() -> None:
    argv = jupyter_command("t" * 43)
    assert "--IdentityProvider.token=" + "t" * 43 in argv and "--ip=0.0.0.0" in argv
    assert not any("disable_check_xsrf" in a or "allow_origin" in a for a in argv)
    for weak in ("", "short"):
        with pytest.raises(ValueError, match="at least 32 random characters"):
            jupyter_command(weak)


@pytest.mark.slow
def test_the_jupyter_server_refuses_requests_without_its_token(tmp_path: Path) -> None:
    port = free_port()
    token = "k" * 43
    argv = jupyter_command(token, port=port, root=str(tmp_path), python=sys.executable)
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status = f"http://127.0.0.1:{port}/api/status"
        with_token = urllib.request.Request(status, headers={"Authorization": f"token {token}"})
        for _ in range(300):
            try:
                with urllib.request.urlopen(with_token, timeout=2) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, "the Jupyter server exited"
                anyio.run(anyio.sleep, 0.1)
        else:
            pytest.fail("the Jupyter server did not answer within 30 s")
        for request in (status, urllib.request.Request(status, headers={"Authorization": "token wrong"})):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            refused.value.close()
            assert refused.value.code == 403
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_start_asks_modal_for_the_specs_and_delegates_to_jupyter(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    sandbox = ModalSandbox(env, run_id="run-1", client=control)
    await sandbox.start()
    [created] = control.sandboxes
    options = created.kwargs
    assert created.args[:3] == ["python", "-m", "jupyter_server"] and f"--port={PORT}" in created.args
    assert options["gpu"] == "A10G:2" and options["cpu"] == 4 and options["memory"] == 32 * 1024
    assert options["idle_timeout"] == 600 and options["region"] is None
    assert options["encrypted_ports"] == [PORT] and "unencrypted_ports" not in options
    assert isinstance(options["readiness_probe"], modal.Probe) and options["readiness_probe"].tcp_port == PORT
    assert control.volumes == [("seer-model-cache", True)] and list(options["volumes"]) == [CACHE]
    assert options["env"] == {"HF_HOME": HF_HOME} and HF_HOME.startswith(CACHE + "/")
    assert control.secrets == [{"HF_TOKEN": "hf_allowed"}] and len(options["secrets"]) == 1
    assert options["tags"]["seer"] == "1" and options["tags"]["run"] == "run-1" and options["tags"]["env"] == "probe"
    assert isinstance(options["image"], modal.Image) and sandbox.requirements[-1] == "einops>=0.8"
    [connected] = jupyter.made
    assert (connected.url, connected.token, connected.folder) == ("https://sb-0.modal.host", created.token, "run-1")
    assert len(created.token) >= 43
    download, sync = created.execs
    assert json.loads(download[-1]) == [{"id": "org/model", "revision": COMMIT}]  # packaged models are not fetched
    assert sync == ["sync", CACHE] and sandbox.models == [{"id": "org/model", "commit": COMMIT}]
    assert sandbox.workspace == "/root/seer/r/workspace" and sandbox.python == "python3"
    assert (await sandbox.exec(["nvidia-smi"])).stdout == "ran in the sandbox"
    await sandbox.terminate()


async def test_two_sandboxes_get_different_tokens(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    for _ in range(2):
        await ModalSandbox(env, client=control).start()
    first, second = control.sandboxes
    assert first.token != second.token
    assert [j.token for j in jupyter.made] == [first.token, second.token]


async def test_no_secret_is_made_when_none_is_allowed(jupyter: Any) -> None:
    control = FakeModal()
    await ModalSandbox(Environment(sandbox={"provider": "modal"}), client=control).start()
    assert control.secrets == [] and control.sandboxes[0].kwargs["secrets"] == []
    assert control.sandboxes[0].kwargs["gpu"] is None and control.sandboxes[0].execs == []


async def test_a_snapshot_restores_into_a_new_sandbox(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    async with ModalSandbox(env, client=control) as first:
        image_id = await first.snapshot()
    restored = ModalSandbox(env, snapshot=image_id, client=control)
    await restored.start()
    image = control.sandboxes[1].kwargs["image"]
    assert image_id == "im-snapshot" and isinstance(image, modal.Image) and restored.requirements == []
    await restored.terminate()


class LocalJupyterModal(FakeModal):
    """Runs the sandbox's own command line here: a real Jupyter server on loopback stands behind the tunnel."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.servers: list[subprocess.Popen[bytes]] = []

    async def _create(self, *args: str, **kwargs: Any) -> FakeSandbox:
        sandbox = await super()._create(*args, **kwargs)
        port = free_port()
        local = {"python": sys.executable, f"--port={PORT}": f"--port={port}",
                 f"--ServerApp.root_dir={kwargs['workdir']}": f"--ServerApp.root_dir={self.root}"}  # fmt: skip
        server = subprocess.Popen([local.get(a, a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.servers.append(server)

        async def ready(*, timeout: int) -> None:
            with anyio.fail_after(timeout):
                while True:
                    try:
                        await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                        return
                    except OSError:
                        await anyio.sleep(0.1)

        async def tunnels() -> dict[int, SimpleNamespace]:
            return {PORT: SimpleNamespace(url=f"http://127.0.0.1:{port}")}

        async def terminate() -> None:
            server.terminate()
            await anyio.to_thread.run_sync(server.wait)
            sandbox.terminated += 1

        sandbox.wait_until_ready, sandbox.tunnels, sandbox.terminate = aio(ready), aio(tunnels), aio(terminate)
        return sandbox


@pytest.mark.slow
async def test_the_real_jupyter_sandbox_drives_the_server_the_sandbox_runs(tmp_path: Path) -> None:
    pytest.importorskip("seer.sandbox.jupyter")
    control = LocalJupyterModal(tmp_path)
    env = Environment(sandbox={"provider": "modal"}, timeouts={"setup_s": 60})
    async with ModalSandbox(env, run_id="run-1", client=control) as sandbox:
        done = await sandbox.exec(["sh", "-c", "echo hi; pwd"])
        assert done.exit_code == 0 and done.stdout.split() == ["hi", str(tmp_path / "run-1" / "workspace")]
        await sandbox.write_file("notes.txt", b"written through the tunnel")
    assert (tmp_path / "run-1" / "workspace" / "notes.txt").read_bytes() == b"written through the tunnel"
    assert control.sandboxes[0].terminated == 1 and control.servers[0].poll() is not None


async def test_modal_not_answering_is_a_clear_error(env: Environment, jupyter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("seer.sandbox.modal._CONTACT_S", 0.1)
    with pytest.raises(SandboxError, match="Modal did not answer within 0.1 s; run `seer doctor --provider modal`"):
        await ModalSandbox(env, client=FakeModal(fail={"lookup": "hang"})).start()


# --- cleanup on every exit path ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "failure", "message"),
    [
        ("ready", modal.exception.SandboxTimeoutError("not ready"), "did not start: SandboxTimeoutError: not ready"),
        ("tunnels", modal.exception.SandboxTimeoutError("no tunnel"), "did not start: SandboxTimeoutError: no tunnel"),
        ("download", None, "could not download org/model into the model cache:\n401 gated repo"),
        ("jupyter", SandboxError("the token was refused"), "the token was refused"),
    ],
)
async def test_a_start_failing_after_creation_terminates_the_sandbox(
    env: Environment, jupyter: Any, stage: str, failure: Exception | None, message: str
) -> None:
    control = FakeModal(fail={stage: failure})
    if stage == "download":
        control.download_exit = 1
    if stage == "jupyter":
        jupyter.fail = failure
    sandbox = ModalSandbox(env, client=control)
    with pytest.raises(SandboxError, match=message):
        await sandbox.start()
    assert control.sandboxes[0].terminated == 1 and sandbox.sandbox_id is None


async def test_terminate_shuts_jupyter_then_the_sandbox_and_twice_is_harmless(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    sandbox = ModalSandbox(env, client=control)
    await sandbox.start()
    await sandbox.terminate()
    await sandbox.terminate()
    assert control.sandboxes[0].terminated == 1 and jupyter.made[0].terminated == 1
    with pytest.raises(SandboxError, match="not started; call `await sandbox.start\\(\\)` first"):
        sandbox.workspace


async def test_an_error_inside_async_with_terminates(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    with pytest.raises(RuntimeError, match="agent crashed"):
        async with ModalSandbox(env, client=control):
            raise RuntimeError("agent crashed")
    assert control.sandboxes[0].terminated == 1


async def test_cancellation_while_starting_terminates(env: Environment, jupyter: Any) -> None:
    control = FakeModal(fail={"ready": "hang"})
    with anyio.move_on_after(0.2) as scope:
        await ModalSandbox(env, client=control).start()
    assert scope.cancelled_caught and control.sandboxes[0].terminated == 1


async def test_cancellation_inside_create_still_finds_and_terminates_the_sandbox(env: Environment, jupyter: Any) -> None:
    control = FakeModal(fail={"create": "hang"})
    with anyio.move_on_after(0.2):
        await ModalSandbox(env, client=control).start()
    assert control.sandboxes[0].terminated == 1


async def test_ctrl_c_while_starting_terminates(env: Environment, jupyter: Any) -> None:
    control = FakeModal(fail={"exec": KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        await ModalSandbox(env, client=control).start()
    assert control.sandboxes[0].terminated == 1


async def test_a_failed_terminate_names_the_fix(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    sandbox = ModalSandbox(env, client=control)
    await sandbox.start()

    async def refuse() -> None:
        raise modal.exception.ConnectionError("network down")

    control.sandboxes[0].terminate = aio(refuse)
    with pytest.raises(SandboxError, match="could not terminate the Modal sandbox sb-0 .*`seer sandboxes --stop`"):
        await sandbox.terminate()


# --- leftovers and doctor ------------------------------------------------------------------------------


async def test_leftovers_are_listed_and_stopped(env: Environment, jupyter: Any) -> None:
    control = FakeModal()
    for run in ("a", "b"):
        await ModalSandbox(env, run_id=run, client=control).start()
    foreign = FakeSandbox(control, (), {"app": control.apps["seer"], "tags": {"owner": "someone-else"}})
    control.sandboxes.append(foreign)
    found = await list_sandboxes(client=control)
    assert [(s["id"], s["tags"]["run"]) for s in found] == [("sb-0", "a"), ("sb-1", "b")]
    assert await stop_sandboxes(client=control) == 2
    assert await list_sandboxes(client=control) == [] and foreign.terminated == 0


async def test_no_app_means_no_leftovers() -> None:
    assert await list_sandboxes("never-used", client=FakeModal()) == []
    assert await stop_sandboxes("never-used", client=FakeModal()) == 0


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.delenv("MODAL_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("MODAL_CONFIG_PATH", str(tmp_path / "modal.toml"))
    return tmp_path / "modal.toml"


async def test_doctor_without_a_token_says_modal_token_new(no_token: Path) -> None:
    assert await doctor_modal() == [
        "no Modal token (MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or ~/.modal.toml): run `modal token new`"
    ]


async def test_doctor_without_the_package_names_the_extra(no_token: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "modal", None)
    assert await doctor_modal() == ["the `modal` package is not installed: pip install 'seer-interp[modal]'"]


async def test_doctor_bounds_the_wait_and_reads_the_token_file(no_token: Path) -> None:
    no_token.write_text('[default]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n')
    assert await doctor_modal(client=FakeModal()) == []  # the app is missing: Modal answered
    [slow] = await doctor_modal(client=FakeModal(fail={"lookup": "hang"}), timeout_s=0.1)
    assert slow.startswith("Modal did not answer within 0.1 s")
    [refused] = await doctor_modal(client=FakeModal(fail={"lookup": modal.exception.AuthError("bad token")}))
    assert refused == "Modal refused the token (bad token): run `modal token new`"


# --- the model cache -----------------------------------------------------------------------------------


def fake_fetch(files: dict[str, bytes], commit: str = COMMIT, fail_after: int | None = None) -> Any:
    def fetch(repo_id: str, revision: str | None, dest: Path) -> str:
        for index, (name, data) in enumerate(files.items()):
            if index == fail_after:
                raise ConnectionError("connection reset mid-download")
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
        return commit

    return fetch


FILES = {"config.json": b'{"model_type": "gpt2"}', "model.safetensors": b"\x00" * 64}


def test_nothing_cached_is_missing(tmp_path: Path) -> None:
    assert cache_status(tmp_path, "org/model", COMMIT) == "missing"


def test_a_complete_download_is_cached_and_found_by_huggingface_hub(tmp_path: Path) -> None:
    marker = ensure_model(tmp_path, "org/model", None, fake_fetch(FILES))
    files = {"config.json": 22, "model.safetensors": 64}
    assert marker == {"id": "org/model", "revision": None, "commit": COMMIT, "files": files}
    assert cache_status(tmp_path, "org/model", None) == cache_status(tmp_path, "org/model", COMMIT) == "cached"
    for revision in (None, COMMIT):  # what `from_pretrained` does in the kernel, with HF_HOME on the volume
        found = try_to_load_from_cache("org/model", "model.safetensors", cache_dir=tmp_path, revision=revision)
        assert found == str(tmp_path / "models--org--model" / "snapshots" / COMMIT / "model.safetensors")
    assert not list((tmp_path / "models--org--model").glob(".partial-*"))
    assert ensure_model(tmp_path, "org/model", None, fake_fetch({}, fail_after=0)) == marker  # cached: no fetch


def test_a_failed_download_leaves_no_marker_and_no_snapshot(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError, match="mid-download"):
        ensure_model(tmp_path, "org/model", COMMIT, fake_fetch(FILES, fail_after=1))
    repo = tmp_path / "models--org--model"
    assert not (repo / "snapshots").exists() and not list(repo.glob(".partial-*"))
    assert cache_status(tmp_path, "org/model", COMMIT) == "missing"


def test_a_snapshot_without_its_marker_is_incomplete_and_downloaded_again(tmp_path: Path) -> None:
    half = tmp_path / "models--org--model" / "snapshots" / COMMIT
    half.mkdir(parents=True)
    (half / "config.json").write_bytes(FILES["config.json"])  # a download that stopped before the weights
    assert cache_status(tmp_path, "org/model", COMMIT) == "incomplete"
    ensure_model(tmp_path, "org/model", COMMIT, fake_fetch(FILES))
    assert cache_status(tmp_path, "org/model", COMMIT) == "cached" and (half / "model.safetensors").stat().st_size == 64


def test_a_file_shorter_than_its_marker_says_is_incomplete(tmp_path: Path) -> None:
    ensure_model(tmp_path, "org/model", COMMIT, fake_fetch(FILES))
    (tmp_path / "models--org--model" / "snapshots" / COMMIT / "model.safetensors").write_bytes(b"\x00")
    assert cache_status(tmp_path, "org/model", COMMIT) == "incomplete"


def test_a_marker_for_another_revision_does_not_count(tmp_path: Path) -> None:
    ensure_model(tmp_path, "org/model", "v1", fake_fetch(FILES, commit=OTHER))
    assert cache_status(tmp_path, "org/model", "v1") == "cached"
    assert cache_status(tmp_path, "org/model", COMMIT) == "missing"
    assert cache_status(tmp_path, "org/model", "v2") == "missing"
    copied = tmp_path / "models--org--model" / "snapshots" / COMMIT
    (tmp_path / "models--org--model" / "snapshots" / OTHER).rename(copied)  # a marker naming another commit
    assert cache_status(tmp_path, "org/model", COMMIT) == "incomplete"


def test_the_shipped_script_runs_without_seer_and_never_trusts_a_half_download(tmp_path: Path) -> None:
    ensure_model(tmp_path, "org/model", COMMIT, fake_fetch(FILES))
    models = Environment(models=[{"id": "org/model", "revision": COMMIT}, {"id": "org/absent", "name": "other"}]).models
    argv = prefetch_command(models[:1], root=str(tmp_path), python=sys.executable)
    isolated = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([argv[0], "-S", *argv[1:]], capture_output=True, text=True, env=isolated, timeout=60)  # -S: no Seer
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["commit"] == COMMIT
    argv = prefetch_command(models[1:], root=str(tmp_path), python=sys.executable)
    failed = subprocess.run(argv, capture_output=True, text=True, env=isolated, timeout=60)
    assert failed.returncode != 0 and cache_status(tmp_path, "org/absent", None) == "missing"
    absent = tmp_path / "models--org--absent"
    assert not list(absent.glob(f"snapshots/*/{MARKER}")) and not list(absent.glob(".partial-*"))
