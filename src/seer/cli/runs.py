"""`seer run`, `seer chat`, `seer resume`, `seer prompt`: agent runs from the command line.

TARGET is the name of a packaged task (`seer tasks`), a task folder (holding `task.md`, and `env.toml`
if it needs one), a `task.md` file, or an environment TOML (then `--task` or `--task-file` gives the
task). API keys come from the environment or from a `.env` file in the current folder.
"""

from __future__ import annotations

import inspect
import json
import signal
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import typer

from seer.agent.budget import Budget
from seer.agent.loop import LoopOptions, Outcome
from seer.agent.terminal import TerminalInteraction, event_printer
from seer.cli.options import (
    BaseUrlOpt,
    CostOpt,
    HostToolsOpt,
    KeyEnvOpt,
    LibraryOpt,
    MethodOpt,
    ModelOpt,
    NewCostOpt,
    NewTokensOpt,
    NewTurnsOpt,
    NewWallOpt,
    PageOpt,
    ParallelOpt,
    PlanOpt,
    ProviderOpt,
    ReplyOpt,
    RunIdOpt,
    RunsOpt,
    SeedOpt,
    SkillOpt,
    StyleOpt,
    Target,
    TargetEnvOpt,
    TargetModelOpt,
    TaskFileOpt,
    TaskOpt,
    TokensOpt,
    ToolkitOpt,
    TurnsOpt,
    ViewOpt,
    WallOpt,
    build_provider,
    fail,
    load_dotenv,
    load_env,
    not_a_target,
)
from seer.environment import Environment
from seer.errors import SeerError, SpecError
from seer.prompt import system_prompt
from seer.record.requests import request_stop, stop_request
from seer.record.run_record import RunRecord, read_run
from seer.run import RunDir
from seer.skills import Equipment
from seer.task import find_task

if TYPE_CHECKING:
    from seer.session import Session

__all__ = ["RunRequest", "chat", "prompt", "resume", "run"]


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One `seer run` or `seer chat`, its options parsed: what to investigate, which agent, under which limits."""

    target: Path | None
    task: str | None
    task_file: Path | None
    env: Path | None
    equipment: Equipment
    provider: str
    model: str | None
    base_url: str | None
    api_key_env: str | None
    plan: Path | None
    host_tools: bool = False
    runs_dir: Path
    run_id: str | None = None
    budget: Budget
    options: LoopOptions = field(default_factory=LoopOptions)
    methodology: bool
    style_guide: bool
    interactive: bool = False
    """A conversation in this terminal (`seer chat`) rather than a batch run."""
    view: bool = False
    page_checkpoints_s: float | None = None
    parallel: int = 1
    seed: int | None = None
    target_model: list[str] | None = None
    """`--target [NAME=]ID`: the real-model recipe of a replication task, on these models."""

    def make_provider(self) -> Any:
        """A fresh provider as the options name it."""
        return build_provider(self.provider, self.model, self.base_url, self.api_key_env, self.plan, self.host_tools)

    def provider_settings(self) -> dict[str, Any]:
        """What `seer resume` needs to rebuild the provider (never the key itself): the name chosen, which
        can differ from the adapter's (`openrouter` and a plugin's name both name their adapter's)."""
        return {"provider": self.provider, "base_url": self.base_url, "api_key_env": self.api_key_env, "plan": str(self.plan.resolve()) if self.plan else None}

    @classmethod
    def from_options(
        cls, *, skill: list[str] | None = None, library: list[Path] | None = None, toolkit: bool | None = None,
        max_turns: str, max_tokens: str, max_cost: str, max_wall: str, checkpoint_reply: str | None = None,
        page_checkpoints: str | None = None, **fields: Any,
    ) -> RunRequest:
        """The request the options of `seer run` or `seer chat` (as typer parsed them) stand for; raises
        SpecError naming a limit that is not a positive number."""
        return cls(
            equipment=Equipment(skill or [], library or [], toolkit),
            budget=_budget(max_turns, max_tokens, max_cost, max_wall),
            options=LoopOptions(checkpoint_reply=checkpoint_reply) if checkpoint_reply else LoopOptions(),
            page_checkpoints_s=_limit(page_checkpoints or ("600" if fields.get("view") else "none"), "--page-checkpoints", float),
            **fields,
        )  # fmt: skip


