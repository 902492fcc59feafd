"""The modal sandbox: a Modal Sandbox with GPUs, running a Jupyter server that `JupyterSandbox` drives.

What it asks Modal for is built as plain data first (`requirements`, `gpu_spec`, `secret_values`,
`jupyter_command`), so tests check it without network; only `App.lookup`, `Sandbox.create` and the
calls on a live sandbox reach Modal, all through one `client` seam (the `modal` module by default).

Models are cached on the Modal Volume `seer-model-cache`, in the Hugging Face cache layout under
`HF_HOME`, so the kernel's ordinary `from_pretrained` finds them. A model counts as cached only when its
snapshot folder holds a `.complete` marker (id, commit, every file's size), written after the download
has fully succeeded and been moved into place (`cache_status`, `ensure_model`; both run inside the
sandbox as a script that needs no Seer). The Jupyter server needs a fresh random token and is reached
only through Modal's TLS tunnel. The Modal sandbox is terminated on every exit path, Ctrl-C included;
each is tagged `seer=1` so `seer sandboxes` finds any a killed process left, and each ends itself after
`sandbox.idle_timeout_s` without use.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import anyio
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import Field

from seer.environment import Environment, ModelSpec, SandboxSpec
from seer.errors import MissingExtra, SandboxError
from seer.sandbox.base import SandboxPlugin
from seer.sandbox.host import secret_values
from seer.sandbox.hosted import HostedJupyter
from seer.version import __version__

__all__ = [
    "CACHE",
    "cache_status",
    "doctor_modal",
    "ensure_model",
    "gpu_spec",
    "HF_HOME",
    "HUB_CACHE",
    "image_spec",
    "jupyter_command",
    "list_sandboxes",
    "MARKER",
    "ModalSandbox",
    "ModalSpec",
    "PORT",
    "PROVIDER",
    "prefetch_command",
    "requirements",
    "ROOT",
    "secret_values",
    "STACK",
    "stop_sandboxes",
    "TAGS",
    "VOLUME",
]

PORT = 8888
"""The Jupyter server's port inside the sandbox, reached only through an encrypted (TLS) tunnel."""
ROOT = "/root/seer"
"""The Jupyter server's root folder; runs get their folders under it."""
CACHE = "/cache"
"""Where the model-cache Volume is mounted."""
VOLUME = "seer-model-cache"
HF_HOME = f"{CACHE}/huggingface"
HUB_CACHE = f"{HF_HOME}/hub"
STACK = ("torch", "transformers", "accelerate", "safetensors", "gguf", "peft", "huggingface_hub",
         "ipykernel", "jupyter_server")  # fmt: skip
"""Installed in the image at exactly the harness's versions, so the remote kernel matches this one."""
TAGS = {"seer": "1"}
"""Every sandbox Seer starts carries these tags; `list_sandboxes` finds leftovers by them."""
MARKER = ".complete"
_LIFETIME_S = 24 * 3600  # Modal's longest sandbox lifetime; `idle_timeout_s` ends an unused one sooner
_TERMINATE_S = 30.0
_CONTACT_S = 30.0
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class ModalSpec(SandboxSpec):
    """`[sandbox] provider = "modal"`: a Modal Sandbox (GPU or CPU) running a Jupyter server."""

    gpu: str | None = None
    """The GPU type ('A10G', 'A100-80GB', 'H100'); none: CPU only."""
    gpus: int = Field(0, ge=0)
    """How many GPUs of that type (with `gpu` set, 0 means 1)."""
    memory_gib: float = Field(16.0, gt=0)
    """Memory for the sandbox."""
    region: str | None = None
    """Where to run, e.g. 'us-east'."""
    idle_timeout_s: float = Field(3600.0, gt=0)
    """The sandbox ends itself after this long without use, even if Seer is killed."""


def _modal() -> Any:
    try:
        import modal
    except ImportError:
        raise MissingExtra("modal", "the modal sandbox", "modal") from None
    return modal


# --- what Seer asks Modal for, as data -------------------------------------------------------------


def requirements(env: Environment) -> list[str]:
    """The image's pip requirements: `STACK` pinned to this harness's versions, then the environment's
    own `packages` (which win where they name a `STACK` package).

    Raises:
        SandboxError: A `STACK` package is not installed here, so there is no version to pin.
    """
    own = {canonicalize_name(Requirement(r).name) for r in env.packages}
    pinned = []
    for name in STACK:
        if canonicalize_name(name) in own:
            continue
        try:
            version = Version(metadata.version(name)).public  # `2.6.0+cpu` -> `2.6.0`, from PyPI
        except metadata.PackageNotFoundError:
            raise SandboxError(
                f"the modal sandbox installs this harness's own version of `{name}`, which is not installed here: "
                "pip install 'seer-interp[interp]'"
            ) from None
        pinned.append(f"{name}=={version}")
    return [*pinned, *env.packages]


