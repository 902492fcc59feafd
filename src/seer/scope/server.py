"""The scope server: loads models and an interface file, serves its `@expose` functions over HTTP on
127.0.0.1 with bearer tokens. Standard library only (plus the toolkit, torch and numpy when it loads
models or results hold them); it runs inside the sandbox, shipped there as `seer_scope`.

    python -m seer_scope.server --interface interface.py --token-file TOKEN --port-file PORT [--models JSON]
        [--call-timeout-s 300]

The port file is written only once the interface has loaded; a failure at start-up exits at once with
the traceback on stderr. Routes:

- `POST /sessions` `{"session": NAME}`: server token only (the one in the token file, which the harness
  keeps); answers `{"session", "token"}`, a fresh random token bound to that session. A request with a
  session token is that session and no other: no header can name another, so a session reads and
  writes its own `session_state()` only.
- `GET /manifest`; `GET /state` (models, version, and the calls of the caller's own session; the server
  token sees every session's).
- `POST /call/<name>` (JSON arguments): runs as the token's session (the server token's is `default`).

Every request needs a `Host` naming this server (`127.0.0.1:PORT` or `localhost:PORT`) and no `Origin`
(no web page may call it); every token is checked before a body is read; a body over `MAX_BODY_BYTES` is refused unread (413). A
call that runs past `--call-timeout-s` answers `CallTimeout`, and one that cannot get the models in that
time answers `Busy`; a Python thread cannot be stopped, so a runaway call runs on (holding the models,
unless `concurrent`) while the server keeps answering. Every answer is scrubbed of the identity of the
hidden models (names, ids, paths) before it leaves, tracebacks and docstrings included.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import hmac
import importlib.util
import json
import re
import secrets
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .expose import _CALLER, _MODELS, CONCURRENT, EXPOSED
from .schema import function_schema

__all__ = ["MAX_BODY_BYTES", "MAX_TIMEOUT_S", "check_timeout", "main", "to_json"]

MAX_BODY_BYTES = 16 * 2**20
"""The largest request body the server reads; a bigger one is refused (413) without being read."""
MAX_TIMEOUT_S = 7 * 86400.0
"""The longest time limit the scope server and its client accept."""

_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a result: tensors and arrays become lists, dataclasses and models dicts.

    Raises:
        TypeError: Something in the result has no JSON form.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json(v) for v in value]
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # torch tensor
        return value.detach().cpu().tolist()
    if hasattr(value, "tolist"):  # numpy array or scalar
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return to_json(value.model_dump())
    raise TypeError(f"a {type(value).__name__} has no JSON form")


def _check(schema: dict[str, Any], arguments: Any) -> str | None:
    """What is wrong with `arguments` for `schema`, or None."""
    if not isinstance(arguments, dict):
        return "arguments must be a JSON object"
    props = schema["properties"]
    unknown = sorted(set(arguments) - set(props))
    missing = [name for name in schema.get("required", []) if name not in arguments]
    problems = [f"unknown argument {u!r}" for u in unknown] + [f"missing required argument {m!r}" for m in missing]
    for name, value in arguments.items():
        spec = props.get(name, {})
        expected = _TYPES.get(spec.get("type", ""))
        if expected and (not isinstance(value, expected) or (isinstance(value, bool) and spec["type"] != "boolean")):
            problems.append(f"argument {name!r} should be {spec['type']}, got {type(value).__name__}")
        if "enum" in spec and value not in spec["enum"]:
            problems.append(f"argument {name!r} must be one of {spec['enum']}, got {value!r}")
    return "; ".join(problems) or None


def check_timeout(value: float, name: str) -> float:
    """`value` as seconds, if it is a number above 0 and at most `MAX_TIMEOUT_S` (not NaN or infinite).

    Raises:
        ValueError: It is not.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT_S:
        raise ValueError(f"{name} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, got {value!r}")
    return float(value)


def _strict_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _shipped_version() -> str:
    """The version of the code this server was shipped with (its sibling toolkit's)."""
    try:
        from seer_interp._version import __version__
    except ImportError:  # run from a Seer installation rather than a shipped copy
        from seer.interp._version import __version__
    return __version__


class _State:
    token = b""
    """The server's own token (the harness's): it opens sessions and sees them all."""
    hosts: frozenset[str] = frozenset()
    """The `Host` values this server answers (its loopback address and port): a DNS-rebinding name is not one."""
    sessions_by_token: dict[bytes, str] = {}
    """Each session token's SHA-256, to the session it names."""
    call_timeout_s = 300.0
    calls = 0
    sessions: dict[str, int] = {}
    models: dict[str, dict[str, Any]] = {}
    hidden: re.Pattern[str] | None = None
    schemas: dict[str, dict[str, Any]] = {}
    counting = threading.Lock()
    running = threading.Lock()
    """Held by each call that is not `concurrent`: hooks on a shared model must not interleave."""
    running_since: float | None = None
    """When the call holding `running` took it."""


