import json
import os
from pathlib import Path

import pytest

from seer.errors import SeerError
from seer.run import RunDir, atomic_write


def test_run_ids_never_collide_even_within_one_second(tmp_path: Path) -> None:
    runs = [RunDir.create(tmp_path, "same", {}) for _ in range(50)]
    assert len({run.id for run in runs}) == 50
    record = runs[0].read_record()
    assert record["format"] == "seer.run/1" and record["status"] == "starting" and record["pid"] == os.getpid()
    assert record["versions"]["python"] and runs[0].artifacts.is_dir() and runs[0].workspace.is_dir()


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    atomic_write(target, json.dumps({"v": 1}))

    with pytest.raises(TypeError):  # fails inside the write, after the temporary file exists
        atomic_write(target, object())  # type: ignore[arg-type]
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_an_unwritable_runs_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SeerError, match="cannot create a run directory in .*pass a writable folder"):
        RunDir.create(blocker / "runs", "x", {})
