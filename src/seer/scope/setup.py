"""What a scoped session adds at start: the kernel's isolation, the scope server (started or shared),
and the `scope` client module in the kernel's libraries."""

from __future__ import annotations

from typing import Any

from seer.environment import Environment, ScopeSpec
from seer.errors import SandboxError, ToolError
from seer.sandbox.base import Sandbox
from seer.sandbox.isolation import GUARANTEE, decide
from seer.scope.client import ScopeServer
from seer.scope.library import MODULE, client_source
from seer.version import check_version

__all__ = ["WEAK", "install_client", "kernel_isolation", "start_scope"]

WEAK = (
    "none: the notebook kernel runs as your user with no OS isolation, so code in it could read the scope "
    "server's files, environment, model cache and memory; the scope holds against an agent that plays "
    "by the rules, not against one that tries to escape"
)
"""The guarantee recorded when the kernel cannot be isolated."""


async def kernel_isolation(scope: ScopeSpec, sandbox: Sandbox) -> tuple[bool, dict[str, str]]:
    """Whether to confine the kernel, and what the run record says about it.

    Raises:
        SandboxError: `isolation = "required"` and the sandbox cannot isolate a kernel.
    """
    if scope.mode == "tools":
        return False, {"kernel": "none", "guarantee": "scoped-only session: the agent has no code execution"}
    return await decide(scope.isolation, "scope.isolation", sandbox.isolation_problem, GUARANTEE, WEAK)


async def start_scope(
    env: Environment, sandbox: Sandbox, session: str, models: list[dict[str, Any]], server_env: dict[str, str]
) -> ScopeServer:
    """Start this session's scope server with `models` and `server_env` added to its environment, or
    connect to the shared one; check its version; return a client holding a token of `session`'s own
    (the server's token stays with the harness: this function drops it).

    Raises:
        SandboxError: The server did not start, or the shared one does not answer.
    """
    assert env.scope is not None
    spec = env.scope
    if spec.interface is not None:
        owner = await ScopeServer.start(sandbox, spec.interface, models=models, start_timeout_s=env.timeouts.setup_s,
                                        call_timeout_s=spec.call_timeout_s, env=server_env)  # fmt: skip
    else:
        assert spec.server is not None and spec.token_file is not None
        owner = ScopeServer.connect(spec.server, spec.token_file)
    try:
        check_version(f"the scope server at {owner.url}", (await owner.state()).get("version", "unknown"))
        server = await owner.for_session(session)
    except BaseException as exc:
        await owner.close()
        if isinstance(exc, ToolError):
            raise SandboxError(f"scope.server: {exc}; start it with `seer scope serve` or fix the URL") from None
        raise
    server.service, owner.service = owner.service, None  # the session stops the server it started
    await owner.close()
    return server


async def install_client(sandbox: Sandbox, server: ScopeServer, libs: str) -> dict[str, str]:
    """Write the `scope` module into the kernel's libraries; returns the variables the kernel needs (the
    URL and the session's token, never the server's own).

    Raises:
        ValueError: `server` holds the server's own token rather than a session's.
    """
    if server.session is None:
        raise ValueError("the kernel gets a session's token: pass the client `ScopeServer.for_session` returned")
    await sandbox.write_file(f"{libs}/{MODULE}.py", client_source(await server.manifest()).encode())
    return {"SEER_SCOPE_URL": server.url, "SEER_SCOPE_TOKEN": server.token}
