"""The shell tools: commands and files in the session's workspace, beside (or instead of) the notebook.

Every tool works on every sandbox provider: commands run through `Sandbox.exec` in the workspace, and the
file tools through a small helper run by the sandbox's Python, which refuses any path whose real location
is outside the workspace (`..`, absolute paths, symbolic links). Each call is appended to `shell.log` in
the run directory (the viewer shows it beside the notebook); the transcript records it like any tool call.
"""

from __future__ import annotations

import json
import math
from typing import Any

from seer.errors import ToolError
from seer.run import now_iso
from seer.tools.base import ToolContext, ToolResult, Toolset

__all__ = ["mode_tools", "shell_tools"]

shell_tools = Toolset("shell")

_LONGEST_S = 3600.0
_MATCHES = 200

_HELPER = r"""
import json, os, re, sys
op, args = sys.argv[1], json.loads(sys.argv[2])
root = os.path.realpath(".")

def inside(path):
    real = os.path.realpath(os.path.join(root, path))
    if real != root and not real.startswith(root + os.sep):
        raise SystemExit(json.dumps({"error": f"{path!r} is outside the workspace; give a path inside it"}))
    return real

def done(value):
    print(json.dumps({"ok": value}))

if op == "read":
    path = inside(args["path"])
    if not os.path.isfile(path):
        raise SystemExit(json.dumps({"error": f"{args['path']!r} is not a file"}))
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    start, end = args["start"], args["end"] or len(lines)
    done({"lines": lines[start - 1:end], "start": start, "total": len(lines)})
elif op == "write":
    path = inside(args["path"])
    old = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            old = f.read().splitlines()
    new = args["content"].splitlines()
    if args["start"] is None:
        lines = new
    else:
        if not 1 <= args["start"] <= len(old) + 1:
            raise SystemExit(json.dumps({"error": f"start_line {args['start']} is past the end of the file ({len(old)} lines)"}))
        lines = old[:args["start"] - 1] + new + old[(args["end"] or args["start"] - 1):]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    done({"lines": len(lines)})
elif op == "list":
    path = inside(args["path"])
    if not os.path.isdir(path):
        raise SystemExit(json.dumps({"error": f"{args['path']!r} is not a folder"}))
    done(sorted((e.name + ("/" if e.is_dir() else ""), 0 if e.is_dir() else e.stat().st_size) for e in os.scandir(path)))
elif op == "search":
    pattern, path, found = re.compile(args["pattern"]), inside(args["path"]), []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__", ".venv", "node_modules"))
        for name in sorted(files):
            file = os.path.join(folder, name)
            try:
                with open(file, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        if pattern.search(line):
                            found.append([os.path.relpath(file, root), number, line.rstrip()[:300]])
                            if len(found) >= args["most"]:
                                done(found); raise SystemExit(0)
            except (UnicodeDecodeError, OSError):
                continue
    done(found)
"""


async def _helper(ctx: ToolContext, op: str, **args: Any) -> Any:
    sandbox = ctx.session.sandbox
    done = await sandbox.exec([sandbox.python, "-c", _HELPER, op, json.dumps(args)], timeout_s=120)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ToolError(f"{op} failed: {(done.stderr or done.stdout).strip()[-1000:]}") from None
    if "error" in answer:
        raise ToolError(answer["error"])
    return answer["ok"]


def _log(ctx: ToolContext, title: str, body: str) -> None:
    """Append one call to `shell.log` (whole lines, so a reader never sees half an entry)."""
    with (ctx.session.run.path / "shell.log").open("a", encoding="utf-8") as log:
        log.write(f"### {now_iso()} {title}\n{body.rstrip()}\n\n")


def _capped(text: str, most: int) -> str:
    if len(text) <= most:
        return text
    keep = most // 2
    return f"{text[:keep]}\n[... {len(text) - 2 * keep:,} characters not shown; redirect to a file and read it in parts ...]\n{text[-keep:]}"


