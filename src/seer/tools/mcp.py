"""Serve any `Toolset` over MCP (the official SDK's low-level server), on stdio or streamable HTTP.

The tools are a `Toolset`'s own: same names, schemas, descriptions and handlers as our agent loop
uses. Calls are handled concurrently, so `interrupt_kernel` and `read_notebook` answer while a cell
runs. A call's progress reaches the client as progress notifications (when it asked for them) and log
messages; a question (`checkpoint`) as an elicitation where the client supports one. HTTP binds
127.0.0.1 by default, refuses any request without the bearer token, and keeps its streams resumable.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import json
import socket
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import JSONRPCMessage
from mcp_types.jsonrpc import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Receive, Scope, Send

from seer.errors import SeerError
from seer.tools.base import InputRequired, ToolContext, ToolResult, Toolset
from seer.version import __version__
from seer.web import bind, serve_asgi

__all__ = ["BearerAuth", "Caller", "McpApp", "MemoryEventStore", "ToolsApp", "bind", "build_server", "serve_http", "serve_stdio"]

ContextFactory = Callable[[], Awaitable[ToolContext]]

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
"""MCP's log levels, least severe first."""

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "title": "Answer", "description": "Your answer to the agent's question"}},
    "required": ["answer"],
}
ANSWER_KEY = "answer"
"""The key of a question in an `InputRequiredResult`, and of its reply."""
DECLINED = "The researcher declined to answer; continue with your best judgement and say so in the report."


@dataclass
class Caller:
    """Who makes a request, and how to reach them while it runs."""

    client: str
    """The connection: its `Mcp-Session-Id` over HTTP, `stdio` on stdio."""
    progress: Callable[[str], Awaitable[None]]
    """Sends a progress notification, when the client asked for them (a running cell's)."""
    note: Callable[[str], Awaitable[None]]
    """Sends a progress notification and an `info` log message (a session's set-up steps)."""
    ask: Callable[[str], Awaitable[str]] | None = None
    """Puts a question to the person behind the client (MCP elicitation); None when the client cannot."""


class McpApp:
    """What an MCP server serves. This base serves tools only; `seer.hub.Hub` adds resources, prompts and
    completions by overriding the methods that return None here (None: the capability is not offered)."""

    instructions: str | None = None

    def tools(self, caller: Caller) -> Toolset:
        raise NotImplementedError

    async def call(self, name: str, arguments: dict[str, Any] | None, caller: Caller) -> ToolResult:
        raise NotImplementedError

    def resources(self, caller: Caller) -> list[types.Resource] | None:
        return None

    def resource_templates(self) -> list[types.ResourceTemplate]:
        return []

    async def read_resource(self, uri: str, caller: Caller) -> list[types.TextResourceContents | types.BlobResourceContents]:
        raise MCPError(INVALID_PARAMS, f"there is no resource {uri}")

    def prompts(self) -> list[types.Prompt] | None:
        return None

    def get_prompt(self, name: str, arguments: dict[str, str]) -> types.GetPromptResult:
        raise MCPError(INVALID_PARAMS, f"there is no prompt {name!r}")

    def complete(self, ref: types.PromptReference | types.ResourceTemplateReference, argument: str, value: str) -> list[str]:
        return []


class ToolsApp(McpApp):
    """A fixed toolset whose calls get their context from `context` (Seer's bridge to Claude Code, `seer doctor`)."""

    def __init__(self, toolset: Toolset, context: ContextFactory, *, instructions: str | None = None) -> None:
        self.toolset, self.context, self.instructions = toolset, context, instructions

    def tools(self, caller: Caller) -> Toolset:
        return self.toolset

    async def call(self, name: str, arguments: dict[str, Any] | None, caller: Caller) -> ToolResult:
        try:
            ctx = await self.context()
        except SeerError as exc:
            return ToolResult(f"Seer: {exc}", is_error=True)
        return await self.toolset.call(name, arguments, replace(ctx, ask=ctx.ask or caller.ask, progress=ctx.progress or caller.progress))


