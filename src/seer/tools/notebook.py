"""The notebook tools: what an agent uses to work in a live notebook session."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import anyio

from seer.errors import ToolError
from seer.kernel import CellRun
from seer.notebook import cell_meta
from seer.outputs import ansi_free, render_outputs
from seer.tools.base import ToolContext, ToolResult, Toolset

if TYPE_CHECKING:
    from seer.session import Cell

__all__ = ["notebook_tools"]

notebook_tools = Toolset("notebook")

_WEEK_S = 7 * 86400
"""The longest a cell may be given."""
PROGRESS_S = 1.0
"""How often a running cell's progress (time so far, its last printed line) is reported, where someone listens."""
_PREVIEW_CHARS = 300
_SOURCE_CHARS = 6_000
"""A cell source longer than this is shown by its head and tail."""
_READ_CHARS = 60_000
"""read_notebook stops after the cell that takes its answer past this."""


def _cut(source: str, index: int) -> str:
    """The source, or its head and tail with a line saying how much is not shown."""
    if len(source) <= _SOURCE_CHARS:
        return source
    keep = _SOURCE_CHARS // 2
    note = f"[... {len(source) - 2 * keep:,} characters of cell {index}'s source not shown here; notebook.ipynb has it whole ...]"
    return f"{source[:keep]}\n{note}\n{source[-keep:]}"


@notebook_tools.tool
async def execute_code(ctx: ToolContext, code: str, timeout_s: float | None = None) -> ToolResult:
    """Append a code cell to the notebook, run it in the kernel, and return its outputs.

    The kernel keeps variables between calls. Printed text, results, errors and images (matplotlib
    figures, displayed PNGs) come back; very long output is shortened, and the notebook keeps it all.
    While a cell runs, its time so far and last printed line are sent as progress each second.

    Args:
        code: Python source to run. IPython syntax (`%magic`, `!shell`) works.
        timeout_s: Seconds before the cell is interrupted (the kernel keeps its variables). By default the
            environment's cell timeout (`timeouts.cell_s`: 600 unless the environment sets another); at most
            604800 (a week).
    """
    if timeout_s is not None and not (math.isfinite(timeout_s) and 0 < timeout_s <= _WEEK_S):
        raise ToolError(f"timeout_s must be a number of seconds above 0 and at most {_WEEK_S} (got {timeout_s}); "
                        "leave it out to use the default")  # fmt: skip
    cell = await _run_reported(ctx, code, timeout_s)
    text, images = cell.render()
    return ToolResult(text, images, is_error=cell.run.status in ("error", "died", "timeout"))


async def _run_reported(ctx: ToolContext, code: str, timeout_s: float | None) -> Cell:
    """Run a cell, telling `ctx.progress` every `PROGRESS_S` how long it has run and what it printed last."""
    if ctx.progress is None:
        return await ctx.session.execute(code, timeout_s=timeout_s, call_id=ctx.call_id)
    report = ctx.progress
    last: list[str] = [""]

    def watch(run: CellRun) -> None:
        last[0] = _last_line(run.outputs)

    async def tick() -> None:
        started = time.monotonic()
        while True:
            await anyio.sleep(PROGRESS_S)
            try:
                await report(f"running for {time.monotonic() - started:.0f} s" + (f": {last[0]}" if last[0] else ""))
            except Exception:  # a client that stopped listening must not break the cell
                return

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        try:
            return await ctx.session.execute(code, timeout_s=timeout_s, call_id=ctx.call_id, watch=watch)
        finally:
            tasks.cancel_scope.cancel()


def _last_line(outputs: list[dict[str, Any]]) -> str:
    """The last non-empty line the cell printed so far (shortened), or ''."""
    for output in reversed(outputs):
        if output.get("output_type") == "stream":
            text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
            lines = [line for line in ansi_free(text).splitlines() if line.strip()]
            if lines:
                return lines[-1][:200]
    return ""


@notebook_tools.tool
async def edit_cell(ctx: ToolContext, index: int, source: str, run: bool = True) -> ToolResult:
    """Replace the source of an existing cell; a code cell is re-run in place by default.

    Args:
        index: The cell's number, as shown by read_notebook (counting from 0).
        source: The new source (Python for a code cell, markdown for a markdown cell).
        run: Re-run a code cell after editing it. Ignored for markdown cells.
    """
    cells = ctx.session.notebook.cells
    if 0 <= index < len(cells) and (cells[index]["cell_type"] == "markdown" or not run):
        if cells[index]["cell_type"] == "code":
            raise ToolError("editing a code cell without re-running it would leave stale outputs; pass run=true")
        await ctx.session.edit_markdown(index, source)
        return ToolResult(f"Cell {index} (markdown) updated.")
    cell = await ctx.session.rerun(index, source, call_id=ctx.call_id)
    text, images = cell.render()
    return ToolResult(text, images, is_error=cell.run.status in ("error", "died", "timeout"))