def _limit(value: str, name: str, cast: type[float] | type[int]) -> Any:
    if value.strip().lower() in ("none", "off", ""):
        return None
    try:
        number = cast(value)
    except ValueError:
        raise SpecError(f"{name} {value!r} is not a number; give a number or `none`") from None
    if number <= 0:
        raise SpecError(f"{name} must be positive (got {value}); use `none` for no limit")
    return number


def _budget(turns: str, tokens: str, cost: str, wall: str) -> Budget:
    return Budget(
        turns=_limit(turns, "--max-turns", int),
        tokens=_limit(tokens, "--max-tokens", int),
        cost_usd=_limit(cost, "--max-cost", float),
        wall_s=_limit(wall, "--max-wall", float),
    )


def _target(
    target: Path | None, env_file: Path | None, task: str | None, task_file: Path | None
) -> tuple[Environment, str, Path | None]:
    """The environment, task text and task folder (if any) a TARGET (plus options) stands for."""
    env_path = env_file
    task_text = task
    if target is not None and not target.exists() and (found := find_task(target)) is not None:
        return (Environment.from_toml(env_file) if env_file else found.environment), task_text or found.agent_prompt, found.path
    task_dir = target.resolve() if target is not None and target.is_dir() else None
    if target is not None:
        if target.is_dir():
            if not (target / "task.md").is_file():
                raise SpecError(f"{target}: a task folder holds a task.md; none found")
            task_text = task_text or (target / "task.md").read_text()
            if env_path is None and (target / "env.toml").is_file():
                env_path = target / "env.toml"
        elif target.suffix == ".toml":
            env_path = target
        elif target.is_file():
            task_text = task_text or target.read_text()
        else:
            raise SpecError(not_a_target(target))
    if task_file is not None:
        try:
            task_text = task_file.read_text()
        except OSError as exc:
            raise SpecError(f"--task-file {str(task_file)!r}: {exc.strerror}") from None
    if not task_text or not task_text.strip():
        raise SpecError("no task given: pass a task name (`seer tasks`), a task folder or task.md, or `--task TEXT`")
    if task_dir is not None and not (task_dir / "ground_truth.json").is_file():
        task_dir = None  # a folder with a task.md but no ground truth: nothing for a judge
    return load_env(env_path), task_text, task_dir


def _recipe(target: Path | None, models: list[str]) -> Environment:
    """The real-model recipe (`target.toml`) of the task `target` names, on the `--target` models."""
    task = find_task(target) if target is not None else None
    if task is None:
        raise SpecError("--target points a replication task's recipe at a model: give the task's name or folder first")
    pairs: dict[str | None, str] = {}
    for given in models:
        name, sep, model_id = given.partition("=")
        if sep and (not name.isidentifier() or not model_id):
            raise SpecError(f"--target {given!r}: expected ID or NAME=ID, with NAME one of the recipe's model names")
        pairs[name if sep else None] = model_id if sep else given
    return task.target_environment(pairs)


def _report(run_path: Path, outcome: Outcome) -> None:
    typer.echo(f"\nStopped: {outcome.reason}" + (f" ({outcome.detail})" if outcome.detail else ""))
    typer.echo(f"Notebook:   {run_path / 'notebook.ipynb'}")
    typer.echo(f"Transcript: {run_path / 'transcript.jsonl'}")
    if (run_path / "report.md").exists():
        typer.echo(f"Report:     {run_path / 'report.md'}")
    spent = outcome.spent
    cost = f"${spent.cost_usd:.4f}" if spent.cost_known else "unknown (model not in the price table)"
    typer.echo(f"Spent: {spent.turns} turns, {spent.tokens:,} tokens, {cost}, {spent.wall_s:.1f} s")


async def _viewed(go: Any, runs_dir: Path) -> tuple[Path, Outcome]:
    """Run `go` with the viewer served beside it; the viewer stops with the run."""
    from seer.viewer.serve import serve_viewer

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: serve_viewer(runs_dir, port=_free_or_any(8765), say=typer.echo))
        result = await go
        tasks.cancel_scope.cancel()
    return result


def _free_or_any(port: int) -> int:
    """`port` if nothing listens there, else 0 (any free port)."""
    with socket.socket() as probe:
        return port if probe.connect_ex(("127.0.0.1", port)) != 0 else 0


async def _run_parallel(providers: list[Any], **kw: Any) -> list[tuple[Path, Outcome] | SeerError]:
    from seer.agent.runner import run_many

    async with AsyncExitStack() as stack:
        for provider in providers:
            await stack.enter_async_context(aclosing(provider))
        return await run_many(kw.pop("env"), kw.pop("task"), providers, **kw)


