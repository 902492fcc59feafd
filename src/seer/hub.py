"""The sessions one `seer mcp` serves: started, attached and stopped by the MCP client, or one fixed session.

With no environment, `seer mcp` is a hub: the client lists what ships (`list_tasks`), starts sessions on a
task, an environment file or an inline environment (`start_session`, with progress while models load),
switches between them (`attach`), and stops them (`stop_session`). Each client works in the session it
started or attached last; every session tool also takes `session` to name another. With `--env` or
`--task` the server holds one session, started in the background as it comes up (the fixed mode).

Everything a client may read here is what the agent may see: the task text, models by variable when
hidden, the notebook, the workspace and the run's artifacts, never `run.json` or the task's answer.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS

from seer.answer import AnswerShape
from seer.environment import Environment
from seer.errors import SeerError, SpecError, ToolError
from seer.investigation import Investigation, start_investigation
from seer.notebook import cell_meta
from seer.outputs import render_outputs
from seer.prompt import system_prompt, toolkit_sheet
from seer.session import Session
from seer.skills import Equipment, packaged_skills
from seer.task import Task, find_task, packaged_tasks
from seer.tools.agent import agent_tools
from seer.tools.base import ToolContext, ToolResult, Toolset
from seer.tools.mcp import Caller, McpApp
from seer.tools.notebook import notebook_tools
from seer.tools.scoped import scoped_session_tools

__all__ = ["Held", "Hub", "HubCall", "hub_tools"]

HEARTBEAT_S = 5.0
"""How often a client waiting for a session to start hears that it is still starting."""

SESSION_ARGUMENT = {
    "type": "string",
    "description": "The session to act in (list_sessions names them); by default the one you started or attached last.",
}

HUB_INSTRUCTIONS = """\
Seer: live Jupyter notebook sessions for interpretability research on language models.
Start a session with start_session (a packaged task by name, an environment file, or an inline environment);
list_tasks shows what ships. The session's models are loaded in the kernel; run Python with execute_code,
write notes with add_markdown, review with read_notebook, and hand in the final report with finish
(cite cell numbers). get_task repeats the task, the models and the toolkit; stop_session ends a session."""


@dataclass
class Held:
    """A session the hub holds: starting, ready, failed, or finished."""

    name: str
    label: str
    """What it investigates: the task's name, or the environment's."""
    answer: AnswerShape | None = None
    """The structured answer `finish` takes (a graded task's), known before the session is up."""
    ready: anyio.Event = field(default_factory=anyio.Event)
    investigation: Investigation | None = None
    problem: SeerError | None = None
    step: str = "queued"

    @property
    def session(self) -> Session:
        """The live session.

        Raises:
            ToolError: It failed to start (the error says why) or is still starting.
        """
        if self.problem is not None:
            raise ToolError(f"session {self.name!r} could not start: {self.problem}")
        if self.investigation is None:
            raise ToolError(f"session {self.name!r} is still starting ({self.step})")
        return self.investigation.session

    def state(self) -> str:
        if self.problem is not None:
            return f"failed: {self.problem}"
        if self.investigation is None:
            return f"starting: {self.step}"
        return "finished" if self.investigation.session.finished_at else "ready"


@dataclass(frozen=True)
class HubCall:
    """What a lifecycle tool is given: the hub, and who calls."""

    hub: Hub
    caller: Caller


class Hub(McpApp):
    """The sessions this server holds and which one each client works in."""

    def __init__(self, runs_dir: Path, *, fixed: bool = False, envs_dir: Path | None = None) -> None:
        self.runs_dir = runs_dir
        self.fixed = fixed
        """One session started with the server; no lifecycle tools."""
        self.envs_dir = envs_dir or Path.cwd()
        self.held: dict[str, Held] = {}
        self.current: dict[str, str] = {}
        self.instructions = HUB_INSTRUCTIONS + "\n\n" + _catalog_brief()
        self.scoped: Toolset | None = None
        self._listings: dict[tuple[bool, str | None, bool], Toolset] = {}

    # --- running --------------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[anyio.abc.TaskGroup]:
        """Hold the sessions while the server runs; every one is closed on exit, whatever happens."""
        try:
            async with anyio.create_task_group() as tasks:
                yield tasks
        finally:
            with anyio.CancelScope(shield=True):
                for held in list(self.held.values()):
                    await held.ready.wait()
                    if held.investigation is not None:
                        await held.investigation.session.close()

    async def start(
        self, env: Environment, task: str, *, graded: Task | None, label: str, name: str | None = None, seed: int | None = None,
        caller: Caller | None = None,
    ) -> Held:
        """Start a session and wait for it, telling `caller` each step (and every few seconds that it is
        still going). The start goes on if the caller leaves: the session is held and closed with the hub."""
        name = self._free_name(name or label)
        held = self.held[name] = Held(name, label, graded.answer if graded else None)
        started = time.monotonic()

        async def step(message: str) -> None:
            held.step = message
            if caller is not None:
                await caller.note(message)

        async def heartbeat() -> None:
            while caller is not None:
                await anyio.sleep(HEARTBEAT_S)
                await caller.note(f"still {held.step} ({time.monotonic() - started:.0f} s)")

        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(heartbeat)
                try:
                    held.investigation = await start_investigation(env, task, graded=graded, seed=seed, runs_dir=self.runs_dir, progress=step)
                    self._record(held)
                except SeerError as exc:
                    held.problem = exc
                except Exception as exc:  # every start failure must reach the client as a result
                    held.problem = SeerError(f"unexpected error: {exc!r}")
                finally:
                    held.ready.set()
                    tasks.cancel_scope.cancel()
        if caller is not None and held.problem is None:
            self.current[caller.client] = name
        return held

    async def start_scoped(self, env: Environment, task: str, *, graded: Task | None, label: str) -> None:
        """Start a scoped-only session now (its tools are the scope server's functions, listed before any call)."""
        held = await self.start(env, task, graded=graded, label=label)
        self.scoped = await scoped_session_tools(held.session.scope, held.session.scope_record) if held.session.scope is not None else None

    def _free_name(self, wanted: str) -> str:
        base = "".join(c if c.isalnum() or c in "-_." else "-" for c in wanted) or "session"
        name, n = base, 1
        while name in self.held:
            n += 1
            name = f"{base}-{n}"
        return name

    def _record(self, held: Held) -> None:
        """What `run.json` says about a session an MCP client drives (the judge reads it like any run)."""
        session = held.session
        tools = self._session_tools(held, can_ask=False)
        session.run.update_record(agent={"provider": "mcp", "model": None, "note": "an MCP client drove this run"},
                                  system_prompt=self.briefing(held, can_ask=False), tools=tools.specs())  # fmt: skip

    # --- what a client sees ------------------------------------------------------------------------------

    def briefing(self, held: Held, *, can_ask: bool) -> str:
        """The session's task text, answer shape, models (hidden ones by variable), toolkit and skills."""
        investigation = held.investigation
        assert investigation is not None
        session = investigation.session
        head = f"Session `{held.name}` ({held.label}) · run {session.run.id} · notebook {session.run.notebook_path}"
        parts = [head, "## Task\n" + (investigation.task.strip() or "No task text: the question is yours.")]
        if session.answer_shape is not None:
            fields = ", ".join(f"{f[0]}: ..." for f in session.answer_shape.fields)
            parts.append(f"## Answer\nHand it in with finish(report, answer={{{fields}}}); the answer is graded as given.")
        functions = None if self.scoped is None else [{"name": t.name, "description": t.description} for t in self.scoped]
        parts.append(system_prompt(investigation.env, style_guide=False, functions=functions, checkpoint=can_ask))
        return "\n\n".join(parts)

    def _session_tools(self, held: Held | None, *, can_ask: bool) -> Toolset:
        """A session's tools; in the fixed mode `finish` shows the task's answer (the hub's sessions differ)."""
        tools = self.scoped if self.scoped is not None else notebook_tools
        tools = Toolset.combine("session", tools, agent_tools) if can_ask else tools
        if self.fixed and held is not None and held.answer is not None:
            tools = tools.with_schema("finish", "answer", held.answer.json_schema(), required=True)
        return tools

    def tools(self, caller: Caller) -> Toolset:
        fixed = next(iter(self.held.values())) if self.fixed and self.held else None
        key = (caller.ask is not None, fixed.name if fixed else None, self.scoped is not None)
        if key not in self._listings:  # built once: every call checks its tool against the listing
            tools = self._session_tools(fixed, can_ask=caller.ask is not None)
            if self.fixed:
                self._listings[key] = Toolset.combine("seer", tools, hub_tools.only("get_task"))
            else:
                for tool in tools:
                    tools = tools.with_schema(tool.name, "session", SESSION_ARGUMENT, required=False)
                self._listings[key] = Toolset.combine("seer", hub_tools, tools)
        return self._listings[key]

    def held_for(self, caller: Caller, name: str | None) -> Held:
        """The session a call addresses: `name`, else the caller's current one, else the only one.

        Raises:
            ToolError: There is no such session, or none to choose.
        """
        if name is not None:
            if name not in self.held:
                known = ", ".join(self.held) or "none yet"
                raise ToolError(f"there is no session {name!r}; the sessions are: {known}")
            return self.held[name]
        if caller.client in self.current and self.current[caller.client] in self.held:
            return self.held[self.current[caller.client]]
        if len(self.held) == 1:
            return next(iter(self.held.values()))
        if not self.held:
            raise ToolError("no session is running: start one with start_session(task=NAME) (list_tasks lists the tasks)")
        raise ToolError(f"several sessions are running ({', '.join(self.held)}); name one with session=NAME or attach to it")

    async def call(self, name: str, arguments: dict[str, Any] | None, caller: Caller) -> ToolResult:
        arguments = dict(arguments or {})
        if hub_tools.get(name) is not None and (not self.fixed or name == "get_task"):
            return await hub_tools.call(name, arguments, HubCall(self, caller))  # type: ignore[arg-type]
        chosen = arguments.pop("session", None) if not self.fixed else None
        try:
            held = self.held_for(caller, chosen if isinstance(chosen, str) else None)
            await held.ready.wait()
            session = held.session
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        tools = self._session_tools(held, can_ask=caller.ask is not None)
        return await tools.call(name, arguments, ToolContext(session, ask=caller.ask, progress=caller.progress))

    # --- resources, prompts, completions ----------------------------------------------------------------------

    def resources(self, caller: Caller) -> list[types.Resource] | None:
        found = [types.Resource(uri=f"seer://tasks/{n}", name=f"task {n}", description=t.summary, mime_type="text/markdown")
                 for n, t in packaged_tasks().items()]  # fmt: skip
        found += [types.Resource(uri=f"seer://skills/{n}", name=f"skill {n}", description=s.description, mime_type="text/markdown")
                  for n, s in packaged_skills().items()]  # fmt: skip
        for held in self.held.values():
            if held.investigation is None:
                continue
            base = f"seer://sessions/{held.name}"
            found.append(types.Resource(uri=f"{base}/task", name=f"{held.name}: task", mime_type="text/markdown"))
            found.append(types.Resource(uri=f"{base}/notebook", name=f"{held.name}: notebook", mime_type="application/x-ipynb+json"))
            for path in _files(held.session)[:200]:
                found.append(types.Resource(uri=f"{base}/files/{path}", name=f"{held.name}: {path}", mime_type=_mime(path)))
        return found

    def resource_templates(self) -> list[types.ResourceTemplate]:
        return [
            types.ResourceTemplate(uri_template="seer://sessions/{session}/cells/{index}", name="a notebook cell",
                                   description="A cell's source, its outputs as text and its figures as PNG"),
            types.ResourceTemplate(uri_template="seer://sessions/{session}/files/{path}", name="a run file",
                                   description="A file of the session's workspace or artifacts (figures, spilled outputs)"),
            types.ResourceTemplate(uri_template="seer://tasks/{name}", name="a packaged task's text", mime_type="text/markdown"),
            types.ResourceTemplate(uri_template="seer://skills/{name}", name="a packaged skill", mime_type="text/markdown"),
        ]  # fmt: skip

    async def read_resource(self, uri: str, caller: Caller) -> list[types.TextResourceContents | types.BlobResourceContents]:
        parts = uri.removeprefix("seer://").split("/")
        if uri.startswith("seer://tasks/") and len(parts) == 2 and parts[1] in packaged_tasks():
            return [types.TextResourceContents(uri=uri, mime_type="text/markdown", text=packaged_tasks()[parts[1]].agent_prompt)]
        if uri.startswith("seer://skills/") and len(parts) == 2 and parts[1] in packaged_skills():
            text = (packaged_skills()[parts[1]].path / "SKILL.md").read_text()
            return [types.TextResourceContents(uri=uri, mime_type="text/markdown", text=text)]
        if uri.startswith("seer://sessions/") and len(parts) >= 3 and parts[1] in self.held:
            held = self.held[parts[1]]
            try:
                session = held.session
            except ToolError as exc:
                raise MCPError(INVALID_PARAMS, str(exc)) from None
            return _session_resource(held, session, uri, parts[2:], self.briefing(held, can_ask=caller.ask is not None))
        raise MCPError(INVALID_PARAMS, f"there is no resource {uri}; resources/list and resources/templates/list show them")

    def prompts(self) -> list[types.Prompt] | None:
        task = types.PromptArgument(name="task", description="A packaged task's name (list_tasks)", required=True)
        return [
            types.Prompt(name="investigate", description="Investigate a packaged task in a new session, to a cited report", arguments=[task]),
            types.Prompt(name="task", description="A packaged task's text, as the agent is given it", arguments=[task]),
        ]

    def get_prompt(self, name: str, arguments: dict[str, str]) -> types.GetPromptResult:
        tasks = packaged_tasks()
        chosen = arguments.get("task", "")
        if name not in ("investigate", "task"):
            raise MCPError(INVALID_PARAMS, f"there is no prompt {name!r}; the prompts are: investigate, task")
        if chosen not in tasks:
            raise MCPError(INVALID_PARAMS, f"task {chosen!r} is not a packaged task; they are: {', '.join(tasks)}")
        text = tasks[chosen].agent_prompt
        if name == "investigate":
            text = (f"Investigate the Seer task `{chosen}`. Start a session with start_session(task=\"{chosen}\"), read what it "
                    "returns (the task, the models, the toolkit), work in small notebook cells with execute_code, note "
                    "hypotheses with add_markdown, and end with finish: a report citing the cells that show each claim.\n\n"
                    f"The task:\n\n{text}")  # fmt: skip
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        return types.GetPromptResult(description=tasks[chosen].summary, messages=[message])

    def complete(self, ref: types.PromptReference | types.ResourceTemplateReference, argument: str, value: str) -> list[str]:
        if isinstance(ref, types.PromptReference):
            choices = list(packaged_tasks()) if ref.name in ("investigate", "task") and argument == "task" else []
        elif argument == "session":
            choices = list(self.held)
        elif argument == "name" and ref.uri.startswith("seer://tasks/"):
            choices = list(packaged_tasks())
        elif argument == "name" and ref.uri.startswith("seer://skills/"):
            choices = list(packaged_skills())
        else:
            choices = []
        return [c for c in choices if c.startswith(value)]


def _catalog_brief() -> str:
    tasks = "\n".join(f"- `{n}`: {t.summary}" for n, t in packaged_tasks().items())
    skills = ", ".join(f"`{n}`" for n in packaged_skills())
    return f"Packaged tasks:\n{tasks}\n\nPackaged skills (add with start_session(skills=[...])): {skills}\n\n{toolkit_sheet()}"


def _files(session: Session) -> list[str]:
    """The run files a client may read: the workspace (the kernel sees it anyway) and the artifacts."""
    run = session.run.path
    found = []
    for folder in (session.run.workspace, session.run.artifacts):
        found += [str(p.relative_to(run)) for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()]
    return found


def _mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _session_resource(held: Held, session: Session, uri: str, rest: list[str], briefing: str) -> list[Any]:
    """A session's task, notebook, cell or file."""
    if rest == ["task"]:
        return [types.TextResourceContents(uri=uri, mime_type="text/markdown", text=briefing)]
    if rest == ["notebook"]:
        text = session.run.notebook_path.read_text()
        return [types.TextResourceContents(uri=uri, mime_type="application/x-ipynb+json", text=text)]
    if len(rest) == 2 and rest[0] == "cells":
        cells = session.notebook.cells
        if not rest[1].isdigit() or int(rest[1]) >= len(cells):
            raise MCPError(INVALID_PARAMS, f"session {held.name!r} has no cell {rest[1]}; its cells are 0 to {len(cells) - 1}")
        cell = cells[int(rest[1])]
        outputs = cell.get("outputs", [])
        shown = render_outputs(outputs, max_chars=100_000, max_images=0, where=f"cell {rest[1]}", whole_tracebacks=True) if outputs else None
        status = cell_meta(cell).get("status", cell["cell_type"])
        text = f"[cell {rest[1]} · {status}]\n{cell['source']}\n" + (f"--- output\n{shown.text}" if shown and shown.text else "")
        images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        return [types.TextResourceContents(uri=uri, mime_type="text/plain", text=text)] + [
            types.BlobResourceContents(uri=f"{uri}#figure-{i}", mime_type="image/png", blob=png if isinstance(png, str) else "".join(png))
            for i, png in enumerate(images)
        ]
    if rest and rest[0] == "files":
        wanted = "/".join(rest[1:])
        if wanted not in _files(session):
            raise MCPError(INVALID_PARAMS, f"session {held.name!r} has no file {wanted!r}; resources/list shows its files")
        data = (session.run.path / wanted).read_bytes()
        mime = _mime(wanted)
        if mime.startswith("text/") or mime in ("application/json", "application/x-ipynb+json"):
            return [types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode(errors="replace"))]
        return [types.BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(data).decode())]
    raise MCPError(INVALID_PARAMS, f"there is no resource {uri}; a session has task, notebook, cells/N and files/PATH")


