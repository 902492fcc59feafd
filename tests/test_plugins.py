"""Providers from outside the package: a plugin distribution, installed the way pip lays one out (its
module and a dist-info folder with `entry_points.txt` on the path), registers a sandbox provider and an
LLM provider, and `seer run` uses both; bad names, bad options and broken plugins are clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from seer.agent.providers import make_provider, provider_names
from seer.doctor import check_provider
from seer.environment import Environment
from seer.errors import SpecError

PLUGIN = '''
from seer.agent.providers import ProviderPlugin
from seer.agent.providers.scripted import ScriptedProvider
from seer.environment import SandboxSpec
from seer.sandbox.base import SandboxPlugin
from seer.sandbox.local import LocalSandbox


class TinySpec(SandboxSpec):
    greeting: str


def make(env, run_path, run_id):
    (run_path / "made-by-plugin.txt").write_text(env.sandbox.greeting)
    return LocalSandbox(run_path / "workspace", log_path=run_path / "kernel.log", private=run_path / "private")


async def check(spec):
    return [] if spec.greeting else ["the tiny box wants a greeting"]


SANDBOX = SandboxPlugin(make=make, spec=TinySpec, check=check)

STEPS = [{"tool": "execute_code", "arguments": {"code": "print(6 * 7)"}},
         {"tool": "finish", "arguments": {"report": "The kernel prints 42 (cell 1)."}}]
LLM = ProviderPlugin(make=lambda model, endpoint: ScriptedProvider(STEPS, model=model or "fixed"), needs_model=False)
'''

ENTRY_POINTS = """[seer.sandbox_providers]
tinybox = seer_tiny_plugin:SANDBOX

[seer.llm_providers]
tiny-llm = seer_tiny_plugin:LLM
broken-llm = seer_tiny_plugin:MISSING
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the installed plugin, on this process's path."""
    site = tmp_path / "site"
    (site / "seer_tiny_plugin").mkdir(parents=True)
    (site / "seer_tiny_plugin" / "__init__.py").write_text(PLUGIN)
    info = site / "seer_tiny_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: seer-tiny-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_seer_run_uses_a_plugin_sandbox_and_a_plugin_llm(site: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "env.toml"
    env_file.write_text('[sandbox]\nprovider = "tinybox"\ngreeting = "hello from the plugin"\n')
    runs = tmp_path / "runs"
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "seer", "run", str(env_file), "--task", "Print six times seven.", "--provider", "tiny-llm",
         "--runs-dir", str(runs)],
        env=environ, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = runs.iterdir()
    assert (run / "made-by-plugin.txt").read_text() == "hello from the plugin"
    record = json.loads((run / "run.json").read_text())
    assert record["agent"]["provider"] == "tiny-llm" and record["status"] == "finished", record
    cells = json.loads((run / "notebook.ipynb").read_text())["cells"]
    assert any("42" in "".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


def test_plugin_names_are_offered_and_mistakes_are_named(site: Path) -> None:
    assert provider_names()[-2:] == ["broken-llm", "tiny-llm"]
    with pytest.raises(SpecError, match=r"unknown sandbox provider 'tinybx'; did you mean 'tinybox'\?"):
        Environment.from_dict({"sandbox": {"provider": "tinybx"}})
    with pytest.raises(SpecError, match=r"sandbox: greting: unknown field; did you mean 'greeting'\? known fields: blind, cpus, greeting, provider"):
        Environment.from_dict({"sandbox": {"provider": "tinybox", "greeting": "hi", "greting": "x"}})
    with pytest.raises(SpecError, match=r"sandbox: greeting: unknown field; known fields: blind, cpus, isolation, provider"):
        Environment.from_dict({"sandbox": {"provider": "local", "greeting": "hi"}})
    assert Environment.from_dict({"sandbox": {"provider": "tinybox", "greeting": "hi"}}).model_dump()["sandbox"]["greeting"] == "hi"
    with pytest.raises(SpecError, match=r"'broken-llm' \(seer_tiny_plugin:MISSING\) failed to load: AttributeError"):
        make_provider("broken-llm")


def test_doctor_asks_the_plugin(site: Path) -> None:
    said: list[str] = []
    spec = Environment.from_dict({"sandbox": {"provider": "tinybox", "greeting": ""}}).sandbox
    assert anyio.run(check_provider, spec, said.append) is False
    assert "  ✗ the tiny box wants a greeting" in said


def test_without_the_plugin_its_names_are_unknown() -> None:
    assert "tiny-llm" not in provider_names()
    with pytest.raises(SpecError, match="unknown sandbox provider 'tinybox'; .*choose one of: local, jupyter, modal, ray"):
        Environment.from_dict({"sandbox": {"provider": "tinybox"}})
