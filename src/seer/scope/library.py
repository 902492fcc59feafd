"""The notebook side of a scoped session: a module generated from the scope server's manifest, whose
functions call the exposed ones. The kernel imports it as `scope`; it holds the server's URL and a
session's token (from its environment; never the server's own token), never the weights.

The same manifest makes the agent's tools (`seer.tools.scoped`), so both ways of handing an interface
to the agent describe the same functions with the same words.
"""

from __future__ import annotations

from typing import Any

from seer.scope.server import MAX_BODY_BYTES

__all__ = ["MODULE", "client_source"]

MODULE = "scope"
"""The import name of the generated module in the kernel."""

_HEADER = '''"""The functions this session may call; each runs in the scope server, which holds the models.

{listing}
"""

from __future__ import annotations

import json as _json
import os as _os
import urllib.error as _error
import urllib.request as _request
from typing import Any, Literal

__all__ = {names!r}

_OPENER = _request.build_opener(_request.ProxyHandler({{}}))  # loopback: never through a proxy


class ScopeError(Exception):
    """An exposed function failed, or was called with wrong arguments (the message says which)."""


def _call(name: str, arguments: dict[str, Any]) -> Any:
    data = _json.dumps(arguments).encode()
    if len(data) > {max_body}:
        raise ScopeError(f"BadArguments: {{name}}: {{len(data)}} bytes of JSON arguments; the scope server takes at most {max_body}")
    request = _request.Request(
        f"{{_os.environ['SEER_SCOPE_URL']}}/call/{{name}}",
        data=data,
        method="POST",
        headers={{"Authorization": f"Bearer {{_os.environ['SEER_SCOPE_TOKEN']}}", "Content-Type": "application/json"}},
    )
    try:
        with _OPENER.open(request) as reply:
            return _json.loads(reply.read())["result"]
    except _error.HTTPError as exc:
        error = _json.loads(exc.read())["error"]
        trace = f"\\n--- in the scope server ---\\n{{error['traceback']}}" if error.get("traceback") else ""
        raise ScopeError(f"{{error['type']}}: {{error['message']}}{{trace}}") from None
'''

_FUNCTION = '''

def {name}({parameters}) -> Any:
    {doc!r}
    return _call({name!r}, {{{arguments}}})
'''

_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None", "object": "dict", "array": "list"}


def _annotation(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return f"Literal[{', '.join(map(repr, schema['enum']))}]"
    if "anyOf" in schema:
        return " | ".join(_annotation(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"list[{_annotation(schema['items'])}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"dict[str, {_annotation(schema['additionalProperties'])}]"
    return _TYPES.get(kind, "Any") if isinstance(kind, str) else "Any"


def _function(spec: dict[str, Any]) -> str:
    schema = spec["input_schema"]
    required = set(schema.get("required", []))
    parameters, documented = [], []
    for name, prop in schema["properties"].items():
        default = "" if name in required else f" = {prop.get('default')!r}"
        parameters.append(f"{name}: {_annotation(prop)}{default}")
        documented.append(f"    {name}: {prop.get('description', '')}")
    doc = spec["description"] + ("\n\nArgs:\n" + "\n".join(documented) if documented else "")
    arguments = ", ".join(f"{name!r}: {name}" for name in schema["properties"])
    return _FUNCTION.format(name=spec["name"], parameters=", ".join(parameters), doc=doc, arguments=arguments)


def client_source(manifest: list[dict[str, Any]]) -> str:
    """Python source of the `scope` module for `manifest` (the scope server's `/manifest`)."""
    listing = "\n".join(f"- `{spec['name']}`: {spec['description'].splitlines()[0]}" for spec in manifest)
    names = [spec["name"] for spec in manifest]
    return _HEADER.format(listing=listing, names=names, max_body=MAX_BODY_BYTES) + "".join(_function(spec) for spec in manifest)