def _report_many(results: list[tuple[Path, Outcome] | SeerError]) -> None:
    for index, result in enumerate(results, 1):
        if isinstance(result, SeerError):
            typer.echo(f"[{index}] failed: {result}")
        else:
            path, outcome = result
            typer.echo(f"[{index}] {outcome.reason}: {path}")
    failed = sum(isinstance(r, SeerError) for r in results)
    if failed:
        raise typer.Exit(1)


async def _run(interactive: bool, view: bool = False, **kw: Any) -> tuple[Path, Outcome]:
    from seer.agent.runner import run_agent

    if view:
        runs_dir = kw["runs_dir"]
        return await _viewed(_run(interactive, **kw), runs_dir)
    interaction = TerminalInteraction() if interactive else None
    sessions: list[Session] = []
    async with aclosing(kw.pop("provider")) as provider:
        go = run_agent(
            kw.pop("env"), kw.pop("task"), provider, interaction=interaction, on_event=event_printer(),
            on_session=interaction.attach if interaction else sessions.append, **kw,
        )  # fmt: skip
        result: tuple[Path, Outcome] | None = None
        try:
            async with anyio.create_task_group() as tasks:
                if interaction is not None:
                    tasks.start_soon(_interrupts, interaction)
                else:
                    tasks.start_soon(_ctrl_c_stops, sessions, tasks.cancel_scope)
                result = await go
                tasks.cancel_scope.cancel()
        except ExceptionGroup as group:  # a SeerError from inside the task group: show it, not the group
            first = group.exceptions[0]
            raise first if isinstance(first, SeerError) else group from None
        if result is None:  # a second Ctrl-C
            raise typer.Exit(130)
        return result


async def _interrupts(interaction: TerminalInteraction) -> None:
    with anyio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            typer.echo("\n[interrupted: the running cell is stopped; you speak before the next turn]")
            await interaction.on_interrupt()


async def _ctrl_c_stops(sessions: list[Session], run: anyio.CancelScope) -> None:
    """In a batch run, the first Ctrl-C stops the run as the viewer's Stop button does (the record stays
    whole, `seer resume` can go on); a second one quits at once."""
    with anyio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            if not sessions or stop_request(sessions[0].run.path) is not None:
                typer.echo("\n[quitting]")
                run.cancel()
                return
            typer.echo("\n[stopping: the running cell is interrupted and the run ends; Ctrl-C again to quit at once]")
            request_stop(sessions[0].run.path, "Ctrl-C in the terminal")


def _start(request: RunRequest) -> None:
    """Carry out `request`: one run (viewed, if asked) or several in parallel, then say where they are."""
    load_dotenv()
    try:
        if request.run_id is not None and request.parallel > 1:
            raise SpecError("--run-id names one run: it cannot be combined with --parallel")
        environment, task_text, task_dir = _target(request.target, request.env, request.task, request.task_file)
        if request.target_model:
            environment = _recipe(request.target, request.target_model)
        environment = request.equipment.apply(environment)
        common: dict[str, Any] = {
            "env": environment, "task": task_text, "task_dir": task_dir, "budget": request.budget,
            "runs_dir": request.runs_dir, "options": request.options, "methodology": request.methodology,
            "style_guide": request.style_guide, "provider_settings": request.provider_settings(), "seed": request.seed,
        }  # fmt: skip
        if request.parallel > 1:
            providers = [request.make_provider() for _ in range(request.parallel)]
            _report_many(anyio.run(lambda: _run_parallel(providers, **common)))
            return
        chosen = request.make_provider()
        run_path, outcome = anyio.run(
            lambda: _run(
                request.interactive, request.view, provider=chosen, page_checkpoints_s=request.page_checkpoints_s,
                run_id=request.run_id, **common,
            )
        )  # fmt: skip
    except SeerError as exc:
        raise fail(exc) from None
    _report(run_path, outcome)


