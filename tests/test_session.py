import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.errors import SandboxError, SessionClosed
from seer.session import Session
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio
OnProvider = Callable[[Environment], Environment]


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """Every test here runs on each provider: this machine, a Jupyter server, a Ray cluster."""
    return parametrized_provider


def make_workspace_sources(tmp_path: Path) -> Environment:
    (tmp_path / "data.txt").write_text("payload")
    (tmp_path / "mylib.py").write_text("def answer():\n    return 42\n")
    skill = tmp_path / "skills" / "probe"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: probe\ndescription: Probe a model.\n---\n# Probe\nSteps.\n")
    return Environment.from_dict(
        {
            "name": "ws",
            "files": [{"source": str(tmp_path / "data.txt"), "dest": "inputs/data.txt"}],
            "libraries": [str(tmp_path / "mylib.py")],
            "skills": [str(skill)],
            "init_code": "import mylib\nsecret_setup = 'hidden-setup-ran'\nprint('setup output')",
            "env": {"SEER_TEST_MODE": "on"},
        }
    )


async def test_the_workspace_is_installed_and_the_setup_stays_out_of_the_notebook(tmp_path: Path, on_provider: OnProvider) -> None:
    env = make_workspace_sources(tmp_path)
    async with Session.open(on_provider(env), runs_dir=tmp_path / "runs") as session:
        cell = await session.execute(
            "import os\nprint(open('inputs/data.txt').read(), mylib.answer(), secret_setup, os.environ['SEER_TEST_MODE'])\n"
            "print(sorted(os.listdir('skills/probe')))"
        )
        assert cell.run.status == "ok"
        assert cell.render()[0].endswith("payload 42 hidden-setup-ran on\n['SKILL.md']\n")
        assert session.skills["probe"].description == "Probe a model."
        record = session.run.read_record()
    notebook = read_valid_notebook(session.run.notebook_path)
    assert [c.source for c in notebook.cells] == [cell.run.code]
    assert "hidden-setup-ran" not in notebook.cells[0].source
    assert record["setup"][0]["reason"] == "start" and record["setup"][0]["output"] == "setup output\n"
    assert record["environment"]["name"] == "ws" and record["status"] == "running"
    assert json.loads((session.run.path / "run.json").read_text())["status"] == "closed"


async def test_host_secrets_stay_out_unless_the_policy_allows_them(tmp_path: Path, on_provider: OnProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEER_FAKE_API_KEY", "sk-host-only")
    monkeypatch.setenv("HF_TOKEN", "hf-allowed")
    env = Environment.from_dict({"secrets": {"allow": ["HF_TOKEN"]}})
    async with Session.open(on_provider(env), runs_dir=tmp_path) as session:
        cell = await session.execute("import os\nprint(os.environ.get('SEER_FAKE_API_KEY'), os.environ.get('HF_TOKEN'))")
    assert cell.render()[0].endswith("None hf-allowed\n")


async def test_a_secret_the_host_lacks_fails_at_start_and_says_so(tmp_path: Path, on_provider: OnProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEER_ABSENT_TOKEN", raising=False)
    env = Environment.from_dict({"secrets": {"allow": ["SEER_ABSENT_TOKEN"]}})
    with pytest.raises(SandboxError, match="'SEER_ABSENT_TOKEN', which the host does not set"):
        await Session.start(on_provider(env), runs_dir=tmp_path)
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


async def test_a_failing_init_code_stops_the_start_with_its_traceback(tmp_path: Path, on_provider: OnProvider) -> None:
    env = Environment(init_code="raise RuntimeError('setup broke')")
    with pytest.raises(SandboxError, match="setup broke"):
        await Session.start(on_provider(env), runs_dir=tmp_path)


async def test_packages_already_present_are_checked_not_reinstalled(tmp_path: Path, on_provider: OnProvider) -> None:
    env = Environment(packages=["nbformat>=5"])
    async with Session.open(on_provider(env), runs_dir=tmp_path) as session:
        assert session.run.read_record()["packages"] == {"requested": ["nbformat>=5"], "missing": []}


async def test_a_restart_reruns_the_hidden_setup(tmp_path: Path, on_provider: OnProvider) -> None:
    env = Environment(init_code="ready = 'set up'")
    async with Session.open(on_provider(env), runs_dir=tmp_path) as session:
        await session.execute("ready = 'changed'")
        await session.restart()
        cell = await session.execute("ready")
        assert cell.render()[0].endswith("'set up'\n")
        assert [s["reason"] for s in session.run.read_record()["setup"]] == ["start", "restart"]


async def test_four_parallel_sessions_write_four_separate_run_directories(tmp_path: Path, on_provider: OnProvider) -> None:
    async def one(i: int) -> Path:
        # four kernels (on ray, four Jupyter servers too) start at once on a 2-core machine: allow them time
        env = Environment(name=f"par{i}", timeouts={"kernel_start_s": 300})
        async with Session.open(on_provider(env), runs_dir=tmp_path) as session:
            await session.execute(f"print('session-{i}')")
            await session.finish(f"report {i}")
            return session.run.path

    paths = await asyncio.gather(*(one(i) for i in range(4)))
    assert len(set(paths)) == 4 and sorted(tmp_path.iterdir()) == sorted(paths)
    for i, path in enumerate(paths):
        record = json.loads((path / "run.json").read_text())
        assert record["environment"]["name"] == f"par{i}" and record["status"] == "finished"
        assert (path / "report.md").read_text() == f"report {i}"
        assert cell_text(read_valid_notebook(path / "notebook.ipynb").cells[0]) == f"session-{i}\n"


async def test_a_closed_session_refuses_calls(session: Session) -> None:
    await session.close()
    with pytest.raises(SessionClosed):
        await session.execute("1")
    await session.close()  # closing twice is harmless


async def test_a_seed_makes_the_kernel_reproducible_and_is_recorded(tmp_path: Path, on_provider: OnProvider) -> None:
    draws = []
    for _ in range(2):
        async with Session.open(on_provider(Environment(seed=1234)), runs_dir=tmp_path) as session:
            cell = await session.execute("import random\nprint(random.random())")
            draws.append(cell.render()[0].splitlines()[-1])
            assert session.run.read_record()["environment"]["seed"] == 1234
    assert draws[0] == draws[1]
