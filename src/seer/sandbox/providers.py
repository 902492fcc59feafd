"""The sandbox an environment asks for: `sandbox.provider` of `local`, `jupyter`, `modal`, `ray`, or an
installed plugin's name. Each is one module registering a `SandboxPlugin` (`seer.plugins`)."""

from __future__ import annotations

from pathlib import Path

from seer.environment import Environment
from seer.errors import SpecError
from seer.plugins import SANDBOX_PROVIDERS
from seer.sandbox.base import Sandbox, SandboxPlugin

__all__ = ["PROVIDERS", "make_sandbox", "sandbox_plugin"]

PROVIDERS = SANDBOX_PROVIDERS.builtin


def sandbox_plugin(name: str) -> SandboxPlugin:
    """What provider `name` registers.

    Raises:
        SpecError: No such provider, it fails to load, or it registers something else.
    """
    plugin = SANDBOX_PROVIDERS.load(name)
    if not isinstance(plugin, SandboxPlugin):
        raise SpecError(f"the sandbox provider {name!r} registers a {type(plugin).__name__}, not a seer.sandbox.base.SandboxPlugin")
    return plugin


def make_sandbox(env: Environment, run_path: Path, run_id: str) -> Sandbox:
    """A new, unstarted sandbox for one run.

    Raises:
        SpecError: A setting the provider needs is missing (the jupyter token's variable), or a plugin
            provider is not installed or fails to load.
        MissingExtra: The provider's package is not installed.
    """
    return sandbox_plugin(env.sandbox.provider).make(env, run_path, run_id)
