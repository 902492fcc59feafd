"""Serving ASGI apps (the MCP endpoint, the viewer) with uvicorn on a socket bound beforehand, so the
caller knows the port before the first request and owns the signals."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from typing import Any

import anyio

__all__ = ["bind", "serve_asgi", "stop_on_signal"]


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it from `getsockname()`)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_asgi(
    app: Any, *, sock: socket.socket, ready: anyio.Event | None = None, stopping: Callable[[], None] | None = None
) -> None:
    """Serve `app` on an already bound socket (closed on exit) until cancelled; `ready` is set once it
    serves, and `stopping` is called first when it stops (to end long-lived responses such as streams)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    web = uvicorn.Server(config)
    web.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the caller owns signals

    async def run() -> None:
        with anyio.CancelScope(shield=True):  # stopped by should_exit, so uvicorn shuts down cleanly
            await web.serve([sock])

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run)
            while not web.started:
                await anyio.sleep(0.01)
            if ready is not None:
                ready.set()
            try:
                await anyio.sleep_forever()
            finally:
                if stopping is not None:
                    stopping()
                web.should_exit = True
    finally:
        sock.close()


async def stop_on_signal(scope: anyio.CancelScope) -> None:
    """Cancel `scope` at the first SIGTERM or SIGINT."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            scope.cancel()
            return
