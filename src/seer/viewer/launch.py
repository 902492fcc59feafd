"""Start a run from the viewer's page or API: the request's fields become a `seer run` command in its own
process, writing into the viewer's runs folder, so the new run appears on the page like any other.

A launch is code execution as the user, so what it may name is narrow: a packaged task or a folder under
the allowed roots, plan, skill and library paths under those roots, no value that starts with `-`, every
option written `--name=value` and `--` before the target; a cost cap unless the provider is keyless and
local (`KEYLESS`)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from seer.agent.providers import provider_names
from seer.errors import SpecError
from seer.run import new_run_id
from seer.skills import find_skill, packaged_skills
from seer.task import packaged_tasks

__all__ = ["KEYLESS", "ContinueRequest", "LaunchRequest", "Launcher", "launch_options"]

KEYLESS = ("scripted", "vllm", "ollama", "llamacpp")
"""Providers that need no key and call nothing outside this machine by default: no cost cap needed."""


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
    max_cost: float | None = Field(5.0, gt=0, allow_inf_nan=False)
    max_wall_s: float | None = Field(3600.0, gt=0, allow_inf_nan=False)
    page_checkpoints_s: float = Field(600.0, gt=0, allow_inf_nan=False)
    """How long a checkpoint question waits for an answer typed in the page."""

    @field_validator("target", "model", "plan", "skills", "libraries")
    @classmethod
    def _no_options(cls, value: str | list[str]) -> str | list[str]:
        for item in [value] if isinstance(value, str) else value:
            if item.startswith("-"):
                raise ValueError(f"{item!r} starts with '-': a value here is never a command-line option")
        return value

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in provider_names():
            raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(provider_names())}")
        return value

    @model_validator(mode="after")
    def _capped(self) -> LaunchRequest:
        if self.max_cost is None and self.provider not in KEYLESS:
            raise ValueError(f"provider {self.provider!r} spends money: set max_cost (only {', '.join(KEYLESS)} run without one)")
        return self


class ContinueRequest(BaseModel, extra="forbid"):
    """A stopped run's new limits: `seer resume` with them (a limit left out keeps the run's own)."""

    max_turns: int | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    max_cost: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_wall_s: float | None = Field(None, gt=0, allow_inf_nan=False)


def launch_options() -> dict[str, Any]:
    """What the form offers: the packaged tasks, skills and providers."""
    return {
        "tasks": {name: task.summary for name, task in packaged_tasks().items()},
        "skills": {name: skill.description for name, skill in packaged_skills().items()},
        "providers": provider_names(),
    }


class Launcher:
    """Checks and starts launches into `runs_dir`; paths must lie under `roots`."""

    def __init__(self, runs_dir: Path, roots: tuple[Path, ...]) -> None:
        self.runs_dir = runs_dir
        self.roots = tuple(root.resolve() for root in roots)

    def _inside(self, value: str, what: str) -> str:
        """`value` as an absolute path under a root.

        Raises:
            ValueError: It is missing or outside every root."""
        path = Path(value).expanduser().resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            allowed = ", ".join(map(str, self.roots))
            raise ValueError(f"{what} {value!r} is outside the folders launches may use ({allowed}); "
                             "start `seer view --allow-path DIR` to allow another")  # fmt: skip
        if not path.exists():
            raise ValueError(f"{what} {value!r}: no such file or folder; give its full path")
        return str(path)

    def check(self, request: LaunchRequest) -> LaunchRequest:
        """`request` with every path made absolute and checked against the roots.

        Raises:
            ValueError: A path is outside the roots or missing, or a skill is neither packaged nor a folder."""
        target = request.target
        if target and target not in packaged_tasks():
            target = self._inside(target, "task folder")
            if not (Path(target) / "task.md").is_file():
                raise ValueError(f"{request.target!r} is neither a packaged task (`seer tasks`) nor a folder with a task.md")
        skills = []
        for skill in request.skills:
            if skill not in packaged_skills() and "/" not in skill:
                raise ValueError(f"no packaged skill {skill!r} (`seer skills` lists them); give a skill folder by its full path")
            name = skill if skill in packaged_skills() else self._inside(skill, "skill folder")
            try:
                find_skill(name)
            except SpecError as exc:
                raise ValueError(str(exc)) from None
            skills.append(name)
        return request.model_copy(update={
            "target": target, "skills": skills,
            "plan": self._inside(request.plan, "plan file") if request.plan else "",
            "libraries": [self._inside(library, "library") for library in request.libraries],
        })  # fmt: skip

    def resume(self, run: Path, request: ContinueRequest) -> dict[str, Any]:
        """Start `seer resume` of the stopped run `run` (under `runs_dir`) with raised limits, in the background."""
        argv = [sys.executable, "-m", "seer", "resume"]
        for flag, value in (("--max-turns", request.max_turns), ("--max-tokens", request.max_tokens), ("--max-cost", request.max_cost),
                            ("--max-wall", request.max_wall_s)):  # fmt: skip
            if value is not None:
                argv.append(f"{flag}={value}")
        return self._start([*argv, "--", str(run)], run.name, f"{run.name}.continue")

    def _start(self, argv: list[str], run_id: str, log_name: str) -> dict[str, Any]:
        logs = self.runs_dir / ".launched"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{log_name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # fmt: skip
        threading.Thread(target=process.wait, daemon=True).start()  # reaps it when it ends; the run outlives the page
        return {"id": run_id, "url": f"/run/{run_id}", "pid": process.pid, "log": str(log), "argv": argv}

    def launch(self, request: LaunchRequest) -> dict[str, Any]:
        """Start `seer run` for a checked `request` in the background; returns the new run's id, page, pid and log."""
        run_id = new_run_id("viewer")
        argv = [sys.executable, "-m", "seer", "run", f"--run-id={run_id}", f"--provider={request.provider}",
                f"--runs-dir={self.runs_dir}", f"--max-turns={request.max_turns}",
                f"--max-tokens={request.max_tokens or 'none'}", f"--max-cost={request.max_cost or 'none'}",
                f"--max-wall={request.max_wall_s or 'none'}", f"--page-checkpoints={request.page_checkpoints_s}"]  # fmt: skip
        for flag, value in (("--task", request.task), ("--model", request.model), ("--plan", request.plan)):
            if value:
                argv.append(f"{flag}={value}")
        argv += [f"--skill={skill}" for skill in request.skills]
        argv += [f"--library={library}" for library in request.libraries]
        if not request.toolkit:
            argv.append("--no-toolkit")
        if request.target:
            argv += ["--", request.target]
        return self._start(argv, run_id, run_id)
