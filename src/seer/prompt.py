"""What the agent is shown, built in one place: the system prompt and the task message.

`agent_view` is the only reader of the environment for prompting; hidden models appear by their
variable name alone. `seer prompt` prints exactly what `system_prompt` returns.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from seer.environment import Environment
from seer.skills import read_skills

__all__ = ["AgentView", "agent_view", "system_prompt", "toolkit_sheet"]

METHODOLOGY = """\
## How to work
- State the question and a first hypothesis in a markdown cell before running experiments.
- Work in small steps: one idea per cell; print the numbers you will rely on.
- Check surprising results with a control or a second method before believing them.
- Prefer measurements over impressions; count false positives as well as hits.
- When you are done (or stuck), call `finish` with a report: each claim, the cell numbers that show
  it, and how confident you are. Claims without evidence in the notebook count against you."""

STYLE_GUIDE = """\
## Code style
- Name things for what they hold; keep cells short enough to read at a glance.
- Reuse variables from earlier cells instead of recomputing; don't paste large literals.
- Plot with labelled axes and a title; show figures with `plt.show()`.
- Catch only errors you can handle; let the others surface so you can read them."""

INTERP = Path(__file__).parent / "interp"
"""The toolkit's source; the cheat-sheet is read from it (never imported: it needs torch)."""

SCOPED_METHODOLOGY = """\
## How to work
- State the question and a first hypothesis before calling anything.
- Work in small steps: one question per call; note the numbers you will rely on.
- Check surprising results with a control or a second probe before believing them.
- When you are done (or stuck), call `finish` with a report: each claim, the calls whose results show
  it, and how confident you are."""

SCOPED_PREAMBLE = """\
You can act only through the tools you were given: functions an experimenter exposed, which run beside
the model you study. There is no code execution and no access to the model beyond these functions."""

TOOLS_PREAMBLE = """\
You work in a live Jupyter notebook. `execute_code` appends a cell and runs it; the kernel keeps its
state between calls. Use `add_markdown` for notes, `read_notebook` to review, `edit_cell` to fix a
cell in place, and `interrupt_kernel` if something hangs."""
SHELL_PREAMBLE = """\
You work in a workspace folder through a shell. `run_command` runs a bash command there and returns its exit
code and output; `read_file` and `write_file` read and change files by line range, `list_dir` lists a
folder and `search` finds lines matching a pattern. Paths are relative to the workspace; nothing outside it."""
BOTH_PREAMBLE = TOOLS_PREAMBLE + "\n\n" + SHELL_PREAMBLE.replace("You work in a workspace folder through a shell.", "Beside the notebook, a shell:")
CHECKPOINT_NOTE = "Call `checkpoint` to ask the researcher a question when you need their judgement."


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _signature(node: ast.FunctionDef) -> str:
    """`name(a, b, *, c=1)`: the call as written, without type annotations (they cost tokens)."""
    args = copy.deepcopy(node.args)
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            arg.annotation = None
    return f"{node.name}({ast.unparse(args)})"


@cache
def toolkit_sheet() -> str:
    """One line per public `seer_interp` name: a function's signature or a class's name, and the first
    sentence of its docstring. Read from the toolkit's source, so it cannot drift from the code."""
    init = ast.parse((INTERP / "__init__.py").read_text())
    module_of = {a.asname or a.name: n.module for n in init.body if isinstance(n, ast.ImportFrom) and n.level == 1 for a in n.names}
    names = next(ast.literal_eval(n.value) for n in init.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "__all__")
    lines = []
    for name in names:
        if name.startswith("_"):
            continue
        tree = ast.parse((INTERP / f"{module_of[name]}.py").read_text())
        node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
        shown = _signature(node) if isinstance(node, ast.FunctionDef) else f"class {name}"
        lines.append(f"- `{shown}`: {_first_sentence(ast.get_docstring(node))}")
    return "The interpretability toolkit, importable in the kernel as `seer_interp` (`help(seer_interp.NAME)` for details):\n" + "\n".join(lines)


