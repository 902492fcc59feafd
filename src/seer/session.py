"""A notebook session: environment → sandbox → kernel → notebook, with the workspace installed.

```python
async with Session.open(Environment.from_toml("env.toml")) as session:
    cell = await session.execute("print(6 * 7)")
```

Starting a session makes a run directory, places files, libraries and skills in the workspace,
installs missing packages, starts the kernel and runs the init code hidden from the agent (recorded
in `run.json`, never in the notebook). Every visible execution becomes a notebook cell.

A scoped session (`env.scope`) also starts a scope server (or joins a shared one) that holds the
models; in `tools` mode there is no kernel at all, in `notebook` mode the kernel gets the `scope`
client module and no model, and runs isolated where the machine allows (`seer.scope.setup`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seer import blind, setup
from seer.answer import AnswerShape
from seer.environment import Environment
from seer.errors import KernelDied, SandboxError, SeerError, SessionClosed, ToolError
from seer.kernel import CellRun, Kernel
from seer.notebook import COMPLETED, Notebook, cell_meta
from seer.outputs import render_outputs
from seer.placement import load_arguments
from seer.repos import install_repos
from seer.run import RunDir, now_iso
from seer.sandbox.base import Sandbox
from seer.sandbox.isolation import HOST_GUARANTEE, Confinement, decide, host_confinement
from seer.sandbox.local import LocalSpec
from seer.sandbox.providers import make_sandbox
from seer.scope.client import ScopeServer
from seer.scope.library import MODULE as SCOPE_MODULE
from seer.scope.setup import install_client, kernel_isolation, start_scope
from seer.services import client_module, start_services
from seer.skills import Skill, read_skills
from seer.spill import SPILL_FOLDER, OutputCap

__all__ = ["Cell", "Progress", "Session"]

log = logging.getLogger("seer")

Progress = Callable[[str], Awaitable[None]]
"""Told each step of a session's start as it begins."""


async def _silent(step: str) -> None:
    """The progress callback of a start nobody watches."""


@dataclass(frozen=True)
class Cell:
    """A finished execution and where it lives in the notebook."""

    index: int
    run: CellRun

    def render(self, *, max_chars: int = 20_000, max_images: int = 8) -> tuple[str, list[bytes]]:
        """The text and images the agent is shown for this cell."""
        spilled = self.run.cap.files if self.run.cap is not None else []
        where = f"cell {self.index} of notebook.ipynb" + (f" and {', '.join(spilled)} in the run folder" if spilled else "")
        shown = render_outputs(self.run.outputs, max_chars=max_chars, max_images=max_images, where=where)
        head = f"[cell {self.index} · {self.run.status} · {self.run.duration_s:.2f} s]\n"
        if self.run.note and self.run.status == "timeout":  # said first: what follows is the interrupted cell's output
            return f"[{self.run.note}]\n" + head + (shown.text or "(no output)\n"), shown.images
        note = f"\n[{self.run.note}]" if self.run.note else ""
        return head + (shown.text or "(no output)\n") + note, shown.images


