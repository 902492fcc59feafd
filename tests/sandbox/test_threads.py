"""Kernels get a torch/BLAS thread count from the cores their session may use, recorded in run.json."""

import asyncio
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seer.environment import Environment, sandbox_spec
from seer.sandbox.local import LocalSandbox
from seer.sandbox.threads import SessionRegistry, thread_allowance, usable_cores
from seer.scope.client import ScopeServer
from seer.session import Session

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions of this module count only each other, whatever else runs on the machine."""
    monkeypatch.setenv("SEER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return tmp_path / "runtime"


THREADS = "import os, torch\nprint(os.environ['OMP_NUM_THREADS'], os.environ['OPENBLAS_NUM_THREADS'], torch.get_num_threads())"


async def test_two_sessions_at_once_share_the_cores_and_say_so(tmp_path: Path) -> None:
    env = Environment(name="threads", timeouts={"cell_s": 60})
    cores = usable_cores()
    async with Session.open(env, runs_dir=tmp_path / "runs") as first:
        async with Session.open(env, runs_dir=tmp_path / "runs") as second:
            cell = await second.execute(THREADS)
            expected = max(1, cores // 2)
            assert cell.render()[0].splitlines()[-1] == f"{expected} {expected} {expected}"  # torch obeys it
            record = second.run.read_record()["threads"]
            assert record == {"threads": expected, "reason": f"{cores} usable cores / 2 Seer session(s) running here"}
        assert first.run.read_record()["threads"]["threads"] == cores  # it was alone when it started
        assert first.sandbox.sessions_here() == 1  # the second left when it closed


async def test_sessions_started_together_count_each_other(tmp_path: Path) -> None:
    env = Environment(name="threads", timeouts={"cell_s": 60})
    opened = await asyncio.gather(*(Session.start(env, runs_dir=tmp_path / "runs") for _ in range(3)))
    try:
        assert [s.run.read_record()["threads"]["threads"] for s in opened] == [max(1, usable_cores() // 3)] * 3
    finally:
        await asyncio.gather(*(s.close() for s in opened))


async def test_sandbox_cpus_and_the_environments_env_choose_the_count(tmp_path: Path) -> None:
    env = Environment(name="threads", sandbox={"cpus": 1.5}, timeouts={"cell_s": 60})
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        cell = await session.execute(THREADS)
        assert cell.render()[0].splitlines()[-1] == "1 1 1"
        assert session.run.read_record()["threads"] == {"threads": 1, "reason": "[sandbox] cpus = 1.5"}
    env = Environment(name="threads", env={"OMP_NUM_THREADS": "3"}, timeouts={"cell_s": 60})
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        cell = await session.execute("import os\nprint(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])")
        assert cell.render()[0].splitlines()[-1] == "3 3"
        assert session.run.read_record()["threads"]["reason"] == "OMP_NUM_THREADS in the environment's env"


def test_dead_reused_and_dropped_entries_leave_the_registry(own_registry: Path) -> None:
    registry = SessionRegistry()
    registry.join()
    folder = registry.folder
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (folder / f"{dead.stdout.strip()}-gone").write_text("1")  # a harness that died
    (folder / f"{dead.stdout.strip()}-empty").write_text("")  # ... with an unreadable start time
    (folder / f"{os.getppid()}-reused").write_text("1")  # a live pid, but not the process that joined
    assert registry.count() == 1 and len(list(folder.iterdir())) == 1
    dropped = SessionRegistry()
    dropped.join()
    assert registry.count() == 2
    del dropped  # a sandbox dropped without terminate
    gc.collect()
    assert registry.count() == 1
    registry.leave()
    assert registry.count() == 0


def test_remote_sandboxes_use_what_they_reserve_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert thread_allowance(sandbox_spec({"provider": "ray"})).threads == 2
    assert thread_allowance(sandbox_spec({"provider": "modal", "cpus": 8})).threads == 8
    assert thread_allowance(sandbox_spec({"provider": "ray", "cpus": 0.5})).threads == 1
    jupyter = thread_allowance(sandbox_spec({"provider": "jupyter", "url": "http://127.0.0.1:1"}))
    assert jupyter.threads is None and jupyter.env() == {} and "[sandbox] cpus" in jupyter.reason
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert thread_allowance(sandbox_spec({}), sessions=4).record() == {"threads": 5, "reason": "OMP_NUM_THREADS set on the host"}
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_allowance(sandbox_spec({}), sessions=10**6).threads == 1


async def test_a_scope_server_gets_the_thread_count_too(tmp_path: Path) -> None:
    interface = tmp_path / "interface.py"
    interface.write_text(
        "import os\nfrom seer_scope import expose\n\n\n@expose\ndef threads() -> str:\n"
        '    """The scope server\'s OMP_NUM_THREADS."""\n    return os.environ.get("OMP_NUM_THREADS", "unset")\n'
    )
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    server = await ScopeServer.start(sandbox, interface, env={"OMP_NUM_THREADS": "1"})
    try:
        assert await server.call("threads", {}) == "1"
    finally:
        await server.close()
        await sandbox.terminate()
