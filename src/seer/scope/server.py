"""The scope server: loads models and an interface file, serves its `@expose` functions over HTTP on
127.0.0.1 with a bearer token. Standard library only (plus the toolkit, torch and numpy when it loads
models or results hold them); it runs inside the sandbox, shipped there as `seer_scope`.

    python -m seer_scope.server --interface interface.py --token-file TOKEN --port-file PORT [--models JSON]

The port file is written only once the interface has loaded; a failure at start-up exits at once with
the traceback on stderr. Routes: `GET /manifest`, `GET /state`, `POST /call/<name>` (JSON arguments;
the `X-Seer-Session` header names the calling session). Every answer is scrubbed of the identity of
the hidden models (names, ids, paths) before it leaves, tracebacks and docstrings included.
"""

from __future__ import annotations

import argparse
import dataclasses
import hmac
import importlib.util
import json
import re
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .expose import _CALLER, _MODELS, CONCURRENT, EXPOSED
from .schema import function_schema

__all__ = ["main", "to_json"]

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


def _shipped_version() -> str:
    """The version of the code this server was shipped with (its sibling toolkit's)."""
    try:
        from seer_interp._version import __version__
    except ImportError:  # run from a Seer installation rather than a shipped copy
        from seer.interp._version import __version__
    return __version__


class _State:
    token = b""
    calls = 0
    sessions: dict[str, int] = {}
    models: dict[str, dict[str, Any]] = {}
    hidden: re.Pattern[str] | None = None
    schemas: dict[str, dict[str, Any]] = {}
    counting = threading.Lock()
    running = threading.Lock()
    """Held by each call that is not `concurrent`: hooks on a shared model must not interleave."""


def _scrub(raw: str) -> str:
    return _State.hidden.sub("[hidden]", raw) if _State.hidden else raw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's calls share one connection
    disable_nagle_algorithm = True  # headers and body are two writes; Nagle would hold the body ~40 ms

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: stdout is not ours
        return

    def _send(self, status: int, body: Any) -> None:
        raw = _scrub(json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "").encode()
        if hmac.compare_digest(given, b"Bearer " + _State.token):
            return True
        self._send(401, {"error": {"type": "Unauthorized", "message": "send `Authorization: Bearer <token>`"}})
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._authorised():
            return
        if self.path == "/manifest":
            self._send(200, list(_State.schemas.values()))
        elif self.path == "/state":
            with _State.counting:
                state = {"models": _State.models, "calls": _State.calls, "sessions": dict(_State.sessions)}
            self._send(200, {**state, "functions": list(EXPOSED), "version": _shipped_version()})
        else:
            self._send(404, {"error": {"type": "NotFound", "message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))  # read first: the connection is reused
        if not self._authorised():
            return
        name = self.path.removeprefix("/call/")
        fn = EXPOSED.get(name)
        if not self.path.startswith("/call/") or fn is None:
            self._send(404, {"error": {"type": "UnknownFunction", "message": f"no exposed function {name!r}; exposed: {', '.join(EXPOSED)}"}})
            return
        try:
            arguments = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            self._send(400, {"error": {"type": "BadRequest", "message": f"the body is not JSON: {exc}"}})
            return
        problem = _check(_State.schemas[name]["input_schema"], arguments)
        if problem:
            self._send(400, {"error": {"type": "BadArguments", "message": f"{name}: {problem}"}})
            return
        session = self.headers.get("X-Seer-Session", "default")
        with _State.counting:
            _State.calls += 1
            _State.sessions[session] = _State.sessions.get(session, 0) + 1
        _CALLER.session = session
        try:
            if name in CONCURRENT:
                result = fn(**arguments)
            else:
                with _State.running:
                    result = fn(**arguments)
        except Exception as exc:
            self._send(500, {"error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}})
            return
        try:
            self._send(200, {"result": to_json(result)})
        except TypeError as exc:
            self._send(500, {"error": {"type": "UnserialisableResult", "message": f"{name} returned something with no JSON form: {exc}"}})


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
    args = parser.parse_args()
    _State.token = args.token_file.read_text().strip().encode()
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
    args.port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
