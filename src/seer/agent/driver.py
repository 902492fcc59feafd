"""Who runs a run's loop. An LLM behind a `Provider` answers one turn at a time and Seer's `AgentLoop`
drives the run around it (`LoopDriver`); an agent with a loop of its own (Claude Code) is a `Driver`
itself and drives the whole run, reporting what it spent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from seer.agent.budget import Budget
from seer.agent.loop import AgentLoop, Interaction, LoopOptions, Outcome
from seer.agent.messages import Message, Text
from seer.agent.providers.base import Provider
from seer.record.transcript import Transcript
from seer.tools.base import Toolset

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from seer.session import Session

__all__ = ["Driver", "LoopDriver"]


@runtime_checkable
class Driver(Protocol):
    """Runs one investigation in a started session, from the task to an `Outcome`."""

    name: str
    model: str
    host_tools: bool
    """Whether the agent also has tools on this machine (then the run cannot be blind)."""
    prices_its_turns: bool
    """Whether Seer prices each model turn (and so must know the model's price before a cost budget)."""

    async def drive(self, session: Session, tools: Toolset, *, task: str, system: str, budget: Budget, transcript: Transcript) -> Outcome:
        """Run the investigation; every message and tool result goes to `transcript`."""
        ...

    async def aclose(self) -> None:
        """Release what the driver holds."""
        ...


class LoopDriver:
    """Seer's own loop (`AgentLoop`) around a provider, with the run's options and who answers checkpoints."""

    host_tools = False
    prices_its_turns = True

    def __init__(
        self,
        provider: Provider,
        *,
        options: LoopOptions | None = None,
        interaction: Interaction | None = None,
        answerer: Callable[[str], Awaitable[str]] | None = None,
        run_loop: Callable[[AgentLoop, list[Message]], Awaitable[Outcome]] | None = None,
    ) -> None:
        self.provider = provider
        self.name, self.model = provider.name, provider.model
        self.options, self.interaction, self.answerer = options or LoopOptions(), interaction, answerer
        self._run_loop = run_loop

    async def drive(self, session: Session, tools: Toolset, *, task: str, system: str, budget: Budget, transcript: Transcript) -> Outcome:
        loop = AgentLoop(
            self.provider, session, tools, system=system, budget=budget, transcript=transcript,
            options=self.options, interaction=self.interaction, answerer=self.answerer,
        )  # fmt: skip
        messages = [Message("user", [Text(task)])]
        return await (self._run_loop(loop, messages) if self._run_loop else loop.run(messages))

    async def aclose(self) -> None:
        """Nothing: the provider's creator closes it."""
