"""What the viewer checks before any route runs, so that no web page can use it.

Every request needs a `Host` naming this server (a DNS-rebinding page sends its own name). A request
that changes something (any method but GET and HEAD) also needs the server's secret, from the
HttpOnly SameSite=Strict cookie that the printed URL sets or from an `Authorization: Bearer` header;
an `Origin`, when sent, equal to the server's own (browsers send one with every POST; pages on other
ports of this machine are same-site, so the cookie alone proves nothing); and a JSON body, which no
HTML form and no `no-cors` fetch can send. Reads need the secret too, on loopback as well: a notebook
kernel can reach loopback, and must not read other runs through the viewer. Every
answer carries `nosniff`, a restrictive Content-Security-Policy, and frame and referrer denials.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

__all__ = ["Guard", "allowed_hosts", "cookie_name"]

_READS = ("GET", "HEAD")
_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def cookie_name(port: int) -> str:
    """The secret's cookie; named per port, since browsers share cookies across the ports of one host."""
    return f"seer_view_{port}"


def allowed_hosts(host: str, port: int, extra: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The `Host` values a server bound to `host:port` answers; None (any) when bound to every interface,
    where no list can be known (every request still needs the secret)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    names = {host, *extra}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "::1"}
    return frozenset(f"[{name}]:{port}" if ":" in name else f"{name}:{port}" for name in names)


class Guard:
    """ASGI middleware applying the checks in the module docstring.

    Args:
        app: The viewer app.
        token: The server's secret.
        hosts: Accepted `Host` headers (None: any).
        port: The bound port (names the cookie).
    """

    def __init__(self, app: Any, *, token: str, hosts: frozenset[str] | None, port: int) -> None:
        self.app = app
        self.token = token.encode()
        self.hosts = hosts
        self.cookie = cookie_name(port)

    def _valid(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token)  # type: ignore[union-attr]

    def _refusal(self, request: Request) -> Response | None:
        """Why `request` is refused, as the answer to send; None if it passes."""
        host = request.headers.get("host", "").lower()
        if self.hosts is not None and host not in self.hosts:
            return _error(421, f"this server does not answer to Host {host!r}; open it by the address `seer view` printed")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        by_header = self._valid(bearer)
        by_cookie = self._valid(request.cookies.get(self.cookie))
        if request.method in _READS:
            if not (by_header or by_cookie or self._valid(request.query_params.get("token"))):
                return _error(401, "open the URL with ?token=... as printed by `seer view`")
            return None
        if not (by_header or by_cookie):
            return _error(403, "this request changes state and needs the viewer's secret: open the URL `seer view` "
                               "printed (it sets a cookie), or send `Authorization: Bearer <token>`")  # fmt: skip
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() not in (f"http://{host}", f"https://{host}"):
            return _error(403, f"cross-origin request from {origin!r} refused")
        if origin is None and not by_header:
            return _error(403, "a request with the cookie but no Origin header is refused; send `Authorization: Bearer <token>`")
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return _error(403, "cross-site request refused")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return _error(415, f"send a JSON body with Content-Type: application/json (got {media or 'none'!r})")
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        given = request.query_params.get("token")
        if refusal is None and request.method == "GET" and self._valid(given) and not request.url.path.startswith("/api/"):
            refusal = self._enter(request)
        if refusal is not None:
            await refusal(scope, receive, _secured(send))
            return
        await self.app(scope, receive, _secured(send))

    def _enter(self, request: Request) -> Response:
        """The answer to the printed URL: the secret moves into a cookie and out of the address bar."""
        rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        answer = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
        answer.set_cookie(self.cookie, self.token.decode(), httponly=True, samesite="strict", path="/")
        return answer


def _secured(send: Any) -> Any:
    """`send` with the security headers added to the response's start."""

    async def secured(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            headers += [header for header in _HEADERS if header[0] not in names]
            if b"content-security-policy" not in names:
                headers.append((b"content-security-policy", _CSP.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return secured


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