@dataclass(frozen=True)
class AgentView:
    """Everything about the environment the agent may see."""

    models: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _library_line(path: Path) -> str:
    """`name: first line of its docstring`, for a library file or package."""
    source = path / "__init__.py" if path.is_dir() else path
    name = path.name.removesuffix(".py")
    try:
        doc = ast.get_docstring(ast.parse(source.read_text())) or ""
    except (OSError, SyntaxError):
        doc = ""
    return f"`{name}`" + (f": {doc.strip().splitlines()[0]}" if doc.strip() else "")


def agent_view(env: Environment) -> AgentView:
    """What the agent is told about `env`; a hidden model is named only by its variable."""
    models = [
        (f"`{m.name}`" if env.scope is not None else f"`{m.name}` with `{m.name}_tokenizer`")
        + (" (identity hidden)" if m.hidden else f": {m.id}" + (f" + adapter {m.adapter}" if m.adapter else ""))
        for m in env.models
    ]
    skills = [f"`{s.name}`: {s.description}" for s in read_skills(env.skills).values()]
    files = [f.dest or f.source.name for f in env.files] + [f"{r.name}/ (git repository at {r.revision})" for r in env.repos]
    return AgentView(models, [_library_line(p) for p in env.libraries], skills, files)


def _scope_note(functions: list[dict[str, Any]] | None) -> str:
    listing = "".join(f"\n- `scope.{f['name']}`: {f['description'].splitlines()[0]}" for f in functions or [])
    return (
        "The kernel holds no model: you reach it only through the functions of the `scope` module (already "
        f"imported); `help(scope.<name>)` shows how to call each.{listing}"
    )


def system_prompt(
    env: Environment, *, methodology: bool = True, style_guide: bool = True, functions: list[dict[str, Any]] | None = None,
    checkpoint: bool = True,
) -> str:
    """The system prompt for an agent working in a session built from `env`; `functions` is the scope
    server's manifest in a scoped session; `checkpoint` says the agent has the `checkpoint` tool."""
    view = agent_view(env)
    scoped_only = env.scope is not None and env.scope.mode == "tools"
    preamble = SCOPED_PREAMBLE if scoped_only else {"shell": SHELL_PREAMBLE, "both": BOTH_PREAMBLE}.get(env.mode, TOOLS_PREAMBLE)
    parts = ["You are an interpretability researcher.", preamble + (f" {CHECKPOINT_NOTE}" if checkpoint else "")]
    environment = []
    if env.scope is not None:
        if view.models:
            environment.append("Models behind the functions: " + "; ".join(view.models) + ".")
        if not scoped_only:
            environment.append(_scope_note(functions))
    elif view.models:
        environment.append("Models loaded in the kernel: " + "; ".join(view.models) + ".")
        if env.toolkit:
            environment.append(toolkit_sheet())
    if view.libraries and not scoped_only:
        environment.append("Libraries you can import: " + "; ".join(view.libraries) + ".")
    if view.files and not scoped_only:
        environment.append("Files in the working directory: " + ", ".join(view.files) + ".")
    if env.services and not scoped_only:
        calls = [f"{v.name}_{e.name}(**arguments): {e.description or e.method + ' ' + e.path}" for v in env.services for e in v.endpoints]
        environment.append("Services running beside the kernel (`import services`; each function calls one over HTTP): "
                           + ("; ".join(calls) or ", ".join(v.name for v in env.services)) + ".")  # fmt: skip
    if view.skills:
        environment.append("Skills (read one with `read_skill`): " + "; ".join(view.skills) + ".")
    if environment:
        parts.append("## Environment\n" + "\n".join(environment))
    if methodology:
        parts.append(SCOPED_METHODOLOGY if scoped_only else METHODOLOGY)
    if style_guide and not scoped_only:
        parts.append(STYLE_GUIDE)
    return "\n\n".join(parts)
