from typing import Literal

import pytest

from seer.errors import ToolError
from seer.tools.base import ToolContext, ToolResult, Toolset, make_tool

pytestmark = pytest.mark.anyio


async def shout(ctx: ToolContext, text: str, times: int = 1, style: Literal["loud", "quiet"] = "loud") -> str:
    """Repeat text.

    Args:
        text: What to say.
        times: How many times, at least
            one.
        style: Loud or quiet.

    Returns:
        The text.
    """
    if times < 1:
        raise ToolError("times must be at least 1")
    return " ".join([text.upper() if style == "loud" else text] * times)


def test_schema_and_descriptions_come_from_hints_and_docstring() -> None:
    tool = make_tool(shout)
    assert tool.description == "Repeat text."
    assert tool.input_schema == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "description": "What to say."},
            "times": {"type": "integer", "default": 1, "description": "How many times, at least one."},
            "style": {"type": "string", "enum": ["loud", "quiet"], "default": "loud", "description": "Loud or quiet."},
        },
        "required": ["text"],
    }


def test_a_parameter_without_description_fails_at_definition() -> None:
    async def bad(ctx: ToolContext, code: str, timeout_s: float = 1.0) -> str:
        """Do it.

        Args:
            code: The code.
        """
        return code

    with pytest.raises(TypeError, match="bad: parameter 'timeout_s' has no description; add it under Args:"):
        make_tool(bad)


def test_a_sync_function_is_refused() -> None:
    def sync(ctx: ToolContext) -> str:
        """Sync."""
        return ""

    with pytest.raises(TypeError, match="must be an `async def`"):
        make_tool(sync)  # type: ignore[arg-type]


async def test_bad_arguments_and_unknown_tools_become_error_results_the_agent_can_fix() -> None:
    tools = Toolset("t")
    tools.tool(shout)
    ctx = ToolContext(session=None)  # type: ignore[arg-type]
    wrong_type = await tools.call("shout", {"text": "hi", "times": "many"}, ctx)
    assert wrong_type.is_error
    assert wrong_type.text.startswith("shout: argument 'times': Input should be a valid integer")
    assert "Call it as shout(text: string, times: integer (optional), style: string (optional))" in wrong_type.text
    missing = await tools.call("shout", {"txt": "hi"}, ctx)
    assert "missing required argument 'text'" in missing.text and "unknown argument 'txt'" in missing.text
    unknown = await tools.call("whisper", {}, ctx)
    assert unknown.is_error and "the tools are: shout" in unknown.text
    told = await tools.call("shout", {"text": "hi", "times": 0}, ctx)
    assert told == ToolResult("times must be at least 1", is_error=True)
    assert await tools.call("shout", {"text": "hi", "times": 2}, ctx) == ToolResult("HI HI")
