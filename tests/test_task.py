"""Packaged tasks: they load, `seer tasks` lists them, and their ground truth never reaches the agent."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app
from seer.errors import SpecError
from seer.prompt import system_prompt
from seer.task import Task, find_task, packaged_tasks

NAMES = ["actadd", "checkpoint-diffing", "entity-latents", "hidden-preference", "introspection", "refusal-ablation", "refusal-direction", "spd-tms", "steering", "taboo-word"]


def test_the_packaged_tasks_load_and_are_listed() -> None:
    assert sorted(packaged_tasks()) == NAMES
    listed = CliRunner().invoke(app, ["tasks"]).output
    assert all(name in listed for name in NAMES) and "[scripted baseline]" in listed


@pytest.mark.parametrize("name", NAMES)
def test_the_ground_truth_is_nowhere_the_agent_can_look(name: str) -> None:
    task = find_task(name)
    assert task is not None
    for variant in range(len(task.variants)) or [None]:
        env = task.environment_for(variant)
        shown = (task.agent_prompt + system_prompt(env)).lower()
        secret = task.truth(variant).get("secret")
        if secret:
            assert secret.lower() not in shown
        assert all(m.hidden for m in env.models if m.adapter)
        if secret and task.baseline and name != "refusal-direction":
            assert secret not in task.baseline.read_text().lower()  # the plan holds no answer
    if name == "refusal-direction":  # its plan probes many topics and finds the refused one by measuring
        assert task.baseline is not None and len(json.loads(task.baseline.read_text())["steps"][1]["arguments"]["code"].split("],")) >= 8


def test_a_broken_task_folder_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "task.md").write_text("x")
    with pytest.raises(SpecError, match="needs rubric.toml"):
        Task.load(tmp_path)
    (tmp_path / "rubric.toml").write_text("[check]\nkind = 'secret'\n")
    (tmp_path / "ground_truth.json").write_text(json.dumps({"secret": "x"}))
    with pytest.raises(SpecError, match=r"\[check\] became \[\[checks\]\]"):
        Task.load(tmp_path)
    (tmp_path / "rubric.toml").write_text("[[checks]]\nkind = 'answer'\nfield = 'word'\n")
    with pytest.raises(SpecError, match=r"declare its shape in \[answer\]"):
        Task.load(tmp_path)
    (tmp_path / "rubric.toml").write_text("[answer]\nword = { type = 'list', description = 'w' }\n")
    with pytest.raises(SpecError, match="needs type"):
        Task.load(tmp_path)
    (tmp_path / "rubric.toml").write_text("[answer]\nword = { type = 'string', description = 'w' }\n")
    (tmp_path / "ground_truth.json").write_text("{not json")
    with pytest.raises(SpecError, match="ground_truth.json: not valid JSON"):
        Task.load(tmp_path)
    (tmp_path / "ground_truth.json").write_text(json.dumps({"secret": "x"}))
    assert Task.load(tmp_path).name == tmp_path.name


def test_the_user_docs_describe_each_task_without_naming_a_secret() -> None:
    """An agent that can read the docs learns nothing about any task's answer from them."""
    root = Path(__file__).parents[1]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md")), *sorted((root / "src" / "seer" / "skills").rglob("*.md"))]
    secrets = set()
    for task in packaged_tasks().values():
        for variant in task.drawn:  # a public variant's answer may be published (the gallery shows it)
            truth = task.truth(variant)
            secrets |= {truth["secret"], *truth.get("keywords", [])}
            secrets |= {m.adapter.removeprefix("seer:") for m in task.environment_for(variant).models if m.adapter}
    assert len(secrets) >= 6
    for page in pages:
        text = page.read_text().lower()
        named = sorted(s for s in secrets if re.search(rf"\b{re.escape(s.lower())}\b", text))
        assert not named, f"{page.relative_to(root)} names {named}"


def test_a_seed_never_draws_the_public_variant_whose_answer_the_gallery_publishes(tmp_path: Path) -> None:
    task = find_task("checkpoint-diffing")
    assert task is not None and task.public_variant is not None
    public = task.variants[task.public_variant]
    assert task.public_variant not in {task.variant_index(seed) for seed in range(50)} == set(task.drawn)
    assert task.variant_named(public["name"]) == task.public_variant
    with pytest.raises(SpecError, match=r"no variant 'nope' \(it has: owls, "):
        task.variant_named("nope")
    for variants in ([{**public}], [{"secret": "a"}, {**public}, {**public, "name": "other"}], [{"secret": "a"}, {"secret": "b", "public": True}]):
        (tmp_path / "ground_truth.json").write_text(json.dumps({"variants": variants}))
        for name in ("task.md", "rubric.toml"):
            (tmp_path / name).write_text("x\n" if name == "task.md" else "")
        with pytest.raises(SpecError, match="at most one variant is public"):
            Task.load(tmp_path)
