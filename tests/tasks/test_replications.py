"""Replications: each task's offline analogue runs its scripted baseline, and the judge recomputes the
paper's metric from the saved artifact (passing it, and failing the same run once the artifact is
replaced by a random control); each task's real-model recipe runs from the command line on a tiny
random model through the code path a GPU run takes."""

import json
import os
import subprocess
import sys
from contextlib import aclosing
from pathlib import Path

import pytest
import torch

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.environment import Environment
from seer.errors import SpecError
from seer.judge import judge_run
from seer.task import find_task, packaged_tasks

pytestmark = pytest.mark.anyio

REPLICATIONS = {"refusal-ablation": ("refusal_ablation", "direction"), "actadd": ("actadd_effect", "addition"),
                "introspection": ("introspection_rates", "vectors"), "spd-tms": ("spd_components", "components"),
                "checkpoint-diffing": ("latent_diff", "features"), "entity-latents": ("entity_separation", "known_latent")}
"""Task → (its check, the answer field naming the saved artifact)."""
MODEL_FREE = {"spd-tms"}
"""Replications whose target is a toy model shipped as a file: nothing loads that `--target` could replace, so
their recipe (`target.toml`, a bigger toy) runs with `--env` instead (tests/tasks/test_spd.py)."""


def test_every_replication_task_has_a_recipe_a_baseline_and_a_docs_page() -> None:
    root = Path(__file__).resolve().parents[2]
    found = {name for name, task in packaged_tasks().items() if "replication" in task.rubric}
    assert set(REPLICATIONS) <= found
    for name in found:
        task = find_task(name)
        assert task is not None and task.baseline is not None and task.target_file is not None, name
        docs = root / task.rubric["replication"]["docs"]
        text = docs.read_text()
        assert "--target" in text and f"seer run {name}" in text, docs  # the exact GPU command
        assert "paper's numbers" in text, docs


def test_target_replaces_the_recipes_model_and_says_which_tasks_take_one() -> None:
    task = find_task("refusal-ablation")
    assert task is not None
    env = task.target_environment({None: "seer:tiny-llama"})
    assert [(m.id, m.adapter) for m in env.models] == [("seer:tiny-llama", None)]
    assert [f.dest for f in env.files] == ["prompts.json"]
    diffing = find_task("checkpoint-diffing")
    assert diffing is not None
    pair = diffing.target_environment({"model": "org/base+org/fine-tune", "base": "org/base"})
    assert [(m.name, m.id, m.adapter) for m in pair.models] == [("model", "org/base", "org/fine-tune"), ("base", "org/base", None)]
    with pytest.raises(SpecError, match="no model called 'base'"):
        task.target_environment({"base": "seer:tiny-llama"})
    other = find_task("steering")
    assert other is not None
    with pytest.raises(SpecError, match="has no real-model recipe.*refusal-ablation"):
        other.target_environment({None: "seer:tiny-llama"})
    # the judge grades a run on the offline analogue against the analogue's held-out prompts, any other against the recipe's
    offline = task.truth_for(None, task.environment.model_dump(mode="json"))
    target = task.truth_for(None, env.model_dump(mode="json"))
    assert offline is task.ground_truth["offline"] and target is task.ground_truth["target"]


async def _baseline_run(name: str, runs: Path, plan: Path | None = None) -> Path:
    """Run the task's scripted baseline offline (or `plan`, a variant of it) and return the run's folder."""
    task = find_task(name)
    assert task is not None and task.baseline is not None
    async with aclosing(ScriptedProvider.from_file(plan or task.baseline)) as agent:
        run, outcome = await run_agent(task.environment, task.agent_prompt, agent, budget=Budget(cost_usd=None),
                                       runs_dir=runs, task_dir=task.path, seed=0)  # fmt: skip
    assert outcome.reason == "finished", outcome
    return run


def _random_like(real: torch.Tensor) -> torch.Tensor:
    noise = torch.randn(real.shape, generator=torch.Generator().manual_seed(1))
    return noise / noise.norm(dim=-1, keepdim=True) * real.norm(dim=-1, keepdim=True)


def _randomised(saved: Path) -> None:
    """Replace a saved artifact by random directions with the same norms (row by row; in a dict, vector by vector)."""
    real = torch.load(saved, weights_only=True)
    if isinstance(real, dict):
        torch.save({c: {layer: _random_like(v) for layer, v in by_layer.items()} for c, by_layer in real.items()}, saved)
    else:
        torch.save(_random_like(real), saved)


