"""Tools and toolsets: the one contract between the harness and any agent.

A tool is a typed async function with a Google-style docstring. Its JSON schema comes from the type
hints, its descriptions from the docstring; a parameter without a description fails at import. The
first parameter, `ctx: ToolContext`, is injected and never shown to the agent. Our own agent loop
calls `Toolset.call` in-process; MCP clients reach the same toolset through `seer.tools.mcp`.
"""

from __future__ import annotations

import inspect
import secrets
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from seer.errors import KernelDied, SeerError, SessionClosed, ToolError
from seer.scope.schema import parse_docstring

if TYPE_CHECKING:
    from seer.session import Session

__all__ = ["InputRequired", "Tool", "ToolContext", "ToolResult", "Toolset"]

Handler = Callable[..., Awaitable["ToolResult | str"]]


class InputRequired(Exception):
    """Raised by a `ToolContext.ask` that can only put its question in the call's answer (an MCP client of
    protocol 2026-07-28 or later): the client asks its user and calls the tool again with the reply."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


@dataclass
class ToolContext:
    """What a tool body may use; injected by whoever calls the tool."""

    session: Session
    call_id: str = field(default_factory=lambda: f"call_{secrets.token_hex(6)}")
    ask: Callable[[str], Awaitable[str]] | None = None
    """Puts a question to the researcher (the agent loop provides it); `None` when nobody can answer."""
    progress: Callable[[str], Awaitable[None]] | None = None
    """Tells whoever waits on a long call how it goes (an MCP client's progress notifications)."""


@dataclass
class ToolResult:
    """What the agent gets back: text, PNG images, and whether the call failed."""

    text: str
    images: list[bytes] = field(default_factory=list)
    is_error: bool = False
    fatal: bool = False
    """The harness can no longer serve the session (its kernel is gone for good, or it was closed): Seer's
    loop records the result and stops the run with `error`; an MCP client gets the text."""


@dataclass(frozen=True)
class Tool:
    """One tool: its name, description and schema as the agent sees them, and its handler."""

    name: str
    description: str
    input_schema: dict[str, Any]
    arguments: type[BaseModel]
    handler: Handler

    def spec(self) -> dict[str, Any]:
        """The manifest entry: name, description, JSON schema of the arguments."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


def _strip_titles(schema: Any) -> Any:
    """Drop pydantic's auto-generated titles: they repeat the names and cost the agent tokens."""
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def make_tool(fn: Handler, name: str | None = None) -> Tool:
    """Build a `Tool` from a typed async function whose first parameter is the context.

    Raises:
        TypeError: The function is not async, lacks a docstring, a type hint or a parameter description.
    """
    name = name or fn.__name__
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{name}: a tool must be an `async def` function")
    if not fn.__doc__:
        raise TypeError(f"{name}: a tool needs a docstring; the agent reads it as the tool's description")
    description, arg_docs = parse_docstring(fn.__doc__)
    hints = get_type_hints(fn)
    params = list(inspect.signature(fn).parameters.values())[1:]  # the first is the injected context
    fields: dict[str, Any] = {}
    for param in params:
        if param.name not in hints:
            raise TypeError(f"{name}: parameter {param.name!r} has no type hint")
        if param.name not in arg_docs:
            raise TypeError(f"{name}: parameter {param.name!r} has no description; add it under Args:")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (hints[param.name], Field(default, description=arg_docs[param.name]))
    arguments = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    schema = _strip_titles(arguments.model_json_schema())
    return Tool(name=name, description=description, input_schema=schema, arguments=arguments, handler=fn)


def _type_name(spec: dict[str, Any]) -> str:
    """`string`, `integer or null`… from a property's JSON schema."""
    if "type" in spec:
        return str(spec["type"])
    return " or ".join(str(option.get("type", "value")) for option in spec.get("anyOf", [])) or "value"


def _describe_validation(tool: Tool, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown argument {where!r}")
        elif error["type"] == "missing":
            problems.append(f"missing required argument {where!r}")
        else:
            problems.append(f"argument {where!r}: {error['msg']} (got {error.get('input')!r:.80})")
    props = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    signature = ", ".join(
        f"{arg}: {_type_name(spec)}{'' if arg in required else ' (optional)'}" for arg, spec in props.items()
    )
    return f"{tool.name}: {'; '.join(problems)}. Call it as {tool.name}({signature})."


class Toolset:
    """A named, ordered collection of tools."""

    def __init__(self, name: str, tools: list[Tool] | None = None) -> None:
        self.name = name
        self._tools: dict[str, Tool] = {t.name: t for t in tools or []}

    @classmethod
    def combine(cls, name: str, *sets: Toolset) -> Toolset:
        """One toolset holding the tools of `sets`, in order.

        Raises:
            TypeError: Two sets have a tool of the same name.
        """
        combined = cls(name)
        for toolset in sets:
            for tool in toolset:
                if tool.name in combined._tools:
                    raise TypeError(f"{name}: {toolset.name!r} and another set both have a tool {tool.name!r}")
                combined._tools[tool.name] = tool
        return combined

    def tool(self, fn: Handler) -> Handler:
        """Decorator: register `fn` as a tool of this set."""
        built = make_tool(fn)
        if built.name in self._tools:
            raise TypeError(f"{self.name}: a tool named {built.name!r} is already registered")
        self._tools[built.name] = built
        return fn

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def only(self, *names: str) -> Toolset:
        """A toolset with just the named tools of this one, in this one's order."""
        return Toolset(self.name, [tool for tool in self if tool.name in names])

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def with_schema(self, name: str, argument: str, schema: dict[str, Any], *, required: bool) -> Toolset:
        """A copy in which tool `name` shows `schema` for `argument` (a task's answer shape, say)."""
        tool = self._tools[name]
        shown = {**tool.input_schema, "properties": {**tool.input_schema["properties"], argument: schema}}
        needed = [n for n in tool.input_schema.get("required", []) if n != argument] + ([argument] if required else [])
        shown["required"] = needed
        changed = Toolset(self.name, list(self))
        changed._tools[name] = replace(tool, input_schema=shown)
        return changed

    def specs(self) -> list[dict[str, Any]]:
        """The manifest the agent sees: every tool's name, description and input schema."""
        return [t.spec() for t in self._tools.values()]

    async def call(self, name: str, arguments: dict[str, Any] | None, ctx: ToolContext) -> ToolResult:
        """Validate the arguments and run the tool.

        A wrong name, wrong arguments or a `ToolError` becomes an error result the agent can act on;
        a `SeerError` from the harness becomes an error result too, prefixed so it is clearly ours. A
        fault no later call can get past (`KernelDied`, `SessionClosed`) is also `fatal`: a run must end
        as a failed run, not go on as an agent calling tools that cannot work.
        """
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(f"There is no tool {name!r}; the tools are: {', '.join(self._tools)}.", is_error=True)
        try:
            parsed = tool.arguments.model_validate(arguments or {})
        except ValidationError as exc:
            return ToolResult(_describe_validation(tool, exc), is_error=True)
        try:
            result = await tool.handler(ctx, **dict(parsed))
        except InputRequired:
            raise
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        except (KernelDied, SessionClosed) as exc:
            return ToolResult(f"Seer could not do this, and the session cannot go on: {exc}", is_error=True, fatal=True)
        except SeerError as exc:
            return ToolResult(f"Seer could not do this: {exc}", is_error=True)
        except Exception:
            return ToolResult(f"Seer hit an internal error in {name}:\n{traceback.format_exc(limit=8)}", is_error=True)
        return ToolResult(result) if isinstance(result, str) else result
