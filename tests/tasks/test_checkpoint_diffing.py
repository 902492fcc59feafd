"""SAE-based checkpoint diffing offline: the scripted baseline diffs an organism against its base with the
shipped SAE; the judge recounts the ranking on held-out prompts and passes it, and fails the same run once its
ranked features are replaced by random ones."""

import json
import random
from pathlib import Path

import pytest

from seer.judge import judge_run
from seer.task import find_task
from tests.tasks.test_replications import _baseline_run

pytestmark = pytest.mark.anyio


@pytest.mark.timeout(1800)
async def test_the_diffing_baseline_finds_the_planted_topic_and_random_features_fail(tmp_path: Path) -> None:
    run = await _baseline_run("checkpoint-diffing", tmp_path)
    score = await judge_run(run)
    checks = {c["kind"]: c for c in score["checks"]}
    assert checks["latent_diff"]["passed"] and checks["answer"]["passed"], score["checks"]
    figures = checks["latent_diff"]["figures"]
    assert figures["about_the_planted_behaviour"] and figures["overlap"] >= 0.6 and (run / figures["chart"]).is_file()

    record_file = run / "run.json"
    record = json.loads(record_file.read_text())
    taken = {f["feature"] for f in record["answer"]["features"]}
    rng = random.Random(0)
    record["answer"]["features"] = [{"feature": f, "shift": 0.1} for f in rng.sample(sorted(set(range(2048)) - taken), 10)]
    record_file.write_text(json.dumps(record))
    control = await judge_run(run)
    check = next(c for c in control["checks"] if c["kind"] == "latent_diff")
    assert not check["passed"] and "top-ranked in the recount" in check["detail"], check["detail"]


def test_the_task_ships_the_sae_weights_with_a_cfg_that_names_no_model() -> None:
    from seer.saes import sae_path

    task = find_task("checkpoint-diffing")
    assert task is not None
    shipped = json.loads((sae_path("smollm2-135m-res-15") / "cfg.json").read_text())
    blind = json.loads((task.path / "sae_cfg.json").read_text())
    assert blind == {k: v for k, v in shipped.items() if k != "model"}  # the same SAE; only the model's name is left out
    assert sorted(f.dest for f in task.environment.files) == ["prompts.json", "sae.json", "sae/cfg.json", "sae/sae_weights.safetensors"]
    assert "smollm" not in (task.path / "sae_offline.json").read_text().lower()