@shell_tools.tool
async def run_command(ctx: ToolContext, command: str, timeout_s: float = 120.0) -> ToolResult:
    """Run a shell command (bash) in the workspace and return its exit code, stdout and stderr.

    Long output is shortened to its head and tail. A command past its timeout is killed with its children.

    Args:
        command: The command line, e.g. `python -m pytest -q tests/test_x.py`.
        timeout_s: Seconds before it is killed (at most 3600).
    """
    ctx.session.check_working()
    if not (math.isfinite(timeout_s) and 0 < timeout_s <= _LONGEST_S):
        raise ToolError(f"timeout_s must be above 0 and at most {_LONGEST_S:g} seconds (got {timeout_s})")
    sandbox = ctx.session.sandbox
    done = await sandbox.exec(["bash", "-c", command], timeout_s=timeout_s)
    most = ctx.session.env.limits.stream_kib * 1024
    status = f"timed out after {timeout_s:g} s and was killed" if done.timed_out else f"exit code {done.exit_code}"
    text = f"{status}\n--- stdout ---\n{_capped(done.stdout, most)}\n--- stderr ---\n{_capped(done.stderr, most)}"
    _log(ctx, f"$ {command}", f"{status}\n{_capped(done.stdout, most)}\n{_capped(done.stderr, most)}")
    return ToolResult(text, is_error=done.timed_out or done.exit_code != 0)


@shell_tools.tool
async def read_file(ctx: ToolContext, path: str, start_line: int = 1, end_line: int | None = None) -> ToolResult:
    """Read a text file in the workspace, with line numbers.

    Args:
        path: The file, relative to the workspace.
        start_line: The first line shown (from 1).
        end_line: The last line shown; none: to the end.
    """
    if start_line < 1 or (end_line is not None and end_line < start_line):
        raise ToolError(f"give 1 <= start_line <= end_line (got {start_line}, {end_line})")
    got = await _helper(ctx, "read", path=path, start=start_line, end=end_line)
    shown = "\n".join(f"{got['start'] + i:6d}  {line}" for i, line in enumerate(got["lines"]))
    _log(ctx, f"read {path} [{start_line}:{end_line or ''}]", f"{len(got['lines'])} of {got['total']} lines")
    return ToolResult(_capped(f"{path}: {got['total']} lines\n{shown}", ctx.session.env.limits.stream_kib * 1024))


@shell_tools.tool
async def write_file(ctx: ToolContext, path: str, content: str, start_line: int | None = None, end_line: int | None = None) -> ToolResult:
    """Write a text file in the workspace: the whole file, or lines `start_line` to `end_line` replaced by `content`.

    Args:
        path: The file, relative to the workspace (folders are created).
        content: The new text.
        start_line: With it, replace from this line (from 1; one past the end appends).
        end_line: The last line replaced; none with `start_line`: insert before `start_line`, replacing nothing.
    """
    ctx.session.check_working()
    if start_line is not None and (start_line < 1 or (end_line is not None and end_line < start_line)):
        raise ToolError(f"give 1 <= start_line <= end_line (got {start_line}, {end_line})")
    got = await _helper(ctx, "write", path=path, content=content, start=start_line, end=end_line)
    where = "whole file" if start_line is None else f"lines {start_line}-{end_line if end_line is not None else '(insert)'}"
    _log(ctx, f"write {path} ({where})", content)
    return ToolResult(f"Wrote {path} ({where}); it has {got['lines']} lines.")


@shell_tools.tool
async def list_dir(ctx: ToolContext, path: str = ".") -> ToolResult:
    """List a folder of the workspace: names (folders end with `/`) and sizes in bytes.

    Args:
        path: The folder, relative to the workspace.
    """
    entries = await _helper(ctx, "list", path=path)
    _log(ctx, f"list {path}", f"{len(entries)} entries")
    return ToolResult("\n".join(f"{name}" + (f"  {size} B" if not name.endswith("/") else "") for name, size in entries) or "(empty)")


@shell_tools.tool
async def search(ctx: ToolContext, pattern: str, path: str = ".") -> ToolResult:
    """Find lines matching a regular expression in the text files under a folder (skips .git, caches, venvs).

    Args:
        pattern: A Python regular expression.
        path: The folder searched, relative to the workspace.
    """
    found = await _helper(ctx, "search", pattern=pattern, path=path, most=_MATCHES)
    _log(ctx, f"search {pattern!r} in {path}", f"{len(found)} matches")
    lines = [f"{file}:{number}: {text}" for file, number, text in found]
    more = f"\n(first {_MATCHES} matches; narrow the pattern or the folder)" if len(found) >= _MATCHES else ""
    return ToolResult("\n".join(lines) + more if lines else "no match")


def mode_tools(mode: str) -> Toolset:
    """The workspace tools of an environment's `mode`: the notebook's, the shell's (with the notebook's
    skill tools and `finish`), or both."""
    from seer.tools.notebook import notebook_tools
    from seer.tools.scoped import KEPT

    if mode == "shell":
        return Toolset.combine("shell", shell_tools, notebook_tools.only(*KEPT))
    return Toolset.combine("both", notebook_tools, shell_tools) if mode == "both" else notebook_tools