def image_spec(env: Environment, client: Any = None) -> tuple[Any, list[str]]:
    """The sandbox's `modal.Image` (Debian slim, this harness's Python, `requirements(env)`) and those
    requirements; nothing is built until a sandbox needs it."""
    modal = client or _modal()
    pins = requirements(env)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return modal.Image.debian_slim(python_version=python).pip_install(*pins).workdir(ROOT), pins


def gpu_spec(spec: ModalSpec) -> str | None:
    """Modal's GPU string: None (CPU only), 'H100' (one), 'A10G:2' (two).

    Raises:
        SandboxError: `gpus` is set without a `gpu` type.
    """
    if spec.gpu is None:
        if spec.gpus:
            raise SandboxError(f"sandbox.gpus = {spec.gpus} needs a GPU type: set `gpu`, e.g. 'A10G' or 'H100'")
        return None
    return spec.gpu if spec.gpus <= 1 else f"{spec.gpu}:{spec.gpus}"


def jupyter_command(token: str, *, port: int = PORT, root: str = ROOT, python: str = "python") -> list[str]:
    """The Jupyter server's command line: every request needs `token`.

    Raises:
        ValueError: The token is shorter than 32 characters (an empty one would open the server to anyone).
    """
    if len(token) < 32:
        raise ValueError("the Jupyter token must be at least 32 random characters; use secrets.token_urlsafe(32)")
    return [python, "-m", "jupyter_server", "--ip=0.0.0.0", f"--port={port}", "--ServerApp.port_retries=0",
            "--no-browser", "--allow-root", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}"]  # fmt: skip


def prefetch_command(models: Sequence[ModelSpec], *, root: str = HUB_CACHE, python: str = "python") -> list[str]:
    """The command, run in the sandbox, that makes sure each Hub model is complete in the cache under
    `root`; it prints the markers as JSON and exits non-zero on the first failed download."""
    wanted = [{"id": m.id, "revision": m.revision} for m in models]
    return [python, "-c", _remote_script(), root, json.dumps(wanted)]


# --- the model cache (this section also runs inside the sandbox, where Seer is not installed) -------


def _repo_folder(root: str | Path, repo_id: str) -> Path:
    return Path(root) / ("models--" + repo_id.replace("/", "--"))


def _commit_for(repo: Path, revision: str | None) -> str | None:
    ref = repo / "refs" / (revision or "main")
    if ref.is_file():
        return ref.read_text().strip()
    return revision if revision and re.fullmatch(r"[0-9a-f]{40}", revision) else None


