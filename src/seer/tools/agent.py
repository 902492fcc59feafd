"""Tools that only make sense with an agent loop around them: asking the researcher."""

from __future__ import annotations

from seer.errors import ToolError
from seer.tools.base import ToolContext, Toolset

__all__ = ["agent_tools"]

agent_tools = Toolset("agent")

NO_RESEARCHER = "No researcher is available to answer; continue with your best judgement and say so in the report."


@agent_tools.tool
async def checkpoint(ctx: ToolContext, question: str) -> str:
    """Ask the researcher a question and wait for the answer (for example, before an expensive step).

    Args:
        question: What you need the researcher to decide or tell you, with the context they need.
    """
    if not question.strip():
        raise ToolError("the question is empty; say what you need the researcher to decide")
    if ctx.ask is None:
        return NO_RESEARCHER
    return await ctx.ask(question)
