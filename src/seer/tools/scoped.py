"""Tools generated from a scope server's `@expose` functions: one tool per function, each call sent to
the server. Names, descriptions and schemas are the server's manifest, unchanged."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ConfigDict, create_model

from seer.scope.client import ScopeServer
from seer.tools.base import Tool, ToolContext, ToolResult, Toolset
from seer.tools.notebook import notebook_tools

__all__ = ["KEPT", "scoped_session_tools", "scoped_tools"]

KEPT = ("list_skills", "read_skill", "finish")
"""The notebook tools a scoped-only session keeps: none of them runs code."""


async def scoped_tools(server: ScopeServer, *, name: str = "scope") -> Toolset:
    """A toolset with one tool per exposed function (the server checks the arguments)."""
    tools = []
    for spec in await server.manifest():

        async def handler(ctx: ToolContext, _name: str = spec["name"], **arguments: Any) -> ToolResult:
            result = await server.call(_name, arguments)
            return ToolResult(result if isinstance(result, str) else json.dumps(result))

        permissive = create_model(f"{spec['name']}_arguments", __config__=ConfigDict(extra="allow"))
        tools.append(Tool(spec["name"], spec["description"], spec["input_schema"], permissive, handler))
    return Toolset(name, tools)


async def scoped_session_tools(server: ScopeServer) -> Toolset:
    """Everything a scoped-only session offers: the exposed functions, the skill tools and `finish`."""
    return Toolset.combine("scoped", await scoped_tools(server), notebook_tools.only(*KEPT))