# --- the lifecycle tools ------------------------------------------------------------------------------------

hub_tools = Toolset("hub")


@hub_tools.tool
async def list_tasks(ctx: HubCall) -> str:
    """List what ships with Seer: the packaged tasks, the packaged skills, and environment files found here."""
    hub = ctx.hub
    tasks = "\n".join(f"- {n}: {t.summary}" + (" [structured answer]" if t.answer else "") for n, t in packaged_tasks().items())
    skills = "\n".join(f"- {n}: {s.description}" for n, s in packaged_skills().items())
    envs = sorted(str(p.relative_to(hub.envs_dir)) for p in hub.envs_dir.glob("*/env.toml")) + sorted(
        str(p.relative_to(hub.envs_dir)) for p in hub.envs_dir.glob("*/*/env.toml") if not any(part.startswith(".") for part in p.parts)
    )
    env_text = "\n".join(f"- {e}" for e in envs) or f"(none under {hub.envs_dir})"
    return (f"Tasks (start_session(task=NAME)):\n{tasks}\n\nSkills (start_session(..., skills=[NAME])):\n{skills}\n\n"
            f"Environment files under {hub.envs_dir} (start_session(env_file=PATH)):\n{env_text}")  # fmt: skip


@hub_tools.tool
async def list_sessions(ctx: HubCall) -> str:
    """List the sessions this server holds: name, what each investigates, its state and notebook."""
    hub = ctx.hub
    if not hub.held:
        return "No sessions. Start one with start_session(task=NAME)."
    current = hub.current.get(ctx.caller.client)
    lines = []
    for held in hub.held.values():
        where = f" · {len(held.session.notebook.cells)} cells · {held.session.run.notebook_path}" if held.investigation else ""
        lines.append(f"- {held.name}{' (current)' if held.name == current else ''}: {held.label} · {held.state()}{where}")
    return "\n".join(lines)