@pytest.mark.timeout(1800)
async def test_the_actadd_baseline_passes_and_a_random_addition_fails(tmp_path: Path) -> None:
    run = await _baseline_run("actadd", tmp_path)
    score = await judge_run(run)
    (check,) = score["checks"]
    assert check["kind"] == "actadd_effect" and (score["outcome"], score["correct"]) == ("graded", True), check["detail"]
    assert (run / check["figures"]["chart"]).is_file()  # the paper's bars, drawn by the judge from its own measurements
    record = json.loads((run / "run.json").read_text())
    _randomised(Path(record["workspace"]) / record["answer"]["addition"])
    control = await judge_run(run)
    (check,) = control["checks"]
    assert (control["outcome"], control["correct"]) == ("graded", False) and not check["passed"], check["detail"]


@pytest.mark.timeout(1800)
async def test_the_introspection_baseline_is_a_graded_negative_control_and_random_vectors_fail(tmp_path: Path) -> None:
    # The shipped plan with 3 of its 6 concepts: the run and each of the two gradings below run one trial per concept in each
    # of the 4 (layer, strength) cells, one at a time; the full plan runs on the tiny model in the command-line test below.
    task = find_task("introspection")
    assert task is not None and task.baseline is not None
    plan = json.loads(task.baseline.read_text())
    code = plan["steps"][1]["arguments"]["code"]
    six = 'concepts = ["mountain", "fire", "music", "dog", "bread", "snow"]'
    assert six in code, "the baseline's concepts changed: update this test's smaller list"
    plan["steps"][1]["arguments"]["code"] = code.replace(six, 'concepts = ["mountain", "fire", "music"]')
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    run = await _baseline_run("introspection", tmp_path / "runs", tmp_path / "plan.json")
    score = await judge_run(run)
    checks = {c["kind"]: c for c in score["checks"]}
    check = checks["introspection_rates"]
    assert check["passed"], check["detail"]
    figures = check["figures"]
    assert figures["conclusion"] == figures["warranted"] == "no evidence"  # the 135M model: a negative control, recounted
    assert figures["concepts"] == ["fire", "mountain", "music"] and len(figures["cells"]) == 4
    assert min(figures["recipe_cosine"].values()) >= 0.5 and (run / figures["chart"]).is_file()
    record = json.loads((run / "run.json").read_text())
    _randomised(Path(record["workspace"]) / record["answer"]["vectors"])
    control = await judge_run(run)
    check = next(c for c in control["checks"] if c["kind"] == "introspection_rates")
    assert not check["passed"] and "the vectors do not carry their concepts" in check["detail"], check["detail"]


REFUSAL_LAYER = 24
"""A layer whose difference in means (the offline `prompts.json` train split, last token) ablates the organism's
refusals on held-out prompts (0.75 → 0.00; random: 0.58) and induces them when added (0.12 → 0.62; random: 0.08).
The paper's selection searches layers below 0.8 of the depth only, and there addition induces no refusal in
this organism: the baseline's run is graded and fails on induction."""


@pytest.mark.timeout(1800)
async def test_the_refusal_grader_recomputes_figure_one_and_fails_a_random_direction(tmp_path: Path) -> None:
    from seer.interp import candidate_directions
    from seer.judge.checks import CheckContext
    from seer.judge.replicate import _load, refusal_ablation

    task = find_task("refusal-ablation")
    assert task is not None
    model = task.environment.models[0]
    context = CheckContext(run=tmp_path, models=(model.model_dump(mode="json"),))
    loaded, tokenizer = _load(model.id, model.adapter, model.dtype)
    prompts = json.loads((task.path / "offline_prompts.json").read_text())
    direction = candidate_directions(loaded, tokenizer, prompts["harmful"]["train"], prompts["harmless"]["train"], positions=1)[0, REFUSAL_LAYER]
    torch.save(direction, tmp_path / "refusal_direction.pt")
    answer = {"direction": "refusal_direction.pt", "layer": REFUSAL_LAYER, "position": -1}
    truth = task.truth_for(None, task.environment.model_dump(mode="json"))
    settings = {"random_directions": 1}  # one same-norm random control per condition (the default three run in the baseline test below)
    result = refusal_ablation(tmp_path, answer, truth, settings, context)
    rates = result.figures["refusal_rate"]
    assert result.passed and len(result.figures["random"]["ablated"]) == 1, result.detail
    assert rates["harmful"]["baseline"] - rates["harmful"]["direction ablated"] >= 0.4 and (tmp_path / result.figures["chart"]).is_file()
    _randomised(tmp_path / "refusal_direction.pt")
    control = refusal_ablation(tmp_path, answer, truth, settings, context)
    assert not control.passed and "ablation lowers refusal by" in control.detail, control.detail