@notebook_tools.tool
async def add_markdown(ctx: ToolContext, source: str, index: int | None = None) -> str:
    """Add a markdown cell: notes, hypotheses, conclusions for the human reading the notebook.

    Args:
        source: Markdown text.
        index: Where to insert it (counting from 0); by default at the end.
    """
    where = await ctx.session.add_markdown(source, index)
    return f"Markdown cell {where} added."


@notebook_tools.tool
async def read_notebook(ctx: ToolContext, start: int = 0, end: int | None = None) -> str:
    """Show the notebook compactly: each cell's number, kind, status, source and a short output preview.
    Long sources are shortened, and a long answer stops early and says where to go on.

    Args:
        start: First cell to show (counting from 0).
        end: One past the last cell to show; by default the end of the notebook.
    """
    cells = ctx.session.notebook.cells
    if not cells:
        return "The notebook is empty."
    stop = min(end if end is not None else len(cells), len(cells))
    blocks: list[str] = []
    used = 0
    for index in range(max(0, start), stop):
        if used > _READ_CHARS:
            blocks.append(f"[... stopped here to keep this answer short; call read_notebook(start={index}) for the rest]")
            stop = index
            break
        blocks.append(_describe(cells[index], index))
        used += len(blocks[-1])
    return "\n".join([f"{len(cells)} cell(s). Showing {start} to {stop - 1}.", *blocks])


def _describe(cell: dict[str, Any], index: int) -> str:
    """One cell for read_notebook: its header, source (shortened if long) and a preview of its outputs."""
    if cell["cell_type"] == "markdown":
        return f"--- [{index}] markdown\n{_cut(cell['source'], index)}"
    meta = cell_meta(cell)
    lines = [f"--- [{index}] code · {meta.get('status', '?')} · exec {cell.get('execution_count')}", _cut(cell["source"], index)]
    images = sum(1 for o in cell["outputs"] if "image/png" in o.get("data", {}))
    texts = [o for o in cell["outputs"] if "image/png" not in o.get("data", {})]
    preview = render_outputs(texts, max_chars=_PREVIEW_CHARS, max_images=0, where=f"cell {index}")
    if preview.text.strip():
        lines.append("→ " + preview.text.strip().replace("\n", "\n  "))
    if images:
        lines.append(f"→ {images} image(s)")
    return "\n".join(lines)


@notebook_tools.tool
async def interrupt_kernel(ctx: ToolContext) -> str:
    """Interrupt the cell that is running now (like pressing stop); variables are kept."""
    if await ctx.session.interrupt():
        return "Interrupt sent; the running cell stops with KeyboardInterrupt."
    return "No cell was running; nothing to interrupt."


@notebook_tools.tool
async def restart_kernel(ctx: ToolContext) -> str:
    """Restart the kernel: all variables are lost, the notebook stays, the workspace set-up is re-run."""
    await ctx.session.restart()
    return "The kernel restarted; the workspace set-up ran again. Re-run the cells whose variables you need."


@notebook_tools.tool
async def list_skills(ctx: ToolContext) -> str:
    """List the skills (procedures written for you) available in this session."""
    skills = ctx.session.skills
    if not skills:
        return "This session has no skills."
    lines = [f"- {s.name}: {s.description}" for s in skills.values()]
    return "Skills (read one with read_skill):\n" + "\n".join(lines)


@notebook_tools.tool
async def read_skill(ctx: ToolContext, name: str, file: str = "SKILL.md") -> str:
    """Read a skill's instructions, or another file in the skill's folder.

    Args:
        name: The skill's name, as listed by list_skills.
        file: A file inside the skill's folder; SKILL.md by default.
    """
    skill = ctx.session.skills.get(name)
    if skill is None:
        known = ", ".join(ctx.session.skills) or "none"
        raise ToolError(f"there is no skill {name!r}; the skills are: {known}")
    files = skill.files()
    if file not in files:
        raise ToolError(f"skill {name!r} has no file {file!r}; its files are: {', '.join(files)}")
    data = await ctx.session.sandbox.read_file(f"skills/{skill.name}/{file}")
    return data.decode(errors="replace")


@notebook_tools.tool
async def finish(ctx: ToolContext, report: str, answer: dict[str, Any] | None = None) -> str:
    """Hand in your final report and end the investigation.

    Args:
        report: The final report in markdown: what you found, the evidence (cite cell numbers), and
            how confident you are.
        answer: The task's structured answer, when the task asks for one (its fields are listed here);
            graded as given.
    """
    if not report.strip():
        raise ToolError("the report is empty; write what you found, citing the cells that show it")
    shape = ctx.session.answer_shape
    if shape is None and answer is not None:
        raise ToolError("this task takes no structured answer; call finish with the report alone")
    if shape is not None:
        if answer is None:
            raise ToolError(f"this task needs a structured answer: finish(report, answer={{{', '.join(f[0] + ': ...' for f in shape.fields)}}})")
        if (problem := shape.check(answer)) is not None:
            raise ToolError(problem)
    await ctx.session.finish(report, answer)
    return "Report recorded. The investigation is finished."
