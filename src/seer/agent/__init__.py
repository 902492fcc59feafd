"""Who acts: a provider-neutral tool-use loop, provider adapters, budgets, transcripts, resume."""

from seer.agent.budget import Budget, Spent
from seer.agent.loop import AgentLoop, Interaction, LoopOptions, Outcome
from seer.agent.providers import make_provider
from seer.agent.runner import agent_toolset, resume_agent, run_agent

__all__ = [
    "AgentLoop",
    "agent_toolset",
    "Budget",
    "Interaction",
    "LoopOptions",
    "make_provider",
    "Outcome",
    "resume_agent",
    "run_agent",
    "Spent",
]