@pytest.mark.timeout(1800)
async def test_the_refusal_baseline_runs_offline_and_is_graded_on_the_recomputed_figure(tmp_path: Path) -> None:
    """The scripted baseline's own selection (`select_direction` on a stride of layers) does not reliably find a
    layer the grader passes on this organism: the run is graded on the judge's figure, whatever it finds."""
    run = await _baseline_run("refusal-ablation", tmp_path)
    score = await judge_run(run)
    (check,) = score["checks"]
    assert score["outcome"] == "graded" and check["kind"] == "refusal_ablation", score
    groups = check["figures"]["refusal_rate"]
    assert set(groups) == {"harmful", "harmless"} and groups["harmful"]["baseline"] >= 0.5
    assert (run / check["figures"]["chart"]).is_file()


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("name", sorted(set(REPLICATIONS) - MODEL_FREE))
def test_the_real_model_recipe_runs_on_a_tiny_random_model_from_the_command_line(name: str, tmp_path: Path) -> None:
    task = find_task(name)
    assert task is not None and task.baseline is not None
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    seer = [sys.executable, "-m", "seer"]
    names = [m.name for m in Environment.from_toml(task.target_file).models]  # every model of the recipe: a base too
    targets = [arg for n in names for arg in ("--target", f"{n}=seer:tiny-llama")]
    ran = subprocess.run([*seer, "run", name, *targets, "--provider", "scripted", "--plan", str(task.baseline),
                          "--runs-dir", str(tmp_path), "--run-id", "tiny", "--seed", "0"],
                         env=env, capture_output=True, text=True, timeout=1100)  # fmt: skip
    assert ran.returncode == 0 and "Stopped: finished" in ran.stdout, ran.stdout + ran.stderr
    run = tmp_path / "tiny"
    record = json.loads((run / "run.json").read_text())
    assert [(m["id"], m["adapter"]) for m in record["environment"]["models"]] == [("seer:tiny-llama", None)] * len(names)
    assert record["variant"] is None  # a task's variants are organisms of its offline analogue
    judged = subprocess.run([*seer, "judge", str(run)], env=env, capture_output=True, text=True, timeout=600)
    assert judged.returncode == 0, judged.stdout + judged.stderr
    score = json.loads((run / "score.json").read_text())
    check = next(c for c in score["checks"] if c["kind"] == REPLICATIONS[name][0])
    assert score["outcome"] == "graded" and check["kind"] == REPLICATIONS[name][0] and check["figures"], score
    if name == "introspection":  # a random model does not introspect: "no evidence" is the recount's answer too
        assert score["correct"] is True and check["figures"]["warranted"] == "no evidence", check["detail"]
    else:  # a random model shows no refusal, no sentiment to steer, no planted behaviour: graded, failed with the measured reason
        assert score["correct"] is False and "fails:" in check["detail"], check["detail"]
    if name == "entity-latents":  # no SAE fits a tiny model: the recipe trains one; a random model knows no entity
        assert (Path(record["workspace"]) / "sae_trained" / "sae_weights.safetensors").is_file()
        assert "no known/unknown split" in check["detail"], check["detail"]


def test_the_committed_gallery_shows_each_replication_whose_page_names_no_hidden_answer() -> None:
    from seer.gallery import gallery_tasks

    shown = {task.name for task in gallery_tasks()}
    assert {"actadd", "introspection", "refusal-ablation", "entity-latents", "spd-tms", "checkpoint-diffing"} <= shown
    assert "hidden-preference" not in shown  # no [replication]; and its variants are all hidden
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    index = (examples / "README.md").read_text()
    for name in shown:
        assert (examples / f"{name}.html").is_file() and f"({name}.html)" in index, name
