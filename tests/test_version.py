"""The version handshake between the harness and the code it ships into sandboxes."""

from __future__ import annotations

from pathlib import Path

import pytest

import seer
from seer.environment import Environment
from seer.errors import SandboxError
from seer.session import Session
from seer.version import read_shipped_version

pytestmark = pytest.mark.anyio


def test_the_shipped_code_and_the_harness_carry_one_version() -> None:
    shipped = (Path(seer.__file__).parent / "interp" / "_version.py").read_text()
    assert read_shipped_version(shipped) == seer.__version__


async def test_a_stale_toolkit_the_kernel_would_import_is_refused_naming_both_versions(tmp_path: Path) -> None:
    stale = tmp_path / "seer_interp"
    stale.mkdir()
    (stale / "__init__.py").write_text("")
    (stale / "_version.py").write_text('__version__ = "0.0.9"\n')
    env = Environment.from_dict({"files": [{"source": str(stale)}]})  # lands in the workspace, ahead of libs/
    with pytest.raises(SandboxError) as caught:
        await Session.start(env, runs_dir=tmp_path / "runs")
    message = str(caught.value)
    assert "runs Seer code version 0.0.9, but this harness is version " + seer.__version__ in message
    assert "remove the stale copy" in message and "workspace/seer_interp" in message


async def test_a_matching_toolkit_passes_the_handshake(tmp_path: Path) -> None:
    async with Session.open(Environment(), runs_dir=tmp_path) as session:
        cell = await session.execute("import seer_interp._version as v\nprint(v.__version__)")
    assert cell.render()[0].splitlines()[-1] == seer.__version__