class Session:
    """A live kernel with its notebook and run directory (and, when scoped, its scope server). Create it
    with `Session.open`. A scoped-only session (`scope.mode = "tools"`) has no kernel."""

    def __init__(
        self,
        env: Environment,
        run: RunDir,
        sandbox: Sandbox,
        kernel: Kernel | None,
        notebook: Notebook,
        scope: ScopeServer | None = None,
    ) -> None:
        self.env = env
        self.run = run
        self.sandbox = sandbox
        self._kernel = kernel
        self.notebook = notebook
        self.scope = scope
        self.skills: dict[str, Skill] = {}
        self.report: str | None = None
        self.answer_shape: AnswerShape | None = None
        """The structured answer `finish` takes (a task's `[answer]`), if any."""
        self._order = asyncio.Lock()
        self._closed = False
        self.finished_at: str | None = None
        """When `finish` recorded the report; from then on nothing more runs in this session."""

    @classmethod
    @asynccontextmanager
    async def open(
        cls, env: Environment | None = None, *, runs_dir: str | Path = "runs", sandbox: Sandbox | None = None,
        graded: bool = False, answer: AnswerShape | None = None,
    ) -> AsyncIterator[Session]:
        """Start a session and close it on exit, whatever happens inside."""
        session = await cls.start(env, runs_dir=runs_dir, sandbox=sandbox, graded=graded, answer=answer)
        try:
            yield session
        finally:
            await session.close()

    @classmethod
    async def start(
        cls, env: Environment | None = None, *, runs_dir: str | Path = "runs", sandbox: Sandbox | None = None,
        run_id: str | None = None, graded: bool = False, answer: AnswerShape | None = None,
        progress: Progress | None = None,
    ) -> Session:
        """Start a session; call `close()` when done (or use `Session.open`). `run_id` names the run
        directory (default: time, environment name and a random suffix). A `graded` session (a task with
        ground truth) is blind like one with a hidden model (`seer.blind`); `answer` is the structured
        answer `finish` takes. `progress` is told each step as it begins (a client shows it while models load).

        Raises:
            SandboxError: The workspace, packages or kernel could not be set up; the run directory
                records what happened.
        """
        env = env or Environment()
        say = progress or _silent
        shape = [list(f) for f in answer.fields] if answer else None
        start = {"environment": env.model_dump(mode="json"), "setup": [], "graded": graded, "answer_shape": shape}
        run = RunDir.create(runs_dir, env.name, start, run_id=run_id)
        try:
            sandbox = sandbox or make_sandbox(env, run.path, run.id)
        except SeerError as exc:
            run.update_record(status="failed", error=str(exc), ended_at=now_iso())
            raise
        try:
            await say(f"starting the {env.sandbox.provider} sandbox")
            await sandbox.start()
            await say("preparing the workspace")
            skills = await setup.install_workspace(env, sandbox)
            if env.repos:
                await say("placing repositories: " + ", ".join(r.name for r in env.repos))
                await install_repos(env, sandbox, run)
            if env.packages:
                await say("installing packages: " + ", ".join(env.packages))
            await setup.install_packages(env, sandbox, run)
            await say("starting the kernel")
            kernel, scope = await _boot(env, run, sandbox, graded)
        except BaseException as exc:
            run.update_record(status="failed", error=str(exc), ended_at=now_iso())
            await sandbox.terminate()
            raise
        if sandbox.workspace != str(run.workspace):
            setup.keep_local_copies(env, run, skills)
        notebook = Notebook(run.notebook_path, metadata={"run_id": run.id})
        session = cls(env, run, sandbox, kernel, notebook, scope)
        session.skills = skills
        session.answer_shape = answer
        await say(("loading " + ", ".join(f"`{m.name}`" for m in env.models)) if env.models else "running the set-up code")
        await session._prepare("start")
        run.update_record(status="running", workspace=sandbox.workspace, kernel_pid=kernel.pid if kernel else None)
        return session

    @classmethod
    async def reopen(cls, run_path: str | Path) -> Session:
        """Bring a stopped run's session back: a new kernel in the same workspace, the hidden set-up,
        then every code cell that had completed (`ok` or `error`) re-run in order, hidden, so the
        kernel holds the state the notebook shows. Cells are not added or changed.

        Raises:
            SeerError: `run_path` is not a run directory.
            SandboxError: The kernel or the set-up failed.
        """
        run = RunDir(Path(run_path).resolve())
        if not (run.path / "run.json").is_file():
            raise SeerError(f"{run.path} is not a run directory (no run.json); pass a folder under runs/")
        record = run.read_record()
        # files, libraries, skills and the interface are in the run already; their sources may have moved
        data = {**record["environment"], "files": [], "libraries": [], "skills": []}
        if data.get("scope") and data["scope"].get("interface"):
            data["scope"] = {**data["scope"], "interface": str(run.path / "private" / "scope" / "interface.py")}
        env = Environment.model_validate(data)
        sandbox = make_sandbox(env, run.path, run.id)
        await sandbox.start()
        try:
            kernel, scope = await _boot(env, run, sandbox, record.get("graded", False))
        except BaseException:
            await sandbox.terminate()
            raise
        notebook = Notebook.load(run.notebook_path)
        notebook.interrupt_running("The run was stopped while this cell ran.")  # the process died while they ran
        session = cls(env, run, sandbox, kernel, notebook, scope)
        session.skills = read_skills(sorted(p for p in (run.workspace / setup.SKILLS).glob("*") if p.is_dir()))
        if record.get("answer_shape"):
            session.answer_shape = AnswerShape(tuple(tuple(f) for f in record["answer_shape"]))  # type: ignore[misc]
        await session._prepare("resume")
        run.update_record(status="running", kernel_pid=kernel.pid if kernel else None, pid=os.getpid(), resumed_at=now_iso())
        return session

    async def _prepare(self, reason: str) -> None:
        """Tie kernel restarts to the hidden set-up, run it (and on resume replay the notebook), save the
        notebook; on failure the session is closed as failed and the error raised."""
        try:
            if self._kernel is not None:
                self._kernel.on_restart = self._after_restart
                await self._setup(reason)
                if reason == "resume":
                    await self._replay()
            await self.notebook.save()
        except BaseException as exc:
            await self.close(status="failed", error=str(exc))
            raise

    async def _replay(self) -> None:
        """Re-run the notebook's completed code cells, hidden, and record how that went."""
        replayed, failed = 0, []
        for index, cell in enumerate(self.notebook.cells):
            status = cell_meta(cell).get("status")
            if cell["cell_type"] != "code" or status not in COMPLETED:
                continue
            result = await self.kernel.execute_hidden(cell["source"], timeout_s=self.env.timeouts.cell_s, cap=self._cap())
            replayed += 1
            if result.status != status:
                failed.append(index)
        record = self.run.read_record()
        record["setup"].append({"reason": "replay", "cells_replayed": replayed, "cells_that_changed_outcome": failed, "at": now_iso()})
        self.run.write_record(record)

    @property
    def kernel(self) -> Kernel:
        """The session's kernel.

        Raises:
            ToolError: A scoped-only session has none.
        """
        if self._kernel is None:
            raise ToolError("this is a scoped session with no code execution; call the functions you were given")
        return self._kernel

    @property
    def has_kernel(self) -> bool:
        return self._kernel is not None

    @property
    def scope_record(self) -> tuple[str, Path] | None:
        """The scope's `record` function and the file in the run directory its result is saved to, if any."""
        record = self.env.scope.record if self.env.scope is not None else None
        return (record, self.run.path / f"{record}.json") if record else None

    async def _setup(self, reason: str) -> None:
        """Run the hidden set-up (seeding, model loading, init code) and record it in `run.json`, not in
        the notebook."""
        memory = self.env.limits.kernel_memory_gib
        code = setup.MEMORY_LIMIT.format(limit=int(memory * 2**30)) if memory is not None else ""
        code += setup.BOUNDED_STREAMS + (setup.SEEDING.format(seed=self.env.seed) if self.env.seed is not None else "")
        code += setup.loading_code(self.env, self.sandbox)
        if self.env.scope is not None:
            code += f"import {SCOPE_MODULE}\n"
        code += self.env.init_code
        result = await self.kernel.execute_hidden(code, timeout_s=self.env.timeouts.setup_s, cap=self._cap())
        shown = render_outputs(result.outputs, max_chars=20_000, max_images=0, where="run.json")
        record = self.run.read_record()
        record["setup"].append(
            {
                "reason": reason,
                "code": code,
                "status": result.status,
                "output": shown.text,
                "duration_s": round(result.duration_s, 3),
                "at": now_iso(),
            }
        )
        self.run.write_record(record)
        if result.status != "ok":
            raise SandboxError(f"the environment's init_code failed ({result.status}):\n{shown.text}")

    async def _after_restart(self) -> None:
        await self._setup("restart")

    def _cap(self, cell_id: str | None = None) -> OutputCap:
        """Output bounds from the environment's limits; a notebook cell's (`cell_id`) spill to the run folder."""
        limits = self.env.limits
        run_dir = self.run.path if cell_id is not None else None
        return OutputCap(stream_chars=limits.stream_kib * 1024, display_bytes=int(limits.display_mib * 2**20),
                         run_dir=run_dir, stem=f"cell-{cell_id}")  # fmt: skip

    def _check_open(self) -> None:
        if self._closed:
            raise SessionClosed("this session is closed; start a new one")

    def check_working(self) -> None:
        """Refuse what would change the notebook or workspace once the report is in (the judge reads them as they were)."""
        self._check_open()
        if self.finished_at is not None:
            raise ToolError(
                f"the investigation is finished (the report was handed in at {self.finished_at}); nothing was run "
                "and the notebook is unchanged. Start a new session to investigate further."
            )

    async def execute(
        self, code: str, *, timeout_s: float | None = None, call_id: str | None = None, watch: Callable[[CellRun], None] | None = None
    ) -> Cell:
        """Append a code cell, run it, and save the notebook with its outputs; `watch` sees the cell's outputs
        each time they grow.

        Raises:
            SessionClosed: The session was closed.
            KernelDied: The kernel died and could not be restarted.
        """
        self.check_working()
        _ = self.kernel  # a scoped-only session refuses before a cell is added
        async with self._order:
            index = self.notebook.append_code(code, call_id=call_id)
            return await self._run_cell(index, code, timeout_s, watch)

    async def rerun(self, index: int, source: str, *, timeout_s: float | None = None, call_id: str | None = None) -> Cell:
        """Replace a code cell's source and run it again in place; its old outputs are replaced.

        Raises:
            ToolError: There is no code cell at `index`.
        """
        self.check_working()
        async with self._order:
            cell = self._cell(index)
            if cell["cell_type"] != "code":
                raise ToolError(f"cell {index} is a markdown cell; use edit_cell with run=false to change its text")
            self.notebook.replace_code(index, source, call_id=call_id)
            for old in (self.run.path / SPILL_FOLDER).glob(f"cell-{cell['id']}-*"):
                old.unlink()
            return await self._run_cell(index, source, timeout_s)

    async def _run_cell(self, index: int, code: str, timeout_s: float | None, watch: Callable[[CellRun], None] | None = None) -> Cell:
        cell_id = self.notebook.cells[index]["id"]
        self.notebook.started(index, now_iso())  # the running cell reaches disk in the background, not on this path

        def on_output(run: CellRun) -> None:
            self.notebook.set_outputs(self.notebook.index_of(cell_id), run.outputs)
            if watch is not None:
                watch(run)

        started = time.perf_counter()
        try:
            run = await self.kernel.execute(
                code, timeout_s=timeout_s or self.env.timeouts.cell_s, on_output=on_output, cap=self._cap(cell_id)
            )
        except KernelDied as exc:  # the cell must not stay `running` in the notebook
            self.notebook.ended(self.notebook.index_of(cell_id), "died", note=str(exc), duration_s=round(time.perf_counter() - started, 4))
            await self.notebook.save()
            raise
        _name_memory_limit(run, self.env.limits.kernel_memory_gib)
        index = self.notebook.index_of(cell_id)
        self.notebook.set_outputs(index, run.outputs, run.execution_count)
        self.notebook.ended(index, run.status, duration_s=round(time.perf_counter() - started, 4), note=run.note)
        await self.notebook.save()
        return Cell(index, run)

    def _cell(self, index: int) -> dict[str, Any]:
        last = len(self.notebook.cells) - 1
        if not isinstance(index, int) or not 0 <= index <= last:
            span = f"cells are numbered 0 to {last}" if last >= 0 else "the notebook has no cells yet"
            raise ToolError(f"there is no cell {index}; {span}. Call read_notebook to see them.")
        return self.notebook.cells[index]

    async def edit_markdown(self, index: int, source: str) -> None:
        """Replace the text of a markdown cell."""
        self.check_working()
        async with self._order:
            cell = self._cell(index)
            if cell["cell_type"] != "markdown":
                raise ToolError(f"cell {index} is a code cell; pass run=true to edit and re-run it")
            self.notebook.set_markdown(index, source)
            await self.notebook.save()

    async def add_markdown(self, source: str, index: int | None = None) -> int:
        """Insert a markdown cell (default: at the end); returns its index."""
        self.check_working()
        async with self._order:
            if index is not None and not 0 <= index <= len(self.notebook.cells):
                raise ToolError(f"cannot insert at {index}; give 0 to {len(self.notebook.cells)} or leave it out")
            index = self.notebook.insert_markdown(source, index)
            self.notebook.changed(index)
            await self.notebook.save()
            return index

    async def interrupt(self) -> bool:
        """Interrupt the running cell; True if one was running."""
        self._check_open()
        return await self.kernel.interrupt()

    async def restart(self) -> None:
        """Restart the kernel and re-run the hidden set-up; variables are lost, the notebook stays."""
        self.check_working()
        await self.kernel.restart()

    async def finish(self, report: str, answer: dict[str, Any] | None = None) -> None:
        """Record the agent's final report (`report.md` and `run.json`) and its structured answer."""
        self.check_working()
        self.report = report
        self.finished_at = now_iso()
        (self.run.path / "report.md").write_text(report)
        self.run.update_record(status="finished", finished_at=self.finished_at, report=report, answer=answer)

    async def close(self, *, status: str | None = None, error: str | None = None) -> None:
        """Stop the kernel, save the notebook a last time, and mark the run ended; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.notebook.close()
            if self.scope is not None:
                await self.scope.close()
        finally:
            await self.sandbox.terminate()
            record = self.run.read_record()
            final = status or (record["status"] if record.get("status") in ("finished", "stopped", "failed") else "closed")
            changes: dict[str, Any] = {"status": final, "ended_at": now_iso(), "cells": len(self.notebook.cells)}
            if error:
                changes["error"] = error
            self.run.write_record({**record, **changes})


async def _boot(env: Environment, run: RunDir, sandbox: Sandbox, graded: bool) -> tuple[Kernel | None, ScopeServer | None]:
    """Start the scope server (scoped sessions) and the kernel (unless scoped-only)."""
    threads = setup.threads(env, sandbox)
    run.update_record(threads=threads.record())
    kernel_env = threads.env() | setup.kernel_env(env, sandbox)
    if env.services:
        if blind.needs_blind(env.models, graded):
            raise SandboxError("services are not confined like the kernel yet, so a session with hidden models cannot be blind with "
                               "[[services]]; drop them for this task")  # fmt: skip
        kernel_env |= await start_services(env, sandbox, run)
        await sandbox.write_file(f"{setup.LIBS}/services.py", client_module(env).encode())
    scope = None
    if env.scope is not None:
        confine, isolation = await kernel_isolation(env.scope, sandbox)
        if confine:
            sandbox.confinement = Confinement(views=await blind.site_view(sandbox))
        models = [load_arguments(spec, setup.model_root(env, sandbox)) for spec in env.models]
        scope = await start_scope(env, sandbox, run.id, models, threads.env() | setup.scope_env(env, sandbox))
        functions = [spec["name"] for spec in await scope.manifest()]
        shared = env.scope.server is not None
        seen = _scoped_blind(env, isolation) if blind.needs_blind(env.models, graded) else None
        run.update_record(isolation=isolation, blind=seen, scope={"url": scope.url, "shared": shared, "mode": env.scope.mode,
                                                                  "functions": functions, "log": scope.log})  # fmt: skip
        if env.scope.mode == "notebook":
            kernel_env |= await install_client(sandbox, scope, setup.LIBS)
    else:
        isolation, seen = await _confine_kernel(env, sandbox, graded)
        run.update_record(isolation=isolation, blind=seen)
    if env.scope is not None and env.scope.mode == "tools":
        return None, scope
    try:
        kernel = await sandbox.start_kernel(env=kernel_env, start_timeout_s=env.timeouts.kernel_start_s)
    except BaseException:
        if scope is not None:
            await scope.close()
        raise
    return kernel, scope


async def _confine_kernel(env: Environment, sandbox: Sandbox, graded: bool) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Confine an ordinary session's local kernel where `sandbox.isolation` allows and bubblewrap works,
    blind (`seer.blind`) when a model is hidden or the task is graded; what the run record says about
    the isolation, and whether the session is blind (None when it need not be).

    Raises:
        SandboxError: `isolation = "required"` and the kernel cannot be confined, or `blind = "required"`
            and the session cannot be blind.
    """
    wanted = blind.needs_blind(env.models, graded)
    if wanted and env.mode != "notebook":
        raise SandboxError(f"mode = {env.mode!r}: shell commands are not confined like the kernel yet, so a session with "
                           "hidden models cannot be blind in shell mode; use mode = 'notebook' for this task")  # fmt: skip
    if not isinstance(env.sandbox, LocalSpec):
        record = {"kernel": "none", "guarantee": f"the {env.sandbox.provider} sandbox is the boundary"}
        return record, _not_blind(env, f"Seer cannot confine a kernel on the {env.sandbox.provider} provider") if wanted else None
    confine, record = await decide(env.sandbox.isolation, "sandbox.isolation", sandbox.isolation_problem, HOST_GUARANTEE,
                                   "none: the kernel runs as your user and can read what you can")  # fmt: skip
    if not confine:
        return record, _not_blind(env, record["reason"]) if wanted else None
    models = [path for spec in env.models for path in (spec.id, spec.adapter or "") if path and Path(path).is_dir()]
    packaged = []  # read-only at /models/<name>: the kernel cannot write the model cache, so it would convert again
    for spec in env.models:
        if spec.id.startswith("seer:") and (folder := await asyncio.to_thread(blind.source_folder, spec)) is not None:
            packaged.append((str(folder.resolve()), f"{blind.MODELS_ROOT}/{spec.name}"))
    confinement = host_confinement([*models, f"{sandbox.private}/{setup.LOADER}"])
    sandbox.confinement = dataclasses.replace(confinement, mounts=tuple(packaged))
    if not wanted:
        return record, None
    sandbox.confinement = await _blind_confinement(env, sandbox)
    return {"kernel": "bubblewrap", "guarantee": blind.GUARANTEE}, {"blind": True}