def run(
    target: Target = None,
    provider: ProviderOpt = "anthropic", model: ModelOpt = None, base_url: BaseUrlOpt = None, api_key_env: KeyEnvOpt = None,
    plan: PlanOpt = None, host_tools: HostToolsOpt = False,
    task: TaskOpt = None, task_file: TaskFileOpt = None, env: TargetEnvOpt = None,
    skill: SkillOpt = None, library: LibraryOpt = None, toolkit: ToolkitOpt = None,
    runs_dir: RunsOpt = Path("runs"), run_id: RunIdOpt = None,
    max_turns: TurnsOpt = "60", max_tokens: TokensOpt = "none", max_cost: CostOpt = "5", max_wall: WallOpt = "3600",
    methodology: MethodOpt = True, style_guide: StyleOpt = True, checkpoint_reply: ReplyOpt = None,
    view: ViewOpt = False, page_checkpoints: PageOpt = None, parallel: ParallelOpt = 1, seed: SeedOpt = None,
    target_model: TargetModelOpt = None,
) -> None:  # fmt: skip
    """Run a headless investigation and print where the notebook, transcript and report are."""
    _start_from(dict(locals()))


_BATCH_ONLY = ("run_id", "checkpoint_reply", "host_tools", "view", "page_checkpoints", "parallel", "seed")
"""Options of `seer run` that a conversation in the terminal does without."""


