"""The sandbox an environment asks for: `sandbox.provider` of `local`, `jupyter`, `modal` or `ray`."""

from __future__ import annotations

import os
from pathlib import Path

from seer.environment import Environment
from seer.errors import MissingExtra, SpecError
from seer.sandbox.base import Sandbox
from seer.sandbox.local import LocalSandbox

__all__ = ["PROVIDERS", "make_sandbox"]

PROVIDERS = ("local", "jupyter", "modal", "ray")


def make_sandbox(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    """A new, unstarted sandbox for one run.

    Raises:
        SpecError: A setting the provider needs is missing (the jupyter token's variable).
        MissingExtra: The provider's package is not installed.
    """
    spec = env.sandbox
    if spec.provider == "local":
        return LocalSandbox(run_path / "workspace", log_path=run_path / "kernel.log", private=run_path / "private")
    if spec.provider == "jupyter":
        from seer.sandbox.jupyter import JupyterSandbox

        token = os.environ.get(spec.token_env, "")
        if not token:
            raise SpecError(f"sandbox: the Jupyter server's token is read from ${spec.token_env}, which is not set; export it (or set `token_env`)")
        assert spec.url is not None
        return JupyterSandbox(spec.url, token, folder=f"seer/{run_id}")
    if spec.provider == "ray":
        _need("ray", "the ray sandbox")
        from seer.sandbox.ray import RaySandbox

        return RaySandbox(spec, name=run_id)
    _need("modal", "the modal sandbox")
    from seer.sandbox.modal import ModalSandbox

    return ModalSandbox(env, run_id=run_id)


def _need(module: str, feature: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise MissingExtra(module, feature, module) from None