@hub_tools.tool
async def start_session(
    ctx: HubCall,
    task: str | None = None,
    env_file: str | None = None,
    environment: dict[str, Any] | None = None,
    question: str | None = None,
    skills: list[str] | None = None,
    sandbox: dict[str, Any] | None = None,
    name: str | None = None,
    seed: int | None = None,
) -> str:
    """Start a notebook session and make it yours; returns the task, the models and the toolkit. Loading
    models can take minutes (progress is reported). Give exactly one of task, env_file or environment.

    Args:
        task: A packaged task's name (list_tasks) or a task folder: its environment, text and grading.
        env_file: Path of an environment TOML file (models, adapters, packages, skills, sandbox).
        environment: An inline environment, as in an env.toml: {"name": ..., "models": [{"name": "model",
            "id": "HF id or seer:NAME", "adapter": ...}], "packages": [...], "sandbox": {"provider": "modal", "gpu": "H100"}}.
        question: What to investigate, for an environment without a task.
        skills: Skills to add: packaged skill names (list_tasks) or skill folders.
        sandbox: Sandbox settings over the environment's: {"provider": "local" | "jupyter" | "modal" | "ray", ...}
            with that provider's fields (modal: gpu, memory_gib, region; ray: address, gpus; jupyter: url).
        name: The session's name (default: the task's or the environment's).
        seed: A graded task's seed: it picks the hidden variant (default: random).
    """
    given = [k for k, v in (("task", task), ("env_file", env_file), ("environment", environment)) if v is not None]
    if len(given) != 1:
        raise ToolError("give exactly one of task (a packaged task's name), env_file (a TOML path) or environment (a table)"
                        + (f"; got {' and '.join(given)}" if given else ""))  # fmt: skip
    graded: Task | None = None
    if task is not None:
        graded = find_task(task)
        if graded is None:
            raise ToolError(f"{task!r} is not a packaged task or a task folder; the tasks are: {', '.join(packaged_tasks())}")
        env, text, label = graded.environment, question or graded.agent_prompt, graded.name
        if not (graded.path / "ground_truth.json").is_file():
            graded = None
    elif env_file is not None:
        env = Environment.from_toml(Path(env_file).expanduser())
        text, label = question or "", env.name
    else:
        env = Environment.from_dict(environment or {}, source="start_session's environment")
        text, label = question or "", env.name
    env = _with_sandbox(Equipment(skills or []).apply(env), sandbox)
    if env.scope is not None and env.scope.mode == "tools":
        raise SpecError("an environment whose scope.mode is 'tools' gets its own server: run `seer mcp --env FILE` for it")
    held = await ctx.hub.start(env, text, graded=graded, label=label, name=name, seed=seed, caller=ctx.caller)
    _ = held.session  # a failed start says why
    return f"Session `{held.name}` is ready; it is now your current session.\n\n" + ctx.hub.briefing(held, can_ask=ctx.caller.ask is not None)


