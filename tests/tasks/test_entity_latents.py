"""Entity-recognition latents (Ferrando et al., 2025) offline: the scripted baseline labels the shipped entities with
the packaged model, scores the shipped SAE's latents and hands in the best known- and unknown-entity latents; the
judge relabels held-out entities and recounts, passing the run, and failing it once its latents are replaced by
random ones, its entities file is edited, or its SAE is not the shipped one. Its real-model recipe runs on a tiny
random model in tests/tasks/test_replications.py."""

import hashlib
import json
import random
from pathlib import Path

import pytest

from seer.judge import judge_run
from seer.task import find_task
from tests.tasks.test_replications import _baseline_run

pytestmark = pytest.mark.anyio


def _check(score: dict) -> dict:
    (check,) = score["checks"]
    assert check["kind"] == "entity_separation" and score["outcome"] == "graded", score
    return check


def _rewrite_answer(run: Path, **changes: object) -> None:
    record_file = run / "run.json"
    record = json.loads(record_file.read_text())
    record["answer"].update(changes)
    record_file.write_text(json.dumps(record))


@pytest.mark.timeout(1800)
async def test_the_entity_baseline_passes_and_random_latents_fail(tmp_path: Path) -> None:
    run = await _baseline_run("entity-latents", tmp_path)
    score = await judge_run(run)
    check = _check(score)
    assert check["passed"] and score["correct"] is True, check["detail"]
    figures = check["figures"]
    for role in ("known", "unknown"):  # the reported MaxMin is the recount's, and the latent separates held-out entities
        assert abs(figures[role]["reported_maxmin"] - figures[role]["train_maxmin"]) <= 0.1 and figures[role]["p_value"] <= 0.05
    assert (run / figures["chart"]).is_file()
    answer = json.loads((run / "run.json").read_text())["answer"]

    taken = {answer["known_latent"], answer["unknown_latent"]}
    known, unknown = random.Random(0).sample(sorted(set(range(2048)) - taken), 2)
    _rewrite_answer(run, known_latent=known, unknown_latent=unknown)
    control = _check(await judge_run(run))
    assert not control["passed"] and "separates held-out entities by" in control["detail"], control["detail"]

    _rewrite_answer(run, **answer)
    workspace = Path(json.loads((run / "run.json").read_text())["workspace"])
    shipped = (workspace / "entities.json").read_text()
    (workspace / "entities.json").write_text(shipped.replace('"answer": null', '"answer": ["Atlantis"]', 1))
    edited = _check(await judge_run(run))
    assert not edited["passed"] and "entities.json" in edited["detail"], edited["detail"]


async def test_the_grader_takes_only_the_shipped_sae_offline(tmp_path: Path) -> None:
    """An SAE of the agent's own (here the shipped one with one latent's encoder replaced, as a supervised probe would
    be) is refused before anything is measured: the paper's latents come from an SAE trained without entity labels."""
    from safetensors.torch import load_file, save_file

    from seer.judge.checks import CheckContext
    from seer.judge.entities import entity_separation

    task = find_task("entity-latents")
    assert task is not None
    for spec in task.environment.files:
        (tmp_path / spec.dest).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / spec.dest).write_bytes((task.path / spec.source).read_bytes())
    weights = load_file(tmp_path / "sae" / "sae_weights.safetensors")
    weights["W_enc"][:, 0] = 1.0
    (tmp_path / "mine").mkdir()
    save_file(weights, tmp_path / "mine" / "sae_weights.safetensors")
    (tmp_path / "mine" / "cfg.json").write_text((tmp_path / "sae" / "cfg.json").read_text())
    context = CheckContext(run=tmp_path, models=(task.environment.models[0].model_dump(mode="json"),))
    truth = task.truth_for(None, task.environment.model_dump(mode="json"))
    answer = {"sae": "mine", "layer": 10, "known_latent": 0, "known_score": 0.5, "unknown_latent": 1, "unknown_score": 0.5}
    result = entity_separation(tmp_path, answer, truth, {}, context)
    assert not result.passed and "not the one the task ships" in result.detail, result.detail


def test_the_ground_truth_pins_the_shipped_entities_and_sae() -> None:
    task = find_task("entity-latents")
    assert task is not None
    offline = task.truth_for(None, task.environment.model_dump(mode="json"))
    target = task.truth_for(None, task.target_environment({None: "seer:tiny-llama"}).model_dump(mode="json"))
    shipped = json.loads((task.path / "entities.json").read_text())
    sha = hashlib.sha256((task.path / "entities.json").read_bytes()).hexdigest()
    assert offline["train_sha256"] == target["train_sha256"] == sha
    weights = task.path / "../../saes/smollm2-135m-res-10/sae_weights.safetensors"
    assert offline["sae_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest() and "sae_sha256" not in target
    for kind, template in shipped["templates"].items():  # held-out entities are new, of every type, with the same prompts
        assert offline["templates"][kind] == template
        seen = {e["name"] for e in shipped["entities"][kind]}
        held = [e["name"] for e in offline["held_out"][kind]]
        assert held and not seen & set(held) and any(e["answer"] is None for e in offline["held_out"][kind])
