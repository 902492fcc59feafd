"""`seer scope serve`: one scope server, its models loaded once, for many sessions and agents.

Sessions join it with `[scope] server = URL` and `token_file = PATH` in their environment. The token
file holds the server's own token, for harnesses only: each session's harness opens a session with it
(named by the run id) and hands its agent or kernel that session's token alone, so an interface keeps
per-session state with `session_state()` that no other session can name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio

from seer.environment import Environment
from seer.errors import SpecError
from seer.placement import load_arguments, place_adapters
from seer.sandbox.local import LocalSandbox
from seer.scope.client import ScopeServer
from seer.web import stop_on_signal

__all__ = ["serve_shared"]


async def serve_shared(env: Environment, folder: Path, *, port: int, say: Callable[[str], None]) -> None:
    """Start the environment's scope server in `folder` and keep it up until a signal arrives.

    Raises:
        SpecError: The environment has no `[scope] interface`.
        SandboxError: The server did not start (its log is in the message).
    """
    if env.scope is None or env.scope.interface is None:
        raise SpecError("seer scope serve needs an environment with `[scope] interface = \"...\"` and its models")
    folder = folder.resolve()
    sandbox = LocalSandbox(folder / "workspace", private=folder)
    await sandbox.start()
    root = f"{folder}/scope"
    try:
        await place_adapters(env.models, sandbox, root)
        models = [load_arguments(spec, root) for spec in env.models]
        server = await ScopeServer.start(sandbox, env.scope.interface, models=models, port=port, start_timeout_s=env.timeouts.setup_s,
                                        call_timeout_s=env.scope.call_timeout_s)  # fmt: skip
        say(f"scope server: {server.url}\ntoken file:   {root}/token (harnesses only: sessions get their own)\nlog:          {server.log}")
        say(f'join it from an environment:\n[scope]\nserver = "{server.url}"\ntoken_file = "{root}/token"')
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stop_on_signal, tasks.cancel_scope)
    finally:
        with anyio.CancelScope(shield=True):
            await sandbox.terminate()