def _with_sandbox(env: Environment, sandbox: dict[str, Any] | None) -> Environment:
    """`env` with sandbox settings over its own; another provider keeps only what every provider takes."""
    if not sandbox:
        return env
    data = env.model_dump(mode="json")
    old = data.get("sandbox", {})
    kept = old if sandbox.get("provider", old.get("provider")) == old.get("provider") else {k: old[k] for k in ("cpus", "blind") if k in old}
    data["sandbox"] = {**kept, **sandbox}
    return Environment.from_dict(data, source="start_session's sandbox")


@hub_tools.tool
async def get_task(ctx: HubCall, session: str | None = None) -> str:
    """The session's task, its answer's shape, the loaded models (hidden ones by variable only), the
    toolkit's functions and the equipped skills.

    Args:
        session: The session (default: your current one).
    """
    held = ctx.hub.held_for(ctx.caller, session)
    await held.ready.wait()
    _ = held.session  # a failed start says why
    return ctx.hub.briefing(held, can_ask=ctx.caller.ask is not None)


@hub_tools.tool
async def attach(ctx: HubCall, session: str) -> str:
    """Make another running session your current one (another client may have started it).

    Args:
        session: Its name, as list_sessions shows it.
    """
    held = ctx.hub.held_for(ctx.caller, session)
    ctx.hub.current[ctx.caller.client] = held.name
    await held.ready.wait()
    return f"Your current session is now `{held.name}` ({held.state()}).\n\n" + ctx.hub.briefing(held, can_ask=ctx.caller.ask is not None)


@hub_tools.tool
async def stop_session(ctx: HubCall, session: str | None = None) -> str:
    """Stop a session: its kernel shuts down, the notebook is saved and the run is marked ended.

    Args:
        session: The session (default: your current one).
    """
    hub = ctx.hub
    held = hub.held_for(ctx.caller, session)
    await held.ready.wait()
    del hub.held[held.name]
    for client in [c for c, name in hub.current.items() if name == held.name]:
        del hub.current[client]
    if held.investigation is None:
        return f"Session `{held.name}` had failed to start; it is gone."
    live = held.investigation.session
    await live.close()
    record = json.loads((live.run.path / "run.json").read_text())
    return f"Session `{held.name}` stopped ({record.get('status')}, {len(live.notebook.cells)} cells). Notebook: {live.run.notebook_path}"
