"""`seer prompt TARGET`: a packaged task, a task folder or an environment file; anything else is an error."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app
from seer.task import packaged_tasks

runner = CliRunner()
TASKS = packaged_tasks()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_a_packaged_task_prints_its_models_and_its_text(name: str) -> None:
    task = TASKS[name]
    result = runner.invoke(app, ["prompt", name, "--no-methodology", "--no-style-guide"])
    assert result.exit_code == 0, result.output
    system, _, given = result.output.partition("\n## Task\n")
    assert given.strip() == task.agent_prompt.strip()
    for model in task.environment.models:
        assert f"`{model.name}` with `{model.name}_tokenizer`" in system
        if model.hidden:
            assert model.id not in system and (model.adapter or model.id) not in system


def test_a_task_folder_prints_its_environment_and_text(tmp_path: Path) -> None:
    (tmp_path / "task.md").write_text("Count the layers.")
    (tmp_path / "env.toml").write_text('[[models]]\nid = "gpt2"\nname = "lm"\n')
    result = runner.invoke(app, ["prompt", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "`lm` with `lm_tokenizer`: gpt2" in result.output and result.output.rstrip().endswith("## Task\n\nCount the layers.")


def test_an_environment_file_prints_the_system_prompt_alone(tmp_path: Path) -> None:
    env = tmp_path / "env.toml"
    env.write_text('[[models]]\nid = "gpt2"\nname = "lm"\n')
    result = runner.invoke(app, ["prompt", str(env)])
    assert result.exit_code == 0, result.output
    assert "`lm` with `lm_tokenizer`: gpt2" in result.output and "## Task" not in result.output


@pytest.mark.parametrize("target", ["no-such-task", "missing.md"])
def test_a_bad_target_fails_naming_the_packaged_tasks(target: str) -> None:
    result = runner.invoke(app, ["prompt", target])
    assert result.exit_code != 0
    assert all(name in result.output for name in TASKS) and "environment .toml" in result.output
    assert "You are an interpretability researcher" not in result.output
