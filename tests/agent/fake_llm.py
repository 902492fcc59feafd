"""A fake LLM server speaking the real Anthropic Messages and OpenAI Chat Completions wire formats.

The real SDK clients run against it unchanged::

    async with FakeLLM(lambda api, body: Reply(text="hi")) as llm:
        anthropic.AsyncAnthropic(base_url=llm.url, api_key="test", max_retries=0)
        openai.AsyncOpenAI(base_url=llm.url + "/v1", api_key="test", max_retries=0)

A *brain* decides each reply from the raw request body; ``failures`` injects HTTP errors
ahead of the real replies so retry and error handling can be tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Reply:
    """One model reply, API-neutral.

    Token counts follow Anthropic's split: ``input_tokens`` are the uncached input tokens and
    the cache counts come on top. On the OpenAI wire ``prompt_tokens`` is therefore the sum of
    all three, and ``cached_tokens`` is ``cache_read_tokens`` (OpenAI reports no cache writes).
    """

    text: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """``(call_id, tool_name, arguments)`` for each tool call, in order."""
    input_tokens: int = 100
    output_tokens: int = 20
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


Brain = Callable[[str, dict[str, Any]], Reply | int]
"""Decides a reply from ``(api, raw JSON request body)``, where api is "anthropic" or "openai"; an int is
an HTTP status to fail that request with."""

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class _Server(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FakeLLM:
    """A local HTTP server answering ``POST /v1/messages`` and ``POST /v1/chat/completions``.

    Use it as an async context manager; it runs as a task in the current event loop.
    """

    def __init__(self, brain: Brain, *, failures: list[int] | None = None) -> None:
        """``failures``: HTTP statuses answered, in order, before any real reply (e.g. ``[429, 529]``)."""
        self._brain = brain
        self._failures = list(failures or [])
        self.requests: list[tuple[str, dict[str, Any]]] = []
        """Every request body received as ``(api, body)``, failed ones included."""
        self.url = ""
        """``http://127.0.0.1:<port>`` once started."""
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeLLM:
        """Start serving on a free port of 127.0.0.1; return once connections are accepted."""
        app = Starlette(
            routes=[
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
        self._server = _Server(config)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        with anyio.fail_after(10):
            while not self._server.started:
                if self._task.done():
                    self._sock.close()
                    self._task.result()  # raises why it stopped
                await asyncio.sleep(0.01)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server, wait for it to finish, and close its socket."""
        assert self._server is not None and self._task is not None and self._sock is not None
        self._server.should_exit = True
        with anyio.fail_after(10):
            await self._task
        self._sock.close()

    async def _receive(self, api: str, request: Request) -> tuple[dict[str, Any], Reply | int]:
        """Record the request body; return it and the reply, or the failure status to answer."""
        body: dict[str, Any] = await request.json()
        self.requests.append((api, body))
        return body, (self._failures.pop(0) if self._failures else self._brain(api, body))

    async def _anthropic(self, request: Request) -> Response:
        body, reply = await self._receive("anthropic", request)
        if isinstance(reply, int):
            failure = reply
            kind = _ANTHROPIC_ERROR_TYPES.get(failure, "api_error")
            error = {"type": "error", "error": {"type": kind, "message": f"Injected failure {failure}."}}
            return _json(error, failure)
        message = _anthropic_message(body["model"], reply)
        if body.get("stream"):
            return StreamingResponse(_anthropic_events(message), media_type="text/event-stream")
        return _json(message)

    async def _openai(self, request: Request) -> Response:
        body, reply = await self._receive("openai", request)
        if isinstance(reply, int):
            failure = reply
            if failure == 429:
                kind, code = "requests", "rate_limit_exceeded"
            elif failure >= 500:
                kind, code = "server_error", None
            else:
                kind, code = "invalid_request_error", None
            error = {"message": f"Injected failure {failure}.", "type": kind, "param": None, "code": code}
            return _json({"error": error}, failure)
        return _json(_openai_completion(body["model"], reply))


def _json(content: dict[str, Any], status: int = 200) -> JSONResponse:
    """A JSON response; a 429 tells the client it may retry at once."""
    headers = {"retry-after": "0"} if status == 429 else None
    return JSONResponse(content, status_code=status, headers=headers)


def _anthropic_message(model: str, reply: Reply) -> dict[str, Any]:
    """The Messages API response body for ``reply``."""
    content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
    content += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in reply.tool_calls]
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
        },
    }


def _halves(s: str) -> list[str]:
    """``s`` in two non-empty pieces (one if it is too short), so clients must join deltas."""
    cut = len(s) // 2
    return [s[:cut], s[cut:]] if cut else [s]


async def _anthropic_events(message: dict[str, Any]) -> AsyncIterator[str]:
    """The server-sent events that stream ``message``, as the Messages API sends them."""

    def event(data: dict[str, Any]) -> str:
        return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n"

    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    yield event({"type": "message_start", "message": start})
    yield event({"type": "ping"})
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield event({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            deltas = [{"type": "text_delta", "text": piece} for piece in _halves(block["text"])]
        else:
            empty = {**block, "input": {}}
            yield event({"type": "content_block_start", "index": index, "content_block": empty})
            pieces = _halves(json.dumps(block["input"]))
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        for delta in deltas:
            yield event({"type": "content_block_delta", "index": index, "delta": delta})
        yield event({"type": "content_block_stop", "index": index})
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": message["usage"]["output_tokens"]}})
    yield event({"type": "message_stop"})


def _openai_completion(model: str, reply: Reply) -> dict[str, Any]:
    """The Chat Completions response body for ``reply``."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, n, a in reply.tool_calls
        ]
    prompt_tokens = reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": prompt_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cache_read_tokens},
        },
    }
