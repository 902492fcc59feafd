"""`seer tasks`, `seer skills`: what ships with Seer."""

from __future__ import annotations

import typer

from seer.cli.options import fail
from seer.errors import SeerError

__all__ = ["skills", "tasks"]


def tasks() -> None:
    """List the packaged tasks: name and what the agent must find."""
    from seer.task import packaged_tasks

    try:
        found = packaged_tasks()
    except SeerError as exc:
        raise fail(exc) from None
    width = max(map(len, found), default=0)
    for name, task in found.items():
        baseline = "  [scripted baseline]" if task.baseline else ""
        typer.echo(f"{name:{width}}  {task.summary}{baseline}")


def skills() -> None:
    """List the packaged skills: name and what each teaches (equip one with `seer run --skill NAME`)."""
    from seer.skills import packaged_skills

    found = packaged_skills()
    width = max(map(len, found), default=0)
    for name, skill in found.items():
        typer.echo(f"{name:{width}}  {skill.description}")