def _scoped_blind(env: Environment, isolation: dict[str, str]) -> dict[str, Any]:
    """A scoped session is blind when its agent has no kernel, or a confined one (the models and their
    names stay in the scope server)."""
    if env.scope is not None and env.scope.mode == "tools" or isolation.get("kernel") == "bubblewrap":
        return {"blind": True}
    return _not_blind(env, isolation.get("reason", "the notebook kernel is not confined"))


def _not_blind(env: Environment, reason: str) -> dict[str, Any]:
    """The record of a session that should be blind and is not; refused under `blind = "required"`."""
    if env.sandbox.blind == "required":
        raise SandboxError(f"sandbox.blind is 'required' but the kernel cannot be confined: {reason}")
    log.warning("seer: this run is NOT blind (%s): the agent could read the answer or the hidden model's identity", reason)
    return {"blind": False, "reason": reason}


async def _blind_confinement(env: Environment, sandbox: Sandbox) -> Confinement:
    """The kernel's filtered site-packages and its models' scrubbed copies, mounted under `/models`."""
    views = await blind.site_view(sandbox)
    for toolkit in (Path(sandbox.workspace) / setup.LIBS / setup.TOOLKIT, Path(sandbox.private) / setup.LOADER / setup.TOOLKIT):
        (toolkit / "packaged.py").unlink(missing_ok=True)  # it names the packaged models; the kernel loads copies
    mounts = []
    for spec in env.models:
        source = await asyncio.to_thread(blind.source_folder, spec)
        if source is None:
            continue
        if spec.hidden:
            copy = Path(sandbox.private) / "models" / spec.name
            await asyncio.to_thread(blind.scrubbed_copy, source, copy, spec)
            source = copy
        mounts.append((str(source.resolve()), f"{blind.MODELS_ROOT}/{spec.name}"))
    readable = tuple(path for path in [f"{sandbox.private}/{setup.LOADER}"] if Path(path).is_dir())
    return Confinement(readable=readable, views=views, mounts=tuple(mounts))


def _name_memory_limit(run: CellRun, gib: float | None) -> None:
    """Add the kernel's memory limit to the note of a cell that ran out of memory or killed the kernel."""
    if gib is None:
        return
    if any(_out_of_memory(o) for o in run.outputs):
        said = (
            f"The cell ran out of memory: the kernel may use {gib:g} GiB (limits.kernel_memory_gib). It is alive "
            "and keeps its variables; free what you no longer need (del, gc.collect()) or work in smaller pieces."
        )
    elif run.status == "died":
        said = f"The kernel may use {gib:g} GiB of memory (limits.kernel_memory_gib); passing it is a likely cause."
    else:
        return
    run.note = f"{run.note} {said}" if run.note else said


def _out_of_memory(output: dict[str, Any]) -> bool:
    """A MemoryError (numpy's subclasses too) or an allocator's ENOMEM (torch on the CPU); not CUDA's."""
    if output["output_type"] != "error":
        return False
    ename = output["ename"]
    return (ename.endswith("MemoryError") and ename != "OutOfMemoryError") or "Cannot allocate memory" in output["evalue"]
