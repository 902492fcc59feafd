"""Start a run from the viewer's page: the form's fields become a `seer run` command in its own process,
writing into the viewer's runs folder, so the new run appears on the page like any other."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from seer.agent.providers import PROVIDERS
from seer.errors import SpecError
from seer.skills import find_skill, packaged_skills
from seer.task import packaged_tasks

__all__ = ["LaunchRequest", "launch", "launch_options"]


class LaunchRequest(BaseModel, extra="forbid"):
    """What the launch form sends."""

    target: str = ""
    """A packaged task's name, or a folder with task.md and env.toml; empty for a bare notebook."""
    task: str = ""
    """The task text; overrides the target's task.md."""
    provider: str = "scripted"
    model: str = ""
    plan: str = ""
    """The scripted provider's plan file."""
    skills: list[str] = Field(default_factory=list)
    """Skills to equip: packaged skills' names or folders holding a SKILL.md."""
    libraries: list[str] = Field(default_factory=list)
    """Python files or packages the agent can import."""
    toolkit: bool = True
    """Offer the interpretability toolkit (`seer_interp`)."""
    max_turns: int = Field(60, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    max_cost: float | None = Field(5.0, gt=0)
    max_wall_s: float | None = Field(3600.0, gt=0)
    page_checkpoints_s: float = Field(600.0, gt=0)
    """How long a checkpoint question waits for an answer typed in the page."""

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in PROVIDERS:
            raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(PROVIDERS)}")
        return value

    @field_validator("skills")
    @classmethod
    def _skills_exist(cls, value: list[str]) -> list[str]:
        for skill in value:
            try:
                find_skill(skill)
            except SpecError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("libraries")
    @classmethod
    def _libraries_exist(cls, value: list[str]) -> list[str]:
        missing = [library for library in value if not Path(library).exists()]
        if missing:
            raise ValueError(f"no such file or folder: {', '.join(missing)}; give each library's full path")
        return value


def launch_options() -> dict[str, Any]:
    """What the form offers: the packaged tasks, skills and providers."""
    return {
        "tasks": {name: task.summary for name, task in packaged_tasks().items()},
        "skills": {name: skill.description for name, skill in packaged_skills().items()},
        "providers": PROVIDERS,
    }


def launch(request: LaunchRequest, runs_dir: Path) -> dict[str, Any]:
    """Start `seer run` for `request` in the background; returns its pid and log file."""
    argv = [sys.executable, "-m", "seer", "run"]
    if request.target:
        argv.append(request.target)
    argv += ["--provider", request.provider, "--runs-dir", str(runs_dir), "--max-turns", str(request.max_turns),
             "--max-tokens", str(request.max_tokens or "none"), "--max-cost", str(request.max_cost or "none"),
             "--max-wall", str(request.max_wall_s or "none"),
             "--page-checkpoints", str(request.page_checkpoints_s)]  # fmt: skip
    for flag, value in (("--task", request.task), ("--model", request.model), ("--plan", request.plan)):
        if value:
            argv += [flag, value]
    argv += [arg for skill in request.skills for arg in ("--skill", skill)]
    argv += [arg for library in request.libraries for arg in ("--library", library)]
    if not request.toolkit:
        argv.append("--no-toolkit")
    logs = runs_dir / ".launched"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    threading.Thread(target=process.wait, daemon=True).start()  # reaps it when it ends; the run outlives the page
    return {"pid": process.pid, "log": str(log), "argv": argv}
