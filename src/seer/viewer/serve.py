"""Run the viewer: bind, print the URL, serve until a signal arrives (`seer view`, `seer run --view`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import anyio

from seer.viewer.app import create_app
from seer.viewer.guard import allowed_hosts
from seer.web import bind, serve_asgi

__all__ = ["LOOPBACK", "serve_viewer", "viewer_url"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def viewer_url(host: str, port: int, token: str) -> str:
    """The URL to open: it carries the server's secret once (the page moves it into a cookie)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


async def serve_viewer(
    runs_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    say: Callable[[str], None] = print,
    ready: anyio.Event | None = None,
    allow_hosts: tuple[str, ...] = (),
    allow_paths: tuple[Path, ...] = (),
    benches_dir: Path | None = None,
) -> None:
    """Serve the viewer over `runs_dir` until cancelled, guarded by a fresh secret (see `seer.viewer.guard`).

    Args:
        allow_hosts: More names the server answers to (a reverse proxy's), beside the bound address.
        allow_paths: Folders launches may name files in (default: the runs folder's parent).
        benches_dir: The folder of bench folders (default: `benches` beside the runs folder).
    """
    token = secrets.token_urlsafe(24)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    say(f"Seer viewer: {viewer_url(host, bound, token)}")
    app = create_app(runs_dir, token=token, hosts=allowed_hosts(host, bound, allow_hosts), port=bound, roots=allow_paths or None,
                     benches_dir=benches_dir)
    await serve_asgi(app, sock=sock, ready=ready, stopping=app.state.stopping.set)
