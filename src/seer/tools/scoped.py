"""Tools generated from a scope server's `@expose` functions: one tool per function, each call sent to
the server. Names, descriptions and schemas are the server's manifest, unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, create_model

from seer.errors import ToolError
from seer.run import atomic_write
from seer.scope.client import ScopeServer
from seer.tools.base import Tool, ToolContext, ToolResult, Toolset
from seer.tools.notebook import notebook_tools

__all__ = ["KEPT", "scoped_session_tools", "scoped_tools"]

KEPT = ("list_skills", "read_skill", "finish")
"""The notebook tools a scoped-only session keeps: none of them runs code."""


async def scoped_tools(server: ScopeServer, *, name: str = "scope", record: tuple[str, Path] | None = None) -> Toolset:
    """A toolset with one tool per exposed function (the server checks the arguments). With `record`
    (`(function, file)`), after every call of another function, that function's result is written to the
    file (atomically, so it is whole at every instant), whether the call succeeded or not."""
    tools = []
    manifest = await server.manifest()
    if record is not None and record[0] not in {spec["name"] for spec in manifest}:
        raise ToolError(f"scope.record: the interface exposes no function {record[0]!r}")

    async def save() -> None:
        if record is not None:
            atomic_write(record[1], json.dumps(await server.call(record[0], {}), indent=1))

    for spec in manifest:

        async def handler(ctx: ToolContext, _name: str = spec["name"], **arguments: Any) -> ToolResult:
            try:
                result = await server.call(_name, arguments)
            finally:
                if record is not None and _name != record[0]:
                    await save()
            return ToolResult(result if isinstance(result, str) else json.dumps(result))

        permissive = create_model(f"{spec['name']}_arguments", __config__=ConfigDict(extra="allow"))
        tools.append(Tool(spec["name"], spec["description"], spec["input_schema"], permissive, handler))
    return Toolset(name, tools)


async def scoped_session_tools(server: ScopeServer, record: tuple[str, Path] | None = None) -> Toolset:
    """Everything a scoped-only session offers: the exposed functions, the skill tools and `finish`."""
    return Toolset.combine("scoped", await scoped_tools(server, record=record), notebook_tools.only(*KEPT))