def _options_of(command: Callable[..., None], *, without: tuple[str, ...], defaults: dict[str, Any]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give the decorated command (which takes `**options`) the options of `command`, less `without`,
    with other `defaults`: one list of options for typer to read, and `--help` stays true for both."""

    def share(shared: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        kept = [p.replace(default=defaults.get(p.name, p.default)) for p in signature.parameters.values() if p.name not in without]
        shared.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
        shared.__annotations__ = {p.name: p.annotation for p in kept} | {"return": "None"}
        return shared

    return share


@_options_of(run, without=_BATCH_ONLY, defaults={"max_turns": "200", "max_wall": "none"})
def chat(**options: Any) -> None:
    """Investigate together with the agent in this terminal.

    Ctrl-C stops the running cell and lets you speak before the next turn; an empty line or /quit
    ends the run.
    """
    _start_from(options | {"interactive": True})


def _start_from(options: dict[str, Any]) -> None:
    try:
        request = RunRequest.from_options(**options)
    except SeerError as exc:
        raise fail(exc) from None
    _start(request)


def resume(
    run_dir: Annotated[Path, typer.Argument(help="The run directory to continue (runs/<run-id>).")],
    provider: Annotated[str | None, typer.Option("--provider", help="Default: the run's own.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Default: the run's own.")] = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = None,
    plan: PlanOpt = None,
    max_turns: NewTurnsOpt = None,
    max_tokens: NewTokensOpt = None,
    max_cost: NewCostOpt = None,
    max_wall: NewWallOpt = None,
) -> None:
    """Continue a stopped or killed run under the rest of its budget, or under raised limits.

    The conversation is rebuilt from the transcript and the kernel restored by re-running the
    notebook's completed cells. A run stopped by its budget goes on once a `--max-*` option raises that
    limit; the raise is recorded in run.json and told to the agent.
    """
    from seer.agent.runner import resume_agent

    load_dotenv()
    try:
        record = read_run(run_dir)
    except SeerError as exc:
        raise fail(exc) from None
    agent = record.agent
    if not agent:
        raise fail(SeerError(_unresumable(run_dir, record)))
    try:
        budget = _changed_budget(record, max_turns, max_tokens, max_cost, max_wall)
        chosen, _ = _agent_of(agent, provider, model, base_url, api_key_env, plan)

        async def go() -> Outcome:
            async with aclosing(chosen):
                return await resume_agent(run_dir, chosen, budget=budget, on_event=event_printer())

        outcome = anyio.run(go)
    except SeerError as exc:
        raise fail(exc) from None
    _report(run_dir.resolve(), outcome)


def _agent_of(agent: dict[str, Any], provider: str | None, model: str | None, base_url: str | None, api_key_env: str | None,
              plan: Path | None) -> tuple[Any, dict[str, Any]]:
    """The provider a resumed or forked run goes on with (each option given, else the run's own) and its record."""
    settings = {"provider": provider or agent.get("provider", "anthropic"), "model": model or agent.get("model"),
                "base_url": base_url or agent.get("base_url"), "api_key_env": api_key_env or agent.get("api_key_env"),
                "plan": str(plan.resolve()) if plan else agent.get("plan")}  # fmt: skip
    chosen = build_provider(settings["provider"], settings["model"], settings["base_url"], settings["api_key_env"],
                            Path(settings["plan"]) if settings["plan"] else None)  # fmt: skip
    return chosen, {**agent, **settings}


def _changed_budget(record: RunRecord, turns: str | None, tokens: str | None, cost: str | None, wall: str | None) -> Budget | None:
    """The run's budget with the limits given on the command line changed; None when none is given."""
    if all(v is None for v in (turns, tokens, cost, wall)):
        return None
    held = record.budget or {}
    given = {"turns": turns, "tokens": tokens, "cost_usd": cost, "wall_s": wall}
    return _budget(*(str(held.get(k)) if v is None else v for k, v in given.items()))


def fork(
    run_dir: Annotated[Path, typer.Argument(help="The run to fork (runs/<run-id>); it is not changed.")],
    at_turn: Annotated[int | None, typer.Option("--at-turn", min=1, help="Keep the parent's first N model turns and their results.")] = None,
    at_cell: Annotated[int | None, typer.Option("--at-cell", min=0, help="Keep the history up to the turn that made notebook cell N.")] = None,
    instruction: Annotated[str | None, typer.Option("--add-instruction", help="A message from you the fork's agent gets before it goes on.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Default: the parent's own.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Default: the parent's own.")] = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = None,
    plan: PlanOpt = None,
    max_turns: NewTurnsOpt = None,
    max_tokens: NewTokensOpt = None,
    max_cost: NewCostOpt = None,
    max_wall: NewWallOpt = None,
    run_id: RunIdOpt = None,
) -> None:
    """Start a new run from a point of an earlier one: its transcript up to that turn, the notebook cells those
    turns made (the kernel state replayed), its workspace copied; then go on, with the parent's agent or
    another. The fork's run.json names its parent; the parent is left as it was.
    """
    from seer.agent.fork import fork_run, turn_of_cell
    from seer.agent.runner import resume_agent
    from seer.record.transcript import read_events

    load_dotenv()
    if (at_turn is None) == (at_cell is None):
        raise typer.BadParameter("give one of --at-turn N or --at-cell N")
    try:
        record = read_run(run_dir)
        agent = record.agent or {}
        if at_cell is not None:
            at_turn = turn_of_cell(read_events(run_dir / "transcript.jsonl"), json.loads((run_dir / "notebook.ipynb").read_text()), at_cell)
        assert at_turn is not None
        budget = _changed_budget(record, max_turns, max_tokens, max_cost, max_wall)
        chosen, settings = _agent_of(agent, provider, model, base_url, api_key_env, plan)
        child = fork_run(run_dir, at_turn=at_turn, run_id=run_id)
        RunDir(child).update_record(agent=settings)  # the fork's own agent, for a later `seer resume` of it
        typer.echo(f"Forked {run_dir.resolve().name} at turn {at_turn}: {child}")
        note = f"This run was forked from {run_dir.resolve().name} at turn {at_turn}; the kernel holds that point's state. Continue."

        async def go() -> Outcome:
            async with aclosing(chosen):
                return await resume_agent(child, chosen, budget=budget, on_event=event_printer(), note=note, instruction=instruction)

        outcome = anyio.run(go)
    except SeerError as exc:
        raise fail(exc) from None
    _report(child, outcome)


def _unresumable(run_dir: Path, record: RunRecord) -> str:
    """Why a run with no agent in its record cannot be resumed, and what to do instead."""
    if "mcp" in record.argv[1:2]:
        return (f"{run_dir} was a `seer mcp` session: its agent was the MCP client, which Seer cannot restart; "
                "open its notebook, or start a new session with `seer mcp`")  # fmt: skip
    return (f"{run_dir} stopped during start-up (status {record.status!r}"
            + (f": {record.error}" if record.error else "")
            + ") before its agent began, so there is nothing to resume; start it again with `seer run`")


def prompt(
    target: Target = None,
    env: TargetEnvOpt = None,
    skill: SkillOpt = None,
    library: LibraryOpt = None,
    toolkit: ToolkitOpt = None,
    methodology: MethodOpt = True,
    style_guide: StyleOpt = True,
) -> None:
    """Print the exact system prompt an agent would get for TARGET (or the default environment) and, for a
    task, the task text it is given as its first message."""
    try:
        if target is None or target.suffix == ".toml":
            environment, task_text = load_env(target or env), None
        else:
            environment, task_text, _ = _target(target, env, None, None)
        environment = Equipment(skill or [], library or [], toolkit).apply(environment)
    except SeerError as exc:
        raise fail(exc) from None
    typer.echo(system_prompt(environment, methodology=methodology, style_guide=style_guide))
    if task_text is not None:
        typer.echo(f"\n## Task\n\n{task_text.strip()}")
