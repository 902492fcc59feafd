"""The run directory: one folder per run, the single source of truth about what happened.

```
runs/<run-id>/
  run.json          environment, versions, start time, status, hidden set-up steps, final report
  notebook.ipynb    what the agent ran and saw, saved atomically as it grows
  report.md         the agent's final report (once it calls `finish`)
  artifacts/        full outputs too large for the agent, images, files the run produced
  workspace/        the local sandbox's working directory
```
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from seer.errors import SeerError

__all__ = ["RUN_ID", "RunDir", "atomic_write", "new_run_id", "now_iso", "pid_alive"]

RUN_FORMAT = "seer.run/1"
_VERSIONED = ("seer-interp", "jupyter_client", "ipykernel", "mcp", "pydantic", "torch", "transformers")


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def pid_alive(pid: object) -> bool:
    """Whether `pid` is a live process on this machine (a zombie counts as gone)."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc here: kill(0) succeeding is all we know


RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
"""What a run id may be: a plain folder name."""


def new_run_id(label: str) -> str:
    """A run id that sorts by time and never collides: `20261122-031500-demo-3f9a1c`."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{label}-{secrets.token_hex(3)}"


def atomic_write(path: Path, data: str | bytes, *, fsync: bool = True) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never a mix."""
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


@dataclass(frozen=True)
class RunDir:
    """One run's folder and its `run.json`."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def notebook_path(self) -> Path:
        return self.path / "notebook.ipynb"

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts"

    @property
    def workspace(self) -> Path:
        return self.path / "workspace"

    @classmethod
    def create(cls, runs_dir: str | Path, label: str, record: dict[str, Any], *, run_id: str | None = None) -> RunDir:
        """Make a fresh run folder under `runs_dir` (named `run_id`, or a new id) and write its first `run.json`.

        Raises:
            SeerError: `run_id` is not a plain name or is taken, or the folder cannot be created."""
        runs = Path(runs_dir)
        if run_id is not None and not RUN_ID.match(run_id):
            raise SeerError(f"run id {run_id!r} is not a plain name: use letters, digits, '.', '_' and '-'")
        while True:
            path = runs / (run_id or new_run_id(label))
            try:
                path.mkdir(parents=True)
                break
            except FileExistsError:  # two runs in the same second drew the same suffix; draw again
                if run_id is not None:
                    raise SeerError(f"a run {run_id!r} already exists in {str(runs)!r}; choose another id") from None
                continue
            except OSError as exc:
                raise SeerError(
                    f"cannot create a run directory in {str(runs)!r}: {exc.strerror}; "
                    "pass a writable folder (`--runs-dir` on the command line)"
                ) from None
        run = cls(path.resolve())
        run.artifacts.mkdir()
        run.workspace.mkdir()
        run.write_record(
            {
                "format": RUN_FORMAT,
                "id": run.id,
                "started_at": now_iso(),
                "status": "starting",
                "pid": os.getpid(),
                "versions": _versions(),
                "argv": sys.argv,
                **record,
            }
        )
        return run

    def read_record(self) -> dict[str, Any]:
        return json.loads((self.path / "run.json").read_text())

    def write_record(self, record: dict[str, Any]) -> None:
        atomic_write(self.path / "run.json", json.dumps(record, indent=2, default=str))

    def update_record(self, **changes: Any) -> None:
        """Merge `changes` into `run.json` (atomically)."""
        self.write_record({**self.read_record(), **changes})