def _content(result: ToolResult) -> list[types.TextContent | types.ImageContent]:
    blocks: list[types.TextContent | types.ImageContent] = [types.TextContent(type="text", text=result.text)]
    for png in result.images:
        blocks.append(types.ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"))
    return blocks


def _caller(ctx: ServerRequestContext[Any, Any], levels: dict[str, str], replies: types.InputResponses | None = None) -> Caller:
    """The caller of one request: progress goes on the request's own stream; questions by elicitation, sent
    as a request of their own (protocols before 2026-07-28) or in the call's answer (`InputRequired`), the
    client's reply then arriving in `replies` when it calls again."""
    request = ctx.request
    client = (request.headers.get("mcp-session-id") if request is not None and hasattr(request, "headers") else None) or "stdio"
    steps = itertools.count(1)
    session = ctx.session

    async def progress(message: str) -> None:
        await session.report_progress(next(steps), None, message)

    async def note(message: str) -> None:
        await progress(message)
        if LEVELS.index("info") >= LEVELS.index(levels.get(client, "info")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await session.send_log_message("info", message, logger="seer", related_request_id=ctx.request_id)

    async def ask(question: str) -> str:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            reply = (replies or {}).get(ANSWER_KEY)
            if not isinstance(reply, types.ElicitResult):
                raise InputRequired(question)
        else:
            reply = await session.elicit_form(question, ANSWER_SCHEMA, related_request_id=ctx.request_id)
        answer = (reply.content or {}).get("answer") if reply.action == "accept" else None
        return str(answer) if answer not in (None, "") else DECLINED

    capabilities = session.client_capabilities
    can_ask = capabilities is not None and capabilities.elicitation is not None
    return Caller(client, progress, note, ask if can_ask else None)


def build_server(app: McpApp, *, name: str = "seer") -> Server:
    """An MCP server for `app`: its tools, and its resources, prompts and completions where it has them;
    `logging/setLevel` sets the least severe level of the log messages a client is sent (default info)."""
    levels: dict[str, str] = {}

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        toolset = app.tools(_caller(ctx, levels))
        return types.ListToolsResult(tools=[types.Tool(name=t.name, description=t.description, input_schema=t.input_schema) for t in toolset])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult | types.InputRequiredResult:
        caller = _caller(ctx, levels, params.input_responses)
        known = app.tools(caller).names()
        if params.name not in known:  # a protocol error, as the spec asks for an unknown tool
            raise MCPError(INVALID_PARAMS, f"unknown tool {params.name!r}; the tools are: {', '.join(known)}")
        try:
            result = await app.call(params.name, params.arguments, caller)
        except InputRequired as need:
            form = types.ElicitRequestFormParams(message=need.question, requested_schema=ANSWER_SCHEMA)
            return types.InputRequiredResult(input_requests={ANSWER_KEY: types.ElicitRequest(params=form)})
        return types.CallToolResult(content=_content(result), is_error=result.is_error)

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        levels[_caller(ctx, levels).client] = params.level
        return types.EmptyResult()

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=app.resources(_caller(ctx, levels)) or [])

    async def list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=app.resource_templates())

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return types.ReadResourceResult(contents=await app.read_resource(str(params.uri), _caller(ctx, levels)))

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=app.prompts() or [])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return app.get_prompt(params.name, params.arguments or {})

    async def complete(ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        values = app.complete(params.ref, params.argument.name, params.argument.value)
        return types.CompleteResult(completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100))

    has_resources, has_prompts = app.resources(Caller("", _no_progress, _no_progress)) is not None, app.prompts() is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)  # the logging capability, deprecated in the newest spec, is what clients of today speak
        return Server(
            name, version=__version__, instructions=app.instructions, on_list_tools=list_tools, on_call_tool=call_tool,
            on_set_logging_level=set_level,
            on_list_resources=list_resources if has_resources else None,
            on_list_resource_templates=list_templates if has_resources else None,
            on_read_resource=read_resource if has_resources else None,
            on_list_prompts=list_prompts if has_prompts else None,
            on_get_prompt=get_prompt if has_prompts else None,
            on_completion=complete if has_prompts or has_resources else None,
        )  # fmt: skip


async def _no_progress(message: str) -> None:
    """A caller's progress when nobody listens."""


class MemoryEventStore(EventStore):
    """The last `keep` events of every stream, so a client whose SSE stream drops resumes it with
    `Last-Event-ID` (a long cell's result is not lost with the connection)."""

    def __init__(self, keep: int = 10_000) -> None:
        self._events: OrderedDict[str, tuple[str, JSONRPCMessage | None]] = OrderedDict()
        self._keep = keep
        self._ids = itertools.count(1)

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        event_id = f"{next(self._ids)}"
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self._keep:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        if last_event_id not in self._events:
            return None
        stream_id = self._events[last_event_id][0]
        after = False
        for event_id, (stream, message) in list(self._events.items()):
            if after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        return stream_id


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


RETRY_MS = 2000
"""What a client whose SSE stream dropped is told to wait before it reconnects."""


async def serve_http(
    server: Server, *, token: str, sock: socket.socket, ready: anyio.Event | None = None, path: str = "/mcp"
) -> None:
    """Serve streamable HTTP at `path` on an already bound socket (closed on exit), until cancelled. Streams
    are resumable: every event has an id, the first one a `retry` hint, and `Last-Event-ID` replays what a
    client missed."""
    host = sock.getsockname()[0]
    app = server.streamable_http_app(streamable_http_path=path, host=host, event_store=MemoryEventStore(), retry_interval=RETRY_MS)
    await serve_asgi(BearerAuth(app, token), sock=sock, ready=ready)
