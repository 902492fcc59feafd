"""What a sandbox may take from the host: the environment variables `secrets.allow` names, and no others."""

from __future__ import annotations

import os

from seer.environment import Environment
from seer.errors import SandboxError

__all__ = ["secret_values"]


def secret_values(env: Environment) -> dict[str, str]:
    """The host variables `secrets.allow` names, and no others.

    Raises:
        SandboxError: An allowed variable is not set on the host.
    """
    missing = [name for name in env.secrets.allow if name not in os.environ]
    if missing:
        raise SandboxError(
            f"secrets.allow names {', '.join(map(repr, missing))}, which the host does not set; "
            "export them or remove them from the environment"
        )
    return {name: os.environ[name] for name in env.secrets.allow}
