"""A kernel's stray children (detached with `os.setsid`, holding the kernel's sockets) end with it: on
restart, which then works, and when the session closes. A confined kernel sees neither the harness
nor its secrets."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.session import Session

pytestmark = pytest.mark.anyio

STRAY = """\
import os, time
held = open({path!r}, "w")
if os.fork() == 0:
    os.setsid()
    time.sleep(600)
    os._exit(0)
print("forked")
"""


def holders(path: Path) -> list[int]:
    """Processes with `path` open."""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir()):
                found.append(int(fd_dir.parent.name))
        except OSError:
            continue
    return found


def gone(path: Path) -> bool:
    """True once nothing holds `path` (a killed process takes a moment to disappear; bounded)."""
    for _ in range(100):
        if not holders(path):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("isolation", ["auto", "off"])
async def test_a_setsid_child_ends_with_a_restart_and_with_the_session(tmp_path: Path, isolation: str) -> None:
    env = Environment.model_validate({"sandbox": {"isolation": isolation}})
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        first = Path(session.sandbox.workspace) / "held-1"
        assert (await session.execute(STRAY.format(path=str(first)))).run.status == "ok"
        assert holders(first), "the stray child should hold the file while the kernel lives"
        await session.restart()
        assert gone(first)
        cell = await session.execute("print('alive after restart')")
        assert cell.run.status == "ok" and "alive after restart" in cell.render()[0]
        second = Path(session.sandbox.workspace) / "held-2"
        await session.execute(STRAY.format(path=str(second)))
        assert holders(second)
    assert gone(second)


PROBE = """\
import json, os, pathlib
def readable(path):
    try:
        pathlib.Path(path).read_bytes()
        return True
    except OSError:
        return False
print(json.dumps({{
    "harness_visible": os.path.exists("/proc/{pid}"),
    "harness_environ": readable("/proc/{pid}/environ"),
    "dotenv": readable({dotenv!r}),
    "home": readable({home_file!r}),
    "key_in_env": "OPENAI_API_KEY" in os.environ,
    "workspace_writable": os.access(os.getcwd(), os.W_OK),
}}))
"""


async def test_a_confined_kernel_sees_neither_the_harness_nor_its_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    (project / ".env").write_text("OPENAI_API_KEY=sk-fake-from-dotenv\n")
    (home / ".netrc").write_text("machine example.com password fake\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-from-the-shell")
    code = PROBE.format(pid=os.getpid(), dotenv=str(project / ".env"), home_file=str(home / ".netrc"))
    async with Session.open(Environment(), runs_dir=project / "runs") as session:
        seen = json.loads((await session.execute(code)).render()[0].split("\n", 1)[1])
        record = session.run.read_record()["isolation"]
    assert record["kernel"] == "bubblewrap" and "not the harness's process" in record["guarantee"]
    assert seen == {"harness_visible": False, "harness_environ": False, "dotenv": False, "home": False,
                    "key_in_env": False, "workspace_writable": True}  # fmt: skip
