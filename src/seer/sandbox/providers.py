"""The sandbox an environment asks for: `sandbox.provider` of `local`, `jupyter`, `modal`, `ray`, or an
installed plugin's name (`seer.plugins`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from seer.environment import Environment
from seer.errors import MissingExtra, SpecError
from seer.plugins import SANDBOX_PROVIDERS
from seer.sandbox.base import Sandbox, SandboxPlugin
from seer.sandbox.local import LocalSandbox

__all__ = ["PROVIDERS", "make_sandbox"]

PROVIDERS = SANDBOX_PROVIDERS.builtin


def _local(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    return LocalSandbox(run_path / "workspace", log_path=run_path / "kernel.log", private=run_path / "private")


def _jupyter(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    from seer.sandbox.jupyter import JupyterSandbox

    spec = env.sandbox
    token = os.environ.get(spec.token_env, "")
    if not token:
        raise SpecError(f"sandbox: the Jupyter server's token is read from ${spec.token_env}, which is not set; export it (or set `token_env`)")
    assert spec.url is not None
    return JupyterSandbox(spec.url, token, folder=f"seer/{run_id}")


def _ray(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    _need("ray", "the ray sandbox")
    from seer.sandbox.ray import RaySandbox

    return RaySandbox(env.sandbox, name=run_id)


def _modal(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    _need("modal", "the modal sandbox")
    from seer.sandbox.modal import ModalSandbox

    return ModalSandbox(env, run_id=run_id)


_BUILTIN: dict[str, Callable[[Environment, Path, str], Sandbox]] = {"local": _local, "jupyter": _jupyter, "ray": _ray, "modal": _modal}


def make_sandbox(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    """A new, unstarted sandbox for one run.

    Raises:
        SpecError: A setting the provider needs is missing (the jupyter token's variable), or a plugin
            provider is not installed or fails to load.
        MissingExtra: The provider's package is not installed.
    """
    name = env.sandbox.provider
    if name in _BUILTIN:
        return _BUILTIN[name](env, run_path, run_id)
    plugin = SANDBOX_PROVIDERS.load(name)
    if not isinstance(plugin, SandboxPlugin):
        raise SpecError(f"the sandbox provider {name!r} registers a {type(plugin).__name__}, not a seer.sandbox.base.SandboxPlugin")
    return plugin.make(env, run_path, run_id)


def _need(module: str, feature: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise MissingExtra(module, feature, module) from None