def _take_models(deadline: float) -> str | None:
    """Take `_State.running` for a call that must start by `deadline`; None, or why not (busy)."""
    limit = _State.call_timeout_s
    while (now := time.monotonic()) < deadline:
        since = _State.running_since
        if since is not None and now - since >= limit:
            break  # a runaway call holds the models: fail now rather than at the deadline
        until = deadline if since is None else min(deadline, since + limit)  # wait while the holder is within its limit
        if _State.running.acquire(timeout=max(0.0, until - now)):
            _State.running_since = time.monotonic()
            return None
    held = time.monotonic() - (_State.running_since or time.monotonic())
    past = ", past the limit: it runs on, since a Python thread cannot be stopped" if held >= limit else ""
    return f"busy: another call has been running for {held:.0f} s (limit {limit:g} s{past}); try again later"


def _run(name: str, arguments: dict[str, Any], session: str) -> tuple[int, dict[str, Any]]:
    """Run an exposed function for `session` within the call limit, in a thread of its own; the status and body to send."""
    limit = _State.call_timeout_s
    deadline = time.monotonic() + limit
    serial = name not in CONCURRENT
    if serial and (busy := _take_models(deadline)):
        return 503, {"error": {"type": "Busy", "message": busy}}
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        _CALLER.session, _CALLER.deadline = session, deadline
        try:
            outcome["result"] = EXPOSED[name](**arguments)
        except BaseException as exc:  # noqa: BLE001 - the caller hears of anything, and the server stays up
            outcome["error"] = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
        finally:
            if serial:
                _State.running_since = None
                _State.running.release()
            done.set()

    threading.Thread(target=work, name=f"scope-call-{name}", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        hold = "; calls that need the models answer Busy until it ends" if serial else ""
        message = (f"{name} did not finish within the {limit:g} s call limit; it runs on in the scope server, "
                   f"since a Python thread cannot be stopped{hold}")  # fmt: skip
        return 504, {"error": {"type": "CallTimeout", "message": message}}
    if "error" in outcome:
        return 500, {"error": outcome["error"]}
    try:
        return 200, {"result": to_json(outcome["result"])}
    except TypeError as exc:
        return 500, {"error": {"type": "UnserialisableResult", "message": f"{name} returned something with no JSON form: {exc}"}}


def _scrub(raw: str) -> str:
    return _State.hidden.sub("[hidden]", raw) if _State.hidden else raw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's calls share one connection
    disable_nagle_algorithm = True  # headers and body are two writes; Nagle would hold the body ~40 ms
    session = "default"
    master = False
    unread = False
    """The request has a body not read yet: the connection closes after the answer."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: stdout is not ours
        return

    def _send(self, status: int, body: Any, *, scrub: bool = True) -> None:
        raw = json.dumps(body)
        raw = (_scrub(raw) if scrub else raw).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if self.unread:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, kind: str, message: str) -> None:
        self._send(status, {"error": {"type": kind, "message": message}})

    def _authorised(self) -> bool:
        """Whether the request names this server in `Host`, comes from no web page (no `Origin`), and
        carries the server's token or a session's (setting `master` and `session`); answers 421, 403 or
        401 if not. Nothing of the body has been read yet."""
        self.unread = self.headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in self.headers
        if self.headers.get("Host", "").lower() not in _State.hosts:
            self._error(421, "MisdirectedRequest", f"this server answers to {' or '.join(sorted(_State.hosts))}, not Host {self.headers.get('Host')!r}")
            return False
        if "Origin" in self.headers:
            self._error(403, "Forbidden", "requests from web pages are refused: the scope server serves its harness and kernels only")
            return False
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        given = token.strip().encode()
        if scheme == "Bearer" and given:
            if hmac.compare_digest(given, _State.token):
                self.master, self.session = True, "default"
                return True
            if (session := _State.sessions_by_token.get(hashlib.sha256(given).digest())) is not None:
                self.master, self.session = False, session
                return True
        self._error(401, "Unauthorized", "send `Authorization: Bearer <token>` with the server's token or a session's")
        return False

    def _body(self) -> Any:
        """The JSON body (None when empty), or `_REFUSED` after answering why it was not read or not JSON."""
        if self.headers.get("Transfer-Encoding"):
            self._error(411, "LengthRequired", "send the body with a Content-Length, not chunked")
            return _REFUSED
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._error(400, "BadRequest", "Content-Length is not a number of bytes")
            return _REFUSED
        if length > MAX_BODY_BYTES:
            self._error(413, "TooLarge", f"the body is {length} bytes; the scope server reads at most {MAX_BODY_BYTES}")
            return _REFUSED
        raw = self.rfile.read(length)
        self.unread = False
        try:
            return json.loads(raw, parse_constant=_strict_json) if raw.strip() else None
        except ValueError as exc:
            self._error(400, "BadRequest", f"the body is not JSON: {exc}")
            return _REFUSED

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._authorised():
            return
        if self.path == "/manifest":
            self._send(200, list(_State.schemas.values()))
        elif self.path == "/state":
            with _State.counting:
                seen = {s: n for s, n in _State.sessions.items() if self.master or s == self.session}
                calls = _State.calls if self.master else sum(seen.values())
            state = {"models": _State.models, "calls": calls, "sessions": seen}
            self._send(200, {**state, "functions": list(EXPOSED), "version": _shipped_version()})
        else:
            self._error(404, "NotFound", f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorised() or (body := self._body()) is _REFUSED:
            return
        if self.path == "/sessions":
            self._open_session(body)
            return
        name = self.path.removeprefix("/call/")
        if not self.path.startswith("/call/") or name not in EXPOSED:
            self._error(404, "UnknownFunction", f"no exposed function {name!r}; exposed: {', '.join(EXPOSED)}")
            return
        arguments = {} if body is None else body
        problem = _check(_State.schemas[name]["input_schema"], arguments)
        if problem:
            self._error(400, "BadArguments", f"{name}: {problem}")
            return
        with _State.counting:
            _State.calls += 1
            _State.sessions[self.session] = _State.sessions.get(self.session, 0) + 1
        self._send(*_run(name, arguments, self.session))

    def _open_session(self, body: Any) -> None:
        """Answer a fresh token bound to the session `body` names (a new random name without one)."""
        if not self.master:
            self._error(403, "Forbidden", "only the server's own token opens sessions; a session token names its session only")
            return
        name = (body or {}).get("session") or secrets.token_hex(8) if isinstance(body, (dict, type(None))) else None
        if not isinstance(name, str) or not 0 < len(name) <= 200 or not name.isprintable():
            self._error(400, "BadRequest", "`session` must be a printable string of 1 to 200 characters")
            return
        token = secrets.token_urlsafe(32)
        with _State.counting:
            _State.sessions_by_token[hashlib.sha256(token.encode()).digest()] = name
        self._send(200, {"session": name, "token": token}, scrub=False)  # a random token: scrubbing could garble it


_REFUSED = object()
"""`_Handler._body`'s answer when the request was refused."""


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops connections when many sessions arrive at once
    daemon_threads = True


def _load_interface(path: Path) -> None:
    spec = importlib.util.spec_from_file_location("scope_interface", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scope_interface"] = module
    spec.loader.exec_module(module)


class _Scrubbed:
    """A text stream that hides the hidden models' identity in everything written to it (the log)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_scrub(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _hide(specs: list[dict[str, Any]]) -> None:
    """Gather the strings that would reveal the hidden models; from here on, nothing carries them."""
    hidden = [spec for spec in specs if spec.get("hidden_name")]
    if not hidden:
        return
    from seer_interp.loading import identity_terms

    terms = {term for spec in hidden for term in identity_terms(spec["id"], spec.get("adapter"))}
    _State.hidden = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    sys.stdout, sys.stderr = _Scrubbed(sys.stdout), _Scrubbed(sys.stderr)


def _load_models(specs: list[dict[str, Any]]) -> None:
    """Load each model once (the state reports how often each was loaded)."""
    from seer_interp.loading import load_model

    for spec in specs:
        began = time.monotonic()
        options = {k: v for k, v in spec.items() if k not in ("name", "id")}
        _MODELS[spec["name"]] = load_model(spec["id"], **options)
        _State.models[spec["name"]] = {"loads": _State.models.get(spec["name"], {}).get("loads", 0) + 1,
                                       "load_s": round(time.monotonic() - began, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve an interface's @expose functions.")
    parser.add_argument("--interface", type=Path, required=True)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--models", default="[]", help="JSON list of {name, id, ...} to load first")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--call-timeout-s", type=float, default=300.0, help="limit for one call (default 300)")
    args = parser.parse_args()
    try:
        _State.call_timeout_s = check_timeout(args.call_timeout_s, "--call-timeout-s")
    except ValueError as exc:
        parser.error(str(exc))
    _State.token = args.token_file.read_text().strip().encode()
    if not _State.token:
        parser.error(f"the token file {args.token_file} is empty")
    specs = json.loads(args.models)
    _hide(specs)
    try:
        _load_models(specs)
        _load_interface(args.interface)
        _State.schemas = {name: function_schema(fn) for name, fn in EXPOSED.items()}
        server = _Server(("127.0.0.1", args.port), _Handler)
    except BaseException:
        traceback.print_exc()  # through the scrubbed stderr
        sys.exit(1)
    port = server.server_address[1]
    _State.hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    args.port_file.write_text(str(port))
    server.serve_forever()


if __name__ == "__main__":
    main()
