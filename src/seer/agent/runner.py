"""Start, record and resume agent runs: a session, a provider, a budget, a transcript.

`run_agent` writes the provenance to `run.json` before the first model call (provider, model,
endpoint, system prompt, the exact tool manifest, budget, task, git commit) and the outcome after
the last. `resume_agent` rebuilds the conversation from the transcript, restores the kernel, and goes
on under what is left of the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import anyio

from seer.agent.budget import Budget
from seer.agent.driver import Driver, LoopDriver
from seer.agent.history import rebuild
from seer.agent.loop import AgentLoop, Interaction, LoopOptions, Outcome
from seer.agent.messages import Message, Text
from seer.agent.providers.base import Provider
from seer.environment import Environment
from seer.errors import SeerError, SpecError
from seer.investigation import start_investigation
from seer.prompt import system_prompt
from seer.record.requests import PageAnswers, clear_stop, wait_for_stop
from seer.record.transcript import Transcript, read_events
from seer.run import now_iso
from seer.session import Session
from seer.task import Task
from seer.tools.agent import agent_tools
from seer.tools.base import Toolset
from seer.tools.scoped import scoped_session_tools
from seer.tools.shell import mode_tools

__all__ = ["agent_toolset", "resume_agent", "run_agent", "run_many", "session_toolset"]

RESUMED = "The run was interrupted and has been resumed; the kernel state was restored from the notebook. Continue."


log = logging.getLogger("seer")


def agent_toolset(mode: str = "notebook") -> Toolset:
    """The tools an agent gets in a session of `mode` (`Environment.mode`): the notebook tools, the shell
    tools or both, plus `checkpoint`."""
    return Toolset.combine("agent", mode_tools(mode), agent_tools)


async def session_toolset(session: Session) -> Toolset:
    """The tools for an agent in `session`: in a scoped-only session, the exposed functions, the skill
    tools, `finish` and `checkpoint`; otherwise `agent_toolset()`. `finish` shows the task's answer shape."""
    if session.has_kernel or session.scope is None:
        tools = agent_toolset(session.env.mode)
    else:
        tools = Toolset.combine("agent", await scoped_session_tools(session.scope, session.scope_record), agent_tools)
    shape = session.answer_shape
    return tools if shape is None else tools.with_schema("finish", "answer", shape.json_schema(), required=True)


