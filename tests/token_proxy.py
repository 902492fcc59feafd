"""A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request it forwards, streaming
both ways (so SSE streams pass through as they come). It lets a client that sends no token, such as the
MCP conformance suite, talk to `seer mcp --transport http`, which refuses requests without one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


class TokenProxy:
    """An ASGI app forwarding to `upstream` (an origin such as http://127.0.0.1:8765) with the token added."""

    def __init__(self, upstream: str, token: str) -> None:
        self.client = httpx2.AsyncClient(base_url=upstream, timeout=httpx2.Timeout(300, connect=10))
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["authorization"] = f"Bearer {self.token}"
        upstream = self.client.build_request(request.method, request.url.path, headers=headers, content=await request.body())
        response = await self.client.send(upstream, stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        await StreamingResponse(body(), status_code=response.status_code, headers=kept)(scope, receive, send)
