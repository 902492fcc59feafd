"""Helpers shared by the tests: notebooks read back as nbformat sees them, `seer mcp` over stdio."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import nbformat
from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult


def read_valid_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook from disk and fail the test unless it passes `nbformat.validate`."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


def cell_text(cell: nbformat.NotebookNode) -> str:
    """All stream text and plain-text results of a code cell, joined."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


@asynccontextmanager
async def stdio_seer(runs_dir: Path, *args: str, hub: bool = False, **client: Any) -> AsyncIterator[Client]:
    """`seer mcp` as a real subprocess, driven by the MCP SDK's own stdio client: one session on the default
    environment unless `args` name one (`--env`, `--task`), or the hub (no session until the client starts one). `client` are options of the SDK's `Client`."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "HF_HUB_OFFLINE") or k.startswith("SEER_TEST_")}
    if not hub and "--env" not in args and "--task" not in args:
        default = Path(tempfile.mkdtemp(prefix="seer-env-")) / "env.toml"
        default.write_text('name = "session"\n')
        args = ("--env", str(default), *args)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "seer", "mcp", "--runs-dir", str(runs_dir), *args], env=env
    )
    async with Client(params, **client) as connected:
        yield connected


@asynccontextmanager
async def http_seer_process(runs_dir: Path, *args: str) -> AsyncIterator[tuple[str, str]]:
    """`seer mcp --transport http --port 0` as a subprocess; yields its URL and bearer token. On exit it is
    sent SIGTERM, on which it must stop cleanly (exit 0) within 60 s."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "mcp", "--transport", "http", "--port", "0", "--runs-dir", str(runs_dir), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with anyio.fail_after(60):
            assert process.stdout is not None
            entry = json.loads(await process.stdout.readline())["mcpServers"]["seer"]
        yield entry["url"], entry["headers"]["Authorization"].removeprefix("Bearer ")
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(60):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def only_run(runs_dir: Path) -> Path:
    """The single run directory under `runs_dir`."""
    (run,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return run


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def images_of(result: CallToolResult) -> list[bytes]:
    return [base64.b64decode(block.data) for block in result.content if block.type == "image"]
