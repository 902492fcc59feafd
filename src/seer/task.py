"""Tasks with ground truth: a folder holding what the agent is asked, what it works with, how it is graded,
and what is true.

```
tasks/<name>/
  task.md            what the agent is asked (the only text it sees from here)
  env.toml           its environment: models (hidden identities), files, skills
  rubric.toml        criteria for the rubric judge, and the deterministic check to run
  ground_truth.json  the answer; never copied into the workspace, never in a prompt
  baseline.json      optional: a scripted plan that performs a general technique (no answer inside)
```
`Task.agent_prompt` and `Task.environment` are all an agent run reads; the judge alone reads
`ground_truth` and `rubric`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seer.environment import Environment
from seer.errors import SpecError

__all__ = ["PACKAGED_TASKS", "Task", "find_task", "packaged_tasks"]

PACKAGED_TASKS = Path(__file__).parent / "tasks"


@dataclass(frozen=True)
class Task:
    """A task folder, read."""

    name: str
    path: Path
    agent_prompt: str
    environment: Environment
    rubric: dict[str, Any]
    ground_truth: dict[str, Any]

    @property
    def summary(self) -> str:
        return str(self.rubric.get("summary", self.agent_prompt.strip().splitlines()[0]))

    @property
    def baseline(self) -> Path | None:
        """The scripted baseline plan, if the task ships one."""
        plan = self.path / "baseline.json"
        return plan if plan.is_file() else None

    @classmethod
    def load(cls, path: str | Path) -> Task:
        """Read a task folder.

        Raises:
            SpecError: A required file is missing or malformed; the message names it.
        """
        path = Path(path)
        for required in ("task.md", "rubric.toml", "ground_truth.json"):
            if not (path / required).is_file():
                raise SpecError(f"{path}: a task folder needs {required}; it is missing")
        try:
            rubric = tomllib.loads((path / "rubric.toml").read_text())
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path / 'rubric.toml'}: not valid TOML: {exc}") from None
        try:
            truth = json.loads((path / "ground_truth.json").read_text())
        except json.JSONDecodeError as exc:
            raise SpecError(f"{path / 'ground_truth.json'}: not valid JSON: {exc}") from None
        env = Environment.from_toml(path / "env.toml") if (path / "env.toml").is_file() else Environment(name=path.name)
        return cls(path.name, path.resolve(), (path / "task.md").read_text(), env, rubric, truth)


def packaged_tasks() -> dict[str, Task]:
    """The tasks that ship with Seer, by name."""
    return {p.name: Task.load(p) for p in sorted(PACKAGED_TASKS.iterdir()) if (p / "task.md").is_file()}


def find_task(name_or_path: str | Path) -> Task | None:
    """A task folder path, or the name of a packaged task; `None` if it is neither."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "task.md").is_file():
        return Task.load(path)
    candidate = PACKAGED_TASKS / str(name_or_path)
    return Task.load(candidate) if (candidate / "task.md").is_file() else None
