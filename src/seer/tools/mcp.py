"""Serve any `Toolset` over MCP (the official SDK's low-level server), on stdio or streamable HTTP.

The tools are the toolset's own: same names, schemas, descriptions and handlers as our agent loop
uses. Calls are handled concurrently, so `interrupt_kernel` and `read_notebook` answer while a cell
runs. HTTP binds 127.0.0.1 by default and refuses any request without the bearer token.
"""

from __future__ import annotations

import base64
import hmac
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from starlette.types import ASGIApp, Receive, Scope, Send

from seer.errors import SeerError
from seer.tools.base import ToolContext, ToolResult, Toolset
from seer.web import bind, serve_asgi

__all__ = ["BearerAuth", "bind", "build_server", "serve_http", "serve_stdio"]

ContextFactory = Callable[[], Awaitable[ToolContext]]


def _content(result: ToolResult) -> list[types.TextContent | types.ImageContent]:
    blocks: list[types.TextContent | types.ImageContent] = [types.TextContent(type="text", text=result.text)]
    for png in result.images:
        blocks.append(types.ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"))
    return blocks


def build_server(toolset: Toolset, context: ContextFactory, *, name: str = "seer", instructions: str | None = None) -> Server:
    """An MCP server whose tools are `toolset`; `context` gives each call its `ToolContext`."""
    tools = [
        types.Tool(name=t.name, description=t.description, input_schema=t.input_schema) for t in toolset
    ]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            ctx = await context()
        except SeerError as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=f"Seer: {exc}")], is_error=True)
        result = await toolset.call(params.name, params.arguments, ctx)
        return types.CallToolResult(content=_content(result), is_error=result.is_error)

    return Server(name, instructions=instructions, on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(server: Server) -> None:
    """Serve on this process's stdin and stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


class BearerAuth:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                body = json.dumps(
                    {"error": "unauthorized: send the header `Authorization: Bearer <token>` printed when seer started"}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def serve_http(
    server: Server, *, token: str, sock: socket.socket, ready: anyio.Event | None = None, path: str = "/mcp"
) -> None:
    """Serve streamable HTTP at `path` on an already bound socket (closed on exit), until cancelled."""
    host = sock.getsockname()[0]
    await serve_asgi(BearerAuth(server.streamable_http_app(streamable_http_path=path, host=host), token), sock=sock, ready=ready)
