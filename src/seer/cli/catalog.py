"""`seer tasks`, `seer skills` (and `seer skills export`): what ships with Seer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seer.cli.options import fail
from seer.errors import SeerError

__all__ = ["skills_app", "tasks"]


def tasks() -> None:
    """List the packaged tasks (name and what the agent must find), then the agent-on-agent environments."""
    from seer.task import PACKAGED_ENVIRONMENTS, packaged_tasks

    try:
        found, environments = packaged_tasks(), packaged_tasks(PACKAGED_ENVIRONMENTS)
    except SeerError as exc:
        raise fail(exc) from None
    width = max(map(len, [*found, *environments]), default=0)
    for name, task in found.items():
        baseline = "  [scripted baseline]" if task.baseline else ""
        typer.echo(f"{name:{width}}  {task.summary}{baseline}")
    typer.echo("\nEnvironments (an agent against other models; docs/environments.md):")
    for name, task in environments.items():
        typer.echo(f"{name:{width}}  {task.summary}")


skills_app = typer.Typer(add_completion=False)


@skills_app.callback(invoke_without_command=True)
def skills(ctx: typer.Context) -> None:
    """List the packaged skills: name and what each teaches (equip one with `seer run --skill NAME`);
    `seer skills export DIR` writes them for Claude Code."""
    from seer.skills import packaged_skills

    if ctx.invoked_subcommand is not None:
        return
    found = packaged_skills()
    width = max(map(len, found), default=0)
    for name, skill in found.items():
        typer.echo(f"{name:{width}}  {skill.description}")


@skills_app.command("export")
def export(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Where the skill folders go (e.g. ~/.claude/skills or .claude/skills).")],
    skill: Annotated[list[str] | None, typer.Option("--skill", metavar="NAME|PATH", help="Export only this skill; repeatable.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace skill folders already in DIR.")] = False,
) -> None:
    """Write the packaged skills (or those `--skill` names) in Claude Code's skill layout: DIR/<name>/SKILL.md."""
    from seer.skills import export_skill, find_skill, packaged_skills, read_skill

    try:
        chosen = [read_skill(find_skill(name)) for name in skill] if skill else list(packaged_skills().values())
        folder.mkdir(parents=True, exist_ok=True)
        for one in chosen:
            typer.echo(f"Written: {export_skill(one, folder, force=force)}")
    except (SeerError, OSError) as exc:
        raise fail(exc if isinstance(exc, SeerError) else SeerError(f"{folder}: {exc.strerror}")) from None
