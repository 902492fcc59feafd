"""`run.json`, typed: what ran, where, for which task, and how it ended.

`seer.run.RunDir` writes it (atomically, merging changes); every reader (the judge, the viewer's run
list, `seer resume`) reads it through `read_run`. Fields a newer Seer adds load as extras; fields an
older run lacks are `None`; only `status` is required.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from seer.errors import SeerError

__all__ = ["RunRecord", "read_run"]


class RunRecord(BaseModel):
    """One run's `run.json`."""

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    format: str = "seer.run/1"
    """The version of this record's layout."""
    id: str | None = None
    """The run id, which is also the folder's name."""
    started_at: str | None = None
    """UTC, ISO 8601, like every time in the record."""
    status: str
    """`starting`, `running`, `finished`, `stopped`, `failed` or `closed`."""
    ended_at: str | None = None
    pid: int | None = None
    """The process that runs (or ran) the session: a `running` run whose process is gone was interrupted."""
    argv: list[str] = []
    """The command line of the process that started the run."""
    versions: dict[str, str] = {}
    """Python and the packages the run depends on (seer-interp, torch, transformers …)."""
    environment: dict[str, Any] | None = None
    """The environment the session was started with (`Environment.model_dump`)."""
    agent: dict[str, Any] | None = None
    """`provider` (the name chosen), `model`, and what `seer resume` needs to rebuild it; none for a bare session."""
    task: str | None = None
    """The task text the agent was given."""
    task_dir: str | None = None
    """The task folder it came from (its ground truth stays out of the sandbox); none for a free task."""
    variant: int | None = None
    """Which of the task's hidden variants the seed drew."""
    variant_name: str | None = None
    seed: int | None = None
    """The run's seed (it draws the variant); the kernel's own seed is the environment's `seed`."""
    blind: dict[str, Any] | None = None
    """`{"blind": true}`, or `{"blind": false, "reason": ...}`."""
    workspace: str | None = None
    """Where the sandbox's working directory was, when it is not `workspace/` in the run folder."""
    stop: dict[str, Any] | None = None
    """`reason`, `limit`, `detail` once an agent run has ended."""
    budget: dict[str, Any] | None = None
    """The limits the agent ran under: `turns`, `tokens`, `cost_usd`, `wall_s`."""
    spent: dict[str, Any] | None = None
    """What it used: turns, tokens (by kind), `cost_usd` (`cost_known` false when a price was missing), `wall_s`."""
    interactive: bool = False
    """Whether a researcher took part (`seer chat`)."""
    report: str | None = None
    """The agent's final report (also in `report.md`)."""
    answer: Any = None
    """The structured answer handed to `finish`, when the task asks for one."""
    error: str | None = None
    """Why the session failed, when it did."""
    cells: int | None = None
    """How many cells the notebook had when the session closed."""
    finished_at: str | None = None
    """When the agent handed in its report (`finish`); none for a run that never finished."""


def read_run(run: Path) -> RunRecord:
    """The record of the run in folder `run`.

    Raises:
        SeerError: The folder holds no readable `run.json`, or it is not a run record.
    """
    try:
        data = json.loads((run / "run.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raise SeerError(f"{run}: not a run directory (no readable run.json)") from None
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SeerError(f"{run / 'run.json'}: not a Seer run record ({problems})") from None
