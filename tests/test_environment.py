import re
from pathlib import Path

import pytest

from seer.environment import Environment, ModelSpec
from seer.errors import SpecError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_toml_loads_every_section_and_resolves_paths_against_the_file(tmp_path: Path) -> None:
    write(tmp_path / "cfg" / "data.txt", "x")
    write(tmp_path / "cfg" / "helpers.py", "def f(): return 1\n")
    write(tmp_path / "cfg" / "skills" / "probe" / "SKILL.md", "# Probe\nDo it.\n")
    toml = write(
        tmp_path / "cfg" / "env.toml",
        """
name = "probe-run"
packages = ["nbformat>=5"]
libraries = ["helpers.py"]
skills = ["skills/probe"]
init_code = "x = 1"

[[models]]
id = "seer:smollm2-135m-instruct"
name = "target"
hidden = true

[[files]]
source = "data.txt"
dest = "inputs/data.txt"

[env]
MODE = "fast"

[secrets]
allow = ["HF_TOKEN"]

[timeouts]
cell_s = 30
""",
    )
    env = Environment.from_toml(toml)
    assert env.name == "probe-run"
    assert env.models == [ModelSpec(id="seer:smollm2-135m-instruct", name="target", hidden=True)]
    assert env.files[0].source == tmp_path / "cfg" / "data.txt"
    assert env.libraries == [tmp_path / "cfg" / "helpers.py"]
    assert env.skills == [tmp_path / "cfg" / "skills" / "probe"]
    assert env.env == {"MODE": "fast"} and env.secrets.allow == ["HF_TOKEN"] and env.timeouts.cell_s == 30


def test_a_typo_names_the_field_and_suggests_the_right_one(tmp_path: Path) -> None:
    toml = write(tmp_path / "env.toml", 'init_cod = "x = 1"\n[[models]]\nid = "gpt2"\nhiden = true\n')
    with pytest.raises(SpecError) as caught:
        Environment.from_toml(toml)
    message = str(caught.value)
    assert f"{toml}: init_cod: unknown field; did you mean 'init_code'?" in message
    assert "models[0].hiden: unknown field; did you mean 'hidden'?" in message


def test_missing_paths_and_bad_values_are_all_reported_at_load(tmp_path: Path) -> None:
    toml = write(
        tmp_path / "env.toml",
        'libraries = ["nope.py"]\nskills = ["."]\npackages = ["not a requirement!"]\n'
        '[[models]]\nid = "gpt2"\nname = "my model"\n[timeouts]\ncell_s = -1\n',
    )
    with pytest.raises(SpecError) as caught:
        Environment.from_toml(toml)
    message = str(caught.value)
    assert "packages: 'not a requirement!' is not a requirement" in message
    assert "models[0].name: 'my model' is not a Python identifier" in message
    assert "timeouts.cell_s: Input should be greater than 0" in message


def test_paths_are_checked_after_the_fields_parse(tmp_path: Path) -> None:
    toml = write(tmp_path / "env.toml", 'libraries = ["nope.py"]\nskills = ["."]\n')
    with pytest.raises(SpecError) as caught:
        Environment.from_toml(toml)
    assert "'nope.py' does not exist" in str(caught.value) or "nope.py' does not exist" in str(caught.value)
    assert "has no SKILL.md" in str(caught.value)


def test_a_missing_or_broken_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        Environment.from_toml(tmp_path / "absent.toml")
    with pytest.raises(SpecError, match="not valid TOML"):
        Environment.from_toml(write(tmp_path / "bad.toml", "name = \n"))


def test_file_destinations_cannot_leave_the_workspace(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    with pytest.raises(SpecError, match="leaves the workspace"):
        Environment.from_dict({"files": [{"source": str(tmp_path / "a.txt"), "dest": "../escape.txt"}]})


def test_two_models_with_one_name_are_refused() -> None:
    with pytest.raises(SpecError, match="two models are named 'model'"):
        Environment.from_dict({"models": [{"id": "a"}, {"id": "b"}]})


def test_the_readme_example_environment_loads() -> None:
    env = Environment.from_toml(Path(__file__).parents[1] / "examples" / "basic" / "env.toml")
    assert env.name == "basic" and env.skills[0].name == "notebook-practice"


def test_a_scope_section_is_checked_at_load(tmp_path: Path) -> None:
    (tmp_path / "interface.py").write_text("")
    (tmp_path / "env.toml").write_text('[scope]\ninterface = "interface.py"\nmode = "notebook"\n')
    env = Environment.from_toml(tmp_path / "env.toml")
    assert env.scope is not None and env.scope.interface == tmp_path / "interface.py"
    problems = {
        "give either `interface`": {"scope": {}},
        "'missing.py' does not exist": {"scope": {"interface": "missing.py"}},
        "needs `token_file`": {"scope": {"server": "http://127.0.0.1:1"}},
        "is not a URL": {"scope": {"server": "localhost:1", "token_file": str(tmp_path / "interface.py")}},
        "loads its own models": {"models": [{"id": "x"}], "scope": {"server": "http://127.0.0.1:1", "token_file": str(tmp_path / "interface.py")}},
        "has no kernel to run it": {"init_code": "x = 1", "scope": {"interface": str(tmp_path / "interface.py")}},
        "did you mean 'isolation'": {"scope": {"interface": str(tmp_path / "interface.py"), "isolate": "off"}},
    }  # fmt: skip
    for message, data in problems.items():
        with pytest.raises(SpecError, match=re.escape(message)):
            Environment.from_dict(data)


def test_sandbox_settings_are_read_by_their_providers_class() -> None:
    modal = Environment.from_dict({"sandbox": {"provider": "modal", "gpu": "H100", "region": "us-east"}})
    assert type(modal.sandbox).__name__ == "ModalSpec" and modal.sandbox.gpu == "H100"  # type: ignore[attr-defined]
    # a copy (and the record written from one) keeps the provider's own fields
    assert modal.equip().model_dump()["sandbox"] == modal.model_dump()["sandbox"]
    assert modal.model_dump()["sandbox"]["region"] == "us-east"
    assert type(Environment().sandbox).__name__ == "LocalSpec"
    with pytest.raises(SpecError, match=r"sandbox: gpu: unknown field; known fields: blind, cpus, isolation, provider"):
        Environment.from_dict({"sandbox": {"gpu": "H100"}})
    with pytest.raises(SpecError, match=r"sandbox: address: unknown field"):
        Environment.from_dict({"sandbox": {"provider": "modal", "address": "auto"}})
    with pytest.raises(SpecError, match="provider 'jupyter' needs `url`"):
        Environment.from_dict({"sandbox": {"provider": "jupyter"}})


def test_a_record_with_every_providers_fields_still_loads() -> None:
    """Run records written before each provider had its own class list every field (at its default)."""
    flat = {
        "provider": "ray", "options": {}, "url": None, "token_env": "JUPYTER_TOKEN", "address": "auto", "gpu": None,
        "gpus": 1, "cpus": None, "memory_gib": 16.0, "region": None, "idle_timeout_s": 3600.0, "isolation": "auto",
        "blind": "auto",
    }  # fmt: skip
    spec = Environment.from_dict({"sandbox": flat}).sandbox
    assert spec.model_dump() == {"provider": "ray", "address": "auto", "gpus": 1, "cpus": None, "blind": "auto"}
    with pytest.raises(SpecError, match="sandbox: region: unknown field"):  # a value set for another provider is an error
        Environment.from_dict({"sandbox": {**flat, "region": "us-east"}})
