"""`seer new` writes an environment (or a task folder) that loads, from flags or answers at the prompt;
`seer check` validates one; `seer run` runs what `seer new` wrote."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app
from seer.environment import Environment, ModelSpec
from tests.helpers import only_run

runner = CliRunner()


def new(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["new", *args], input=input)
    return result.exit_code, result.output


def test_flags_write_an_environment_that_check_reads_back_as_asked(tmp_path: Path) -> None:
    out = tmp_path / "probe"
    code, output = new(
        "--name", "probe", "--model", "gpt2", "--model", "base=gpt2", "--adapter", "org/lora", "--hidden",
        "--package", "numpy>=1.26", "--skill", "steering", "--skill", "probing", "--out", str(out / "env.toml"),
    )  # fmt: skip
    assert code == 0, output
    env = Environment.from_toml(out / "env.toml")
    assert env.name == "probe" and env.packages == ["numpy>=1.26"]
    assert env.models == [ModelSpec(id="gpt2", name="model", adapter="org/lora", hidden=True), ModelSpec(id="gpt2", name="base", hidden=True)]
    assert env.skills == [out / "skills" / "steering", out / "skills" / "probing"]
    assert (out / "skills" / "steering" / "SKILL.md").is_file() and not (out / "task.md").exists()
    assert f"seer run {out / 'env.toml'} --task TEXT" in output
    checked = runner.invoke(app, ["check", str(out / "env.toml")])
    assert checked.exit_code == 0, checked.output
    assert "a valid environment" in checked.output and "models:   model (identity hidden); base (identity hidden)" in checked.output
    assert "skills:   steering, probing" in checked.output and "packages: numpy>=1.26" in checked.output
    assert "sandbox:  local" in checked.output and "org/lora" not in checked.output


def test_answers_at_the_prompt_are_checked_as_they_come(tmp_path: Path) -> None:
    answers = [
        "bad name!", "lab",  # a name that is no label is asked again
        "gpt2", "seer:no-such-organism", "",  # an unknown packaged organism is asked again; none
        "ref=gpt2", "", "",  # a second model, named; no adapter; done
        "n",  # not hidden
        "bad req!!", "einops",  # a malformed requirement is asked again
        "steerin", "logit-lens",  # an unknown skill is asked again
        "What does layer 2 do?", "y",  # the question, in a task folder
    ]  # fmt: skip
    code, output = new("--interactive", "--out", str(tmp_path / "lab"), input="\n".join(answers) + "\n")
    assert code == 0, output
    assert "'bad name!' is not a short label" in output and "no packaged organism 'seer:no-such-organism'" in output
    assert "'bad req!!' is not a requirement" in output and "skill 'steerin' is neither" in output
    env = Environment.from_toml(tmp_path / "lab" / "env.toml")
    assert env.name == "lab" and env.models == [ModelSpec(id="gpt2"), ModelSpec(id="gpt2", name="ref")]
    assert env.packages == ["einops"] and [p.name for p in env.skills] == ["logit-lens"]
    assert (tmp_path / "lab" / "task.md").read_text() == "What does layer 2 do?\n"


def test_flags_answer_every_question(tmp_path: Path) -> None:
    args = ["--interactive", "--name", "x", "--model", "gpt2", "--no-hidden", "--package", "einops", "--skill", "steering"]
    code, output = new(*args, "--question", "Why?", "--task-folder", "--out", str(tmp_path / "x"), input="")
    assert code == 0, output
    asked = ("Environment name", "Model (", "Hide the models", "Packages", "Skills to equip", "The question", "Write a task folder")
    assert not any(question in output for question in asked) and (tmp_path / "x" / "task.md").read_text() == "Why?\n"


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "env.toml"
    target.write_text("mine")
    code, output = new("--model", "gpt2", "--out", str(target))
    assert code != 0 and "env.toml already exists; pass --force" in output and target.read_text() == "mine"
    code, output = new("--model", "gpt2", "--out", str(target), "--force")
    assert code == 0, output
    assert Environment.from_toml(target).models == [ModelSpec(id="gpt2")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "gpt2", "--adapter", "seer:no-such-organism"], "models[0].adapter: no packaged organism 'seer:no-such-organism'"),
        (["--model", "gpt2", "--adapter", "a", "--adapter", "b"], "2 adapters for 1 models"),
        (["--model", "a=gpt2", "--model", "a=gpt2"], "two models are named 'a'"),
        (["--model", "gpt2", "--name", "a b"], "'a b' is not a short label"),
        (["--model", "gpt2", "--skill", "steerin"], "skill 'steerin' is neither a folder with a SKILL.md nor a packaged skill"),
        (["--model", "gpt2", "--task-folder"], "give --question TEXT"),
    ],
)
def test_a_bad_flag_is_an_error_naming_it_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = new(*args, "--out", str(tmp_path / "out"))
    assert code != 0 and message in output
    assert not (tmp_path / "out").exists()


def test_check_names_the_problem_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "env.toml").write_text('[[models]]\nid = "gpt2"\nnmae = "lm"\n')
    result = runner.invoke(app, ["check", str(tmp_path / "env.toml")])
    assert result.exit_code == 1 and "nmae" in result.output and "name" in result.output
    (tmp_path / "task.md").write_text("Go.")
    (tmp_path / "rubric.toml").write_text("")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "ground_truth.json" in result.output
    result = runner.invoke(app, ["check", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "hidden-preference" in result.output


def test_check_of_a_packaged_task_keeps_its_hidden_models_hidden() -> None:
    result = runner.invoke(app, ["check", "hidden-preference"])
    assert result.exit_code == 0, result.output
    assert "a valid task (graded by its rubric, 3 hidden variants)" in result.output
    assert "model (identity hidden); base (identity hidden)" in result.output and "seer:" not in result.output
    result = runner.invoke(app, ["check", "checkpoint-diffing"])
    assert "3 hidden variants and a public one (the gallery's)" in result.output and "seer:" not in result.output


@pytest.mark.slow
def test_seer_run_runs_a_task_folder_seer_new_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    code, output = new("--model", "seer:tiny-gpt2", "--skill", "notebook-practice", "--question", "How many layers?", "--task-folder", "--out", str(folder))
    assert code == 0, output
    assert runner.invoke(app, ["check", str(folder)]).exit_code == 0
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"steps": [
        {"tool": "execute_code", "arguments": {"code": "print(type(model).__name__, len(model.transformer.h))"}},
        {"tool": "finish", "arguments": {"report": "3 layers"}},
    ]}))  # fmt: skip
    result = runner.invoke(app, ["run", str(folder), "--provider", "scripted", "--plan", str(plan), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run = only_run(tmp_path / "runs")
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["task"].strip() == "How many layers?" and record["environment"]["name"] == "lab"
    cell = json.loads((run / "notebook.ipynb").read_text())["cells"][0]
    assert cell["outputs"][0]["text"].strip() == "GPT2LMHeadModel 3"
    assert (run / "workspace" / "skills" / "notebook-practice" / "SKILL.md").is_file()
