"""The SPD replication (`spd-tms`): the scripted baseline runs offline, the judge recomputes MMCS, ML2R and
faithfulness against the task's own copy of W and passes it, and fails random, misshapen or missing components."""

import json
from pathlib import Path

import pytest
import torch

from seer.errors import SpecError
from seer.judge import judge_run
from seer.judge.checks import CheckContext
from seer.judge.decomposition import spd_components
from seer.task import find_task
from tests.tasks.test_replications import _baseline_run

pytestmark = pytest.mark.anyio


def _truth() -> tuple[dict, torch.Tensor]:
    task = find_task("spd-tms")
    assert task is not None
    truth = task.truth_for(None, task.environment.model_dump(mode="json"))
    return truth, torch.tensor(truth["weight"])


def test_the_column_split_passes_and_random_misshapen_or_missing_components_fail(tmp_path: Path) -> None:
    truth, W = _truth()
    context = CheckContext(run=tmp_path)
    torch.save(torch.stack([torch.outer(W[:, j], torch.eye(W.shape[1])[j]) for j in range(W.shape[1])]), tmp_path / "c.pt")
    result = spd_components(tmp_path, {"components": "c.pt"}, truth, {}, context)
    assert result.passed and result.figures["mmcs"] == pytest.approx(1.0) and (tmp_path / result.figures["chart"]).is_file(), result.detail
    g = torch.Generator().manual_seed(1)
    torch.save(torch.einsum("ch,cf->chf", torch.randn(20, 2, generator=g), torch.randn(20, 5, generator=g)), tmp_path / "c.pt")
    assert "do not sum to W" in spd_components(tmp_path, {"components": "c.pt"}, truth, {}, context).detail
    torch.save(W[None], tmp_path / "c.pt")  # W itself, one "component" of rank two
    assert "is not rank one" in spd_components(tmp_path, {"components": "c.pt"}, truth, {}, context).detail
    torch.save(torch.zeros(3, 5, 2), tmp_path / "c.pt")
    assert "has shape (3, 5, 2); expected [C, 2, 5]" in spd_components(tmp_path, {"components": "c.pt"}, truth, {}, context).detail
    assert "no such file" in spd_components(tmp_path, {"components": "gone.pt"}, truth, {}, context).detail
    with pytest.raises(ValueError, match="unknown check setting"):
        spd_components(tmp_path, {"components": "c.pt"}, truth, {"min_mmc": 0.9}, context)


def test_the_recipe_is_tms_40_10_graded_on_its_own_weights_and_target_says_why_it_does_not_apply() -> None:
    task = find_task("spd-tms")
    assert task is not None and task.target_file is not None
    with pytest.raises(SpecError, match="loads no model.*seer run spd-tms --env"):
        task.target_environment({None: "seer:tiny-llama"})
    from seer.environment import Environment

    recipe = Environment.from_toml(task.target_file).model_dump(mode="json")
    assert task.truth_for(None, recipe)["model"] == "TMS 40-10" and _truth()[0]["model"] == "TMS 5-2"


@pytest.mark.timeout(900)
async def test_the_spd_baseline_passes_and_random_components_fail(tmp_path: Path) -> None:
    run = await _baseline_run("spd-tms", tmp_path)
    score = await judge_run(run)
    (check,) = score["checks"]
    assert check["kind"] == "spd_components" and (score["outcome"], score["correct"]) == ("graded", True), check["detail"]
    assert (run / check["figures"]["chart"]).is_file()
    record = json.loads((run / "run.json").read_text())
    saved = Path(record["workspace"]) / record["answer"]["components"]
    real = torch.load(saved, weights_only=True)
    g = torch.Generator().manual_seed(1)
    noise = torch.einsum("ch,cf->chf", torch.randn(real.shape[:2], generator=g), torch.randn(real.shape[0], real.shape[2], generator=g))
    torch.save(noise / noise.flatten(1).norm(dim=1)[:, None, None] * real.flatten(1).norm(dim=1)[:, None, None], saved)
    control = await judge_run(run)
    (check,) = control["checks"]
    assert (control["outcome"], control["correct"]) == ("graded", False) and "do not sum to W" in check["detail"], check["detail"]