def _git_commit() -> str | None:
    """The commit of the Seer checkout in use, if it is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _provider_record(provider: Provider | Driver) -> dict[str, Any]:
    record: dict[str, Any] = {"provider": provider.name, "model": provider.model}
    if provider.name == "scripted":
        record["note"] = "scripted agent: a fixed plan replayed, no model involved"
    return record


def _finish_record(session: Session, outcome: Outcome) -> None:
    if outcome.report and not (session.run.path / "report.md").exists():
        (session.run.path / "report.md").write_text(outcome.report)
    session.run.update_record(
        status="finished" if outcome.reason == "finished" else "stopped",
        stop={"reason": outcome.reason, "limit": outcome.limit, "detail": outcome.detail},
        spent=outcome.spent.as_dict(),
        report=outcome.report,
        ended_at=now_iso(),
    )


async def run_agent(
    env: Environment,
    task: str,
    provider: Provider | Driver,
    *,
    budget: Budget | None = None,
    runs_dir: str | Path = "runs",
    options: LoopOptions | None = None,
    interaction: Interaction | None = None,
    methodology: bool = True,
    style_guide: bool = True,
    provider_settings: dict[str, Any] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_session: Callable[[Session], None] | None = None,
    task_dir: Path | None = None,
    page_checkpoints_s: float | None = None,
    run_id: str | None = None,
    seed: int | None = None,
    variant: str | None = None,
) -> tuple[Path, Outcome]:
    """Run one investigation from start to stop; returns the run directory and how it ended.

    `on_event` sees every transcript event as it is written; `on_session` gets the live session
    once it has started (to interrupt it from a terminal). `task_dir` is recorded so `seer judge` can
    find the task's ground truth (which the agent never sees). With `page_checkpoints_s`, checkpoint
    questions wait that long for an answer from the viewer's page (`seer view`). A task with a pool of
    hidden answers gets the variant `seed` draws (default: a random seed), or the one named `variant` (the
    gallery runs a task's public one), recorded where the agent cannot look; the session is blind (`seer.blind`) and `finish` takes the task's structured answer.

    Raises:
        SpecError: The budget asks for a cost limit on a model with no known price.
        SandboxError: The session could not start.
    """
    budget = budget or Budget()
    if not isinstance(provider, Driver) or provider.prices_its_turns:  # Claude Code reports its own cost
        budget.check_priced(provider.name, provider.model)
    graded = Task.load(task_dir) if task_dir is not None else None
    host = "the agent has host tools (Claude Code's Bash, Read…): it can read this machine" if isinstance(provider, Driver) and provider.host_tools else None
    if host and env.sandbox.blind == "required":
        raise SpecError(f"sandbox.blind is 'required' but {host}; drop --host-tools")
    investigation = await start_investigation(env, task, graded=graded, seed=seed, runs_dir=runs_dir, run_id=run_id, variant_name=variant)
    session, env = investigation.session, investigation.env
    if host and session.run.read_record().get("blind"):
        log.warning("seer: this run is NOT blind (%s)", host)
        session.run.update_record(blind={"blind": False, "reason": host})
    if on_session is not None:
        on_session(session)
    try:
        tools = await session_toolset(session)
        functions = await session.scope.manifest() if session.scope is not None else None
        system = system_prompt(env, methodology=methodology, style_guide=style_guide, functions=functions)
        session.run.update_record(
            agent={**_provider_record(provider), **(provider_settings or {})},
            system_prompt=system,
            tools=tools.specs(),
            budget=asdict(budget),
            options=asdict(options or LoopOptions()),
            seer_git_commit=_git_commit(),
            interactive=interaction is not None,
        )
        transcript = Transcript(session.run.path, observer=on_event)
        transcript.append("user", text=task, source="task")
        if isinstance(provider, Driver):
            driver: Driver = provider
        else:
            answerer = PageAnswers(session.run.path, wait_s=page_checkpoints_s) if page_checkpoints_s else None
            driver = LoopDriver(provider, options=options, interaction=interaction, answerer=answerer, run_loop=_run_stoppable)
        outcome = await driver.drive(session, tools, task=task, system=system, budget=budget, transcript=transcript)
        _finish_record(session, outcome)
        return session.run.path, outcome
    finally:
        await session.close()


def _budget_note(held: Budget, budget: Budget) -> str:
    """What the agent is told when a resumed run's limits change."""
    changes = [f"{name} {getattr(held, name)} -> {getattr(budget, name)}" for name in ("turns", "tokens", "cost_usd", "wall_s")
               if getattr(held, name) != getattr(budget, name)]  # fmt: skip
    return f"The run's budget was changed on resume ({', '.join(changes)}; None is no limit). Continue."


async def _run_stoppable(loop: AgentLoop, messages: list[Message]) -> Outcome:
    """`loop.run(messages)`, stopped when the viewer's page asks (a `stop.json` in the run directory)."""

    async def watch() -> None:
        why = await wait_for_stop(loop.session.run.path)
        with contextlib.suppress(SeerError):  # a kernel that cannot be interrupted still ends before the next step
            await loop.stop(why)

    watcher = asyncio.create_task(watch())
    try:
        return await loop.run(messages)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def run_many(
    env: Environment, task: str, providers: Sequence[Provider | Driver], **options: Any
) -> list[tuple[Path, Outcome] | SeerError]:
    """Run one investigation per provider at once (the same task and environment, each in its own session
    and run directory); `options` are `run_agent`'s. Returns, in order, each run's directory and outcome,
    or the SeerError that stopped it; one failing run does not stop the others."""
    results: list[tuple[Path, Outcome] | SeerError] = [SeerError("did not run")] * len(providers)

    async def one(index: int, provider: Provider | Driver) -> None:
        try:
            results[index] = await run_agent(env, task, provider, **options)
        except SeerError as exc:
            results[index] = exc

    async with anyio.create_task_group() as tasks:
        for index, provider in enumerate(providers):
            tasks.start_soon(one, index, provider)
    return results


async def resume_agent(
    run_path: str | Path,
    provider: Provider | Driver,
    *,
    budget: Budget | None = None,
    options: LoopOptions | None = None,
    interaction: Interaction | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_session: Callable[[Session], None] | None = None,
    note: str = RESUMED,
    instruction: str | None = None,
) -> Outcome:
    """Continue a stopped or killed run in its own run directory. `note` tells the agent why it goes on (the
    default only when its last message was its own; another, such as a fork's, always); `instruction` adds a
    message from the researcher.

    Raises:
        SeerError: The run finished already, or has no transcript to resume from.
    """
    run_path = Path(run_path).resolve()
    if isinstance(provider, Driver):
        raise SeerError("runs driven by Claude Code cannot be resumed by Seer yet; start a new run")
    events = read_events(run_path / "transcript.jsonl")
    if not events:
        raise SeerError(f"{run_path} has no transcript.jsonl to resume from; start a new run with `seer run`")
    if events[-1]["kind"] == "stopped" and events[-1]["reason"] == "finished":
        raise SeerError(f"{run_path.name} already finished with a report; start a new run instead")
    messages, spent = rebuild(events, run_path)
    session = await Session.reopen(run_path)
    if on_session is not None:
        on_session(session)
    try:
        record = session.run.read_record()
        held = Budget(**record["budget"])
        budget = budget or held
        transcript = Transcript(run_path, observer=on_event)
        if messages[-1].role == "assistant" or note != RESUMED:  # a fork is always told where it starts
            messages.append(Message("user", [Text(note)]))
            transcript.append("user", text=note, source="resume")
        if instruction:
            messages.append(Message("user", [Text(instruction)]))
            transcript.append("user", text=instruction, source="researcher")
        if budget != held:
            note = _budget_note(held, budget)
            messages.append(Message("user", [Text(note)]))  # as `rebuild` reads it back: one message per user event
            transcript.append("user", text=note, source="budget")
            raises = [*record.get("budget_raises", []), {"at": now_iso(), "from": asdict(held), "to": asdict(budget)}]
            session.run.update_record(budget=asdict(budget), budget_raises=raises)
        loop = AgentLoop(
            provider, session, await session_toolset(session), system=record["system_prompt"], budget=budget,
            transcript=transcript, options=options or LoopOptions(**record.get("options", {})),
            interaction=interaction, spent=spent,
        )  # fmt: skip
        if loop.manifest != record["tools"]:
            raise SeerError("this Seer's tools differ from the ones the run started with; resume it with that version")
        session.run.update_record(resumes=record.get("resumes", 0) + 1)
        clear_stop(run_path)  # a stop asked of the run before it was resumed is done with
        outcome = await _run_stoppable(loop, messages)
        _finish_record(session, outcome)
        return outcome
    finally:
        await session.close()