def _read_marker(snapshot: Path) -> dict[str, Any] | None:
    try:
        return json.loads((snapshot / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(text)
    os.replace(staging, path)


def cache_status(root: str | Path, repo_id: str, revision: str | None) -> Literal["cached", "incomplete", "missing"]:
    """Whether `repo_id` at `revision` (None: the commit `main` had when it was cached) is in the cache:
    `cached` only when its marker names this id and commit and every listed file has its listed size;
    `incomplete` for a snapshot folder without a valid marker (a download that stopped half-way)."""
    commit = _commit_for(_repo_folder(root, repo_id), revision)
    snapshot = _repo_folder(root, repo_id) / "snapshots" / (commit or "")
    if commit is None or not snapshot.is_dir():
        return "missing"
    marker = _read_marker(snapshot)
    if not marker or marker.get("id") != repo_id or marker.get("commit") != commit:
        return "incomplete"
    for name, size in marker.get("files", {}).items():
        if not (snapshot / name).is_file() or (snapshot / name).stat().st_size != size:
            return "incomplete"
    return "cached"


def _fetch_from_hub(repo_id: str, revision: str | None, dest: Path) -> str:
    """Download what `from_pretrained` needs into `dest`; returns the commit it came from."""
    from huggingface_hub import HfApi, snapshot_download

    info = HfApi().model_info(repo_id, revision=revision)
    names = [sibling.rfilename for sibling in info.siblings or []]
    skip = (".h5", ".msgpack", ".onnx", ".onnx_data", ".ot", ".tflite", ".gguf")
    if any(name.endswith(".safetensors") for name in names):
        skip += (".bin", ".pt", ".pth")  # the same weights again, in an older format
    keep = [name for name in names if not name.endswith(skip) and not name.startswith("original/")]
    snapshot_download(repo_id, revision=info.sha, local_dir=dest, allow_patterns=keep)
    return info.sha


def ensure_model(
    root: str | Path, repo_id: str, revision: str | None, fetch: Callable[[str, str | None, Path], str] = _fetch_from_hub
) -> dict[str, Any]:
    """Make `repo_id` at `revision` complete in the cache and return its marker. A download goes to a
    staging folder beside the cache, is moved into `snapshots/<commit>` whole, and only then gets its
    marker and its ref; a failed one leaves no marker and no snapshot behind."""
    repo = _repo_folder(root, repo_id)
    if cache_status(root, repo_id, revision) == "cached":
        commit = _commit_for(repo, revision)
        return _read_marker(repo / "snapshots" / str(commit)) or {}
    repo.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=repo))
    try:
        commit = fetch(repo_id, revision, staging)
        shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's own download notes
        files = {p.relative_to(staging).as_posix(): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
        marker = {"id": repo_id, "revision": revision, "commit": commit, "files": files}
        snapshot = repo / "snapshots" / commit
        if cache_status(root, repo_id, commit) != "cached":
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(snapshot, ignore_errors=True)  # a snapshot without its marker: never trusted
            os.rename(staging, snapshot)
            _write_atomic(snapshot / MARKER, json.dumps(marker))
        if (revision or "main") != commit:
            _write_atomic(repo / "refs" / (revision or "main"), commit)
        return marker
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_SHIPPED = (_repo_folder, _commit_for, _read_marker, _write_atomic, cache_status, _fetch_from_hub, ensure_model)


def _remote_script() -> str:
    """The cache functions above as a standalone script: `python -c SCRIPT ROOT MODELS_JSON`."""
    header = ("from __future__ import annotations\nimport json, os, re, shutil, sys, tempfile\n"
              "from pathlib import Path\nfrom typing import Any, Literal\n"
              "os.environ.setdefault('HF_HUB_DISABLE_PROGRESS_BARS', '1')\n"
              f"MARKER = {MARKER!r}\n")  # fmt: skip
    body = "\n\n".join(inspect.getsource(function) for function in _SHIPPED)
    main = "\nprint(json.dumps([ensure_model(sys.argv[1], m['id'], m['revision']) for m in json.loads(sys.argv[2])]))\n"
    return header + body + main


# --- the sandbox ------------------------------------------------------------------------------------


class ModalSandbox(HostedJupyter):
    """A Modal Sandbox running a Jupyter server; once started, a `JupyterSandbox` does the work.

    Args:
        env: The environment; `env.sandbox` says the GPU, CPUs, memory, region and idle timeout.
        run_id: Names the run's folder on the server and tags the sandbox.
        snapshot: An image id from `snapshot()`: start from that filesystem instead of building the image.
        app_name: The Modal app the sandbox belongs to (created if missing).
        client: The `modal` module, or a stand-in for it in tests.
    """

    def __init__(
        self,
        env: Environment,
        *,
        run_id: str | None = None,
        snapshot: str | None = None,
        app_name: str = "seer",
        client: Any = None,
    ) -> None:
        if not isinstance(env.sandbox, ModalSpec):
            raise SandboxError(f"a ModalSandbox runs an environment whose sandbox provider is 'modal', not {env.sandbox.provider!r}")
        self.env, self.spec = env, env.sandbox
        self.run_id = run_id
        self.snapshot_id = snapshot
        self.app_name = app_name
        self.requirements: list[str] = []
        """The pinned requirements the image was built with (empty when started from a snapshot)."""
        self.models: list[dict[str, Any]] = []
        """The cache markers of the Hub models, with the commit each resolved to."""
        self._modal = client or _modal()
        self._launch = secrets.token_hex(8)
        self._sandbox: Any = None

    @property
    def sandbox_id(self) -> str | None:
        """Modal's id for the running sandbox (`sb-…`), None before start and after terminate."""
        return self._sandbox.object_id if self._sandbox is not None else None

    async def start(self) -> None:
        """Create the sandbox, wait for Jupyter, fill the model cache, and connect.

        Raises:
            SandboxError: A spec is invalid (nothing is created then), or a step failed; whatever was
                created is terminated before this is raised, as it is on cancellation or Ctrl-C.
        """
        if self._sandbox is not None:
            raise SandboxError("this modal sandbox is already started; make a new ModalSandbox for another")
        from seer.sandbox.jupyter import JupyterSandbox

        modal, spec = self._modal, self.spec
        if self.snapshot_id is not None:
            image = modal.Image.from_id(self.snapshot_id)
        else:
            image, self.requirements = image_spec(self.env, modal)
        gpu, values = gpu_spec(spec), secret_values(self.env)
        token, app = secrets.token_urlsafe(32), None
        tags = {**TAGS, "launch": self._launch, "env": self.env.name, "run": self.run_id or "", "version": __version__}
        try:
            with anyio.move_on_after(_CONTACT_S):
                app = await modal.App.lookup.aio(self.app_name, create_if_missing=True)
            if app is None:
                raise SandboxError(f"Modal did not answer within {_CONTACT_S:g} s; run `seer doctor --provider modal`")
            self._sandbox = await modal.Sandbox.create.aio(
                *jupyter_command(token), app=app, image=image, gpu=gpu, cpu=spec.reserved_cpus,
                memory=int(spec.memory_gib * 1024), region=spec.region, env={"HF_HOME": HF_HOME},
                secrets=[modal.Secret.from_dict(values)] if values else [],
                volumes={CACHE: modal.Volume.from_name(VOLUME, create_if_missing=True)},
                encrypted_ports=[PORT], readiness_probe=modal.Probe.with_tcp(PORT), workdir=ROOT,
                timeout=_LIFETIME_S, idle_timeout=int(spec.idle_timeout_s), tags=tags,
            )  # fmt: skip
            await self._sandbox.wait_until_ready.aio(timeout=int(self.env.timeouts.setup_s))
            await self._prefetch()
            tunnels = await self._sandbox.tunnels.aio()
            if PORT not in tunnels:
                raise SandboxError(f"Modal opened no tunnel to port {PORT}; tunnels: {sorted(tunnels)}")
            jupyter = JupyterSandbox(tunnels[PORT].url, token, folder=self.run_id)
            await jupyter.start()
            self.jupyter = jupyter
        except BaseException as exc:
            await self._abandon(exc, app)
            if isinstance(exc, Exception) and not isinstance(exc, SandboxError):
                raise SandboxError(f"the Modal sandbox did not start: {type(exc).__name__}: {exc}") from exc
            raise

    async def _prefetch(self) -> None:
        """Make every Hub model complete in the cache Volume, then commit the Volume."""
        hub = [m for m in self.env.models if _HUB_ID.match(m.id)]
        if not hub:
            return
        code, out, err = await self._run(prefetch_command(hub), timeout_s=self.env.timeouts.setup_s)
        if code != 0:
            raise SandboxError(
                f"could not download {', '.join(m.id for m in hub)} into the model cache:\n{err.strip()[-2000:]}\n"
                "Check each model's id and revision (a gated model needs `HF_TOKEN` in `secrets.allow`); a large "
                f"model may need a longer `timeouts.setup_s` (now {self.env.timeouts.setup_s:g} s)."
            )
        self.models = json.loads(out.strip().splitlines()[-1])
        await self._run(["sync", CACHE], timeout_s=300)  # commits the Volume now (background commits would, later)

    async def _run(self, argv: list[str], *, timeout_s: float) -> tuple[int, str, str]:
        process = await self._sandbox.exec.aio(*argv, timeout=int(timeout_s))
        out = await process.stdout.read.aio()
        err = await process.stderr.read.aio()
        return await process.wait.aio(), out, err

    async def _abandon(self, exc: BaseException, app: Any) -> None:
        """After a failed or interrupted start: terminate what was created, even one whose `create`
        call was interrupted (found by this launch's tag); a failure to do so is noted on `exc`."""
        try:
            if self._sandbox is None and app is not None:
                with anyio.move_on_after(_TERMINATE_S, shield=True):
                    await _stop(self._modal, app.app_id, {**TAGS, "launch": self._launch})
            await self.terminate()
        except Exception as problem:  # noqa: BLE001 - the start's own error is the one to raise
            exc.add_note(str(problem))

    async def snapshot(self) -> str:
        """Snapshot the sandbox's filesystem (not the model cache); returns the image id that
        `ModalSandbox(env, snapshot=...)` starts from."""
        if self._sandbox is None:
            raise SandboxError("the modal sandbox is not started; call `await sandbox.start()` first")
        image = await self._sandbox.snapshot_filesystem.aio()
        return image.object_id

    async def terminate(self) -> None:
        """Shut the kernels, then terminate the Modal sandbox; safe to call twice, shielded from
        cancellation and bounded in time.

        Raises:
            SandboxError: Modal did not confirm the termination; the error names the fix.
        """
        jupyter, self.jupyter = self.jupyter, None
        sandbox, self._sandbox = self._sandbox, None
        with anyio.CancelScope(shield=True):
            if jupyter is not None:
                with anyio.move_on_after(_TERMINATE_S):
                    try:
                        await jupyter.terminate()
                    except Exception:  # noqa: BLE001 - the sandbox goes next, kernels and all
                        pass
            if sandbox is None:
                return
            problem = f"it did not answer within {_TERMINATE_S:g} s"
            with anyio.move_on_after(_TERMINATE_S):
                try:
                    await sandbox.terminate.aio()
                    return
                except Exception as exc:  # noqa: BLE001 - reported below with the fix
                    problem = f"{type(exc).__name__}: {exc}"
        raise SandboxError(
            f"could not terminate the Modal sandbox {sandbox.object_id} ({problem}); stop it with `seer sandboxes --stop` "
            f"(it also ends itself after {self.spec.idle_timeout_s:g} s idle)"
        )

    async def __aenter__(self) -> ModalSandbox:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.terminate()


# --- leftovers and checks ---------------------------------------------------------------------------


async def _stop(modal: Any, app_id: str, tags: dict[str, str]) -> int:
    stopped = 0
    async for sandbox in modal.Sandbox.list.aio(app_id=app_id, tags=tags):
        await sandbox.terminate.aio()
        stopped += 1
    return stopped


async def list_sandboxes(app_name: str = "seer", *, client: Any = None) -> list[dict[str, Any]]:
    """The running sandboxes Seer started in `app_name`: `{"id": "sb-…", "tags": {...}}` each (tags
    include `env`, `run` and `version`)."""
    modal = client or _modal()
    try:
        app = await modal.App.lookup.aio(app_name)
    except modal.exception.NotFoundError:
        return []
    found = []
    async for sandbox in modal.Sandbox.list.aio(app_id=app.app_id, tags=TAGS):
        found.append({"id": sandbox.object_id, "tags": await sandbox.get_tags.aio()})
    return found


async def stop_sandboxes(app_name: str = "seer", *, client: Any = None) -> int:
    """Terminate every running sandbox Seer started in `app_name`; returns how many."""
    modal = client or _modal()
    try:
        app = await modal.App.lookup.aio(app_name)
    except modal.exception.NotFoundError:
        return 0
    return await _stop(modal, app.app_id, TAGS)


def _has_token() -> bool:
    if os.environ.get("MODAL_TOKEN_ID") and os.environ.get("MODAL_TOKEN_SECRET"):
        return True
    path = Path(os.environ.get("MODAL_CONFIG_PATH") or Path.home() / ".modal.toml")
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return any(isinstance(p, dict) and p.get("token_id") and p.get("token_secret") for p in profiles.values())


async def doctor_modal(app_name: str = "seer", *, client: Any = None, timeout_s: float = 5.0) -> list[str]:
    """What stops the modal sandbox from working here, one line each with its fix; empty when nothing.
    Never waits on the network for more than `timeout_s`."""
    if client is None and importlib.util.find_spec("modal") is None:
        return ["the `modal` package is not installed: pip install 'seer-interp[modal]'"]
    if not _has_token():
        return ["no Modal token (MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or ~/.modal.toml): run `modal token new`"]
    modal = client or _modal()
    try:
        with anyio.fail_after(timeout_s):
            await modal.App.lookup.aio(app_name)
    except modal.exception.NotFoundError:
        pass  # Modal answered and knows the token; the app is created at first use
    except TimeoutError:
        return [f"Modal did not answer within {timeout_s:g} s: check the network connection (and any HTTPS proxy)"]
    except modal.exception.AuthError as exc:
        return [f"Modal refused the token ({exc}): run `modal token new`"]
    except Exception as exc:  # noqa: BLE001 - any other failure is reported with its text
        return [f"could not reach Modal ({type(exc).__name__}: {exc}): check the network, or run `modal token new`"]
    return []


def _make(env: Environment, run_path: Path, run_id: str) -> ModalSandbox:
    return ModalSandbox(env, run_id=run_id)


async def _check(spec: ModalSpec) -> list[str]:
    return await doctor_modal()


PROVIDER = SandboxPlugin(make=_make, spec=ModalSpec, check=_check)
