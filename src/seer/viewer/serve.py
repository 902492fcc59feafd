"""Run the viewer: bind, print the URL, serve until a signal arrives (`seer view`, `seer run --view`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import anyio

from seer.viewer.app import create_app
from seer.web import bind, serve_asgi

__all__ = ["LOOPBACK", "serve_viewer", "viewer_url"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def viewer_url(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


async def serve_viewer(
    runs_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    say: Callable[[str], None] = print,
    ready: anyio.Event | None = None,
) -> None:
    """Serve the viewer over `runs_dir` until cancelled; a host beyond loopback gets a token in the URL."""
    token = None if host in LOOPBACK else secrets.token_urlsafe(16)
    sock = bind(host, port)
    say(f"Seer viewer: {viewer_url(host, sock.getsockname()[1], token)}")
    app = create_app(runs_dir, token=token)
    await serve_asgi(app, sock=sock, ready=ready, stopping=app.state.stopping.set)
