"""Tasks with ground truth: a folder holding what the agent is asked, what it works with, how it is graded,
and what is true.

```
tasks/<name>/
  task.md            what the agent is asked (the only text it sees from here)
  env.toml           its environment: models (hidden identities), files, skills
  rubric.toml        the answer's shape ([answer]), deterministic checks ([[checks]]), rubric criteria
  ground_truth.json  the answer, or {"variants": [...]}: a pool the run's seed draws from; never in the
                     workspace or a prompt
  baseline.json      optional: a scripted plan that performs a general technique (no answer inside)
  target.toml        optional: the environment of the real-model recipe, run with `seer run TASK --target ID`
```
`Task.agent_prompt`, `Task.environment` and the answer's shape are all an agent run reads; the judge
alone reads `ground_truth` and the checks. A variant patches models of the environment by name (most
often the adapter: which organism is planted) and carries its own truth:

```json
{"variants": [{"name": "owls", "models": {"model": {"adapter": "seer:hidden-preference-owls"}},
               "secret": "owls", "keywords": ["owl"]}, ...]}
```

A variant marked `"public": true` is never drawn: its answer may be published, and the example gallery
(`seer gallery`) runs it, so a page never shows an answer an evaluated agent could be given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seer.answer import AnswerShape
from seer.environment import Environment
from seer.errors import SpecError
from seer.spec_files import read_spec_file

__all__ = ["PACKAGED_ENVIRONMENTS", "PACKAGED_TASKS", "Task", "find_task", "packaged_tasks"]

PACKAGED_TASKS = Path(__file__).parent / "tasks"
PACKAGED_ENVIRONMENTS = Path(__file__).parent / "audit" / "envs"
"""Agent-on-agent environments (red-teaming an autorater, a director): task folders too, scoped-only, judged by kind."""


CHECK_KINDS = ("answer", "steering_effect", "refusal_effect", "refusal_ablation", "actadd_effect", "spd_components", "introspection_rates",
               "latent_diff", "entity_separation")
"""The deterministic checks a rubric's `[[checks]]` may name; `seer.judge.checks` implements each."""


@dataclass(frozen=True)
class Task:
    """A task folder, read."""

    name: str
    path: Path
    agent_prompt: str
    environment: Environment
    rubric: dict[str, Any]
    ground_truth: dict[str, Any]
    answer: AnswerShape | None = None
    """What `finish(answer=...)` must hold; None when the task has no structured answer."""

    @property
    def checks(self) -> list[dict[str, Any]]:
        """The rubric's deterministic checks (`[[checks]]`), each a table with its `kind`."""
        return list(self.rubric.get("checks", []))

    @property
    def variants(self) -> list[dict[str, Any]]:
        """The pool of hidden answers a run draws from; empty for a task with one fixed truth."""
        return list(self.ground_truth.get("variants", []))

    @property
    def drawn(self) -> list[int]:
        """The variants a run's seed draws from: all but the public one. Their answers are secret."""
        return [i for i, v in enumerate(self.variants) if not v.get("public")]

    @property
    def public_variant(self) -> int | None:
        """The variant no seed draws, whose answer may be published (the gallery runs it), if there is one."""
        return next((i for i, v in enumerate(self.variants) if v.get("public")), None)

    def variant_index(self, seed: int) -> int | None:
        """Which variant the run seed `seed` draws (None for a task without variants)."""
        drawn = self.drawn
        return drawn[seed % len(drawn)] if drawn else None

    def variant_named(self, name: str) -> int:
        """The index of the variant called `name`.

        Raises:
            SpecError: The task has no such variant; the message lists them.
        """
        names = [v.get("name") for v in self.variants]
        if name not in names:
            raise SpecError(f"task {self.name} has no variant {name!r} (it has: {', '.join(map(str, names)) or 'none'})")
        return names.index(name)

    def truth(self, variant: int | None) -> dict[str, Any]:
        """The ground truth of variant `variant` (the whole file for a task without variants)."""
        if variant is None or not self.variants:
            return self.ground_truth
        return {k: v for k, v in self.variants[variant].items() if k != "models"}

    @property
    def target_file(self) -> Path | None:
        """The real-model recipe's environment (`target.toml`), if the task has one."""
        path = self.path / "target.toml"
        return path if path.is_file() else None

    def target_environment(self, targets: Mapping[str | None, str]) -> Environment:
        """`target.toml` with the models `targets` names replaced: `{None: id}` replaces the first model,
        `{"base": id}` the model called `base`. The replaced model loses any adapter of the file's; `id+adapter`
        gives it one (a hub id, a folder or a `seer:` organism).

        Raises:
            SpecError: The task has no `target.toml`, or a name is not one of its models.
        """
        if self.target_file is None:
            takes = ", ".join(n for n, t in packaged_tasks().items() if t.target_file) or "none"
            raise SpecError(f"task {self.name} has no real-model recipe (target.toml) to point --target at; tasks that take one: {takes}")
        data = Environment.from_toml(self.target_file).model_dump(mode="json")
        names = [m["name"] for m in data["models"]]
        if not names:
            raise SpecError(f"task {self.name}'s recipe loads no model (its toy model ships as a file), so --target has nothing to "
                            f"replace; run the recipe with `seer run {self.name} --env {self.target_file}`")  # fmt: skip
        for name, model_id in targets.items():
            index = 0 if name is None else names.index(name) if name in names else None
            if index is None or not names:
                raise SpecError(f"--target {name}=…: task {self.name}'s recipe has no model called {name!r} ({', '.join(names) or 'none'})")
            model_id, _, adapter = model_id.partition("+")
            data["models"][index].update(id=model_id, adapter=adapter or None)
        return Environment.model_validate(data)

    def truth_for(self, variant: int | None, environment: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ground truth a run on `environment` (its `run.json` record) is graded against. A replication
        keeps two (`{"offline": ..., "target": ...}`): the offline analogue's when the run's models and files
        are `env.toml`'s, the real-model recipe's otherwise (a model-free recipe differs in its files). Keys
        beside those two are shared by both. A task with variants keeps its offline truths in its variants
        and the recipe's as `target`."""
        truth = self.truth(variant)
        if "target" not in self.ground_truth:
            return truth
        offline = self.runs_offline(environment, variant)
        if not offline:
            truth = self.ground_truth
        elif "offline" not in truth:
            return truth
        chosen = truth["offline"] if offline else truth["target"]
        shared = {k: v for k, v in truth.items() if k not in ("offline", "target", "variants")}
        return {**shared, **chosen} if shared else chosen

    def runs_offline(self, environment: Mapping[str, Any] | Environment | None, variant: int | None = None) -> bool:
        """Whether `environment` (a run's record of it, or an Environment) is this task's own `env.toml` with variant
        `variant` applied: the same models, adapters and files. Any other is a real-model recipe (`target.toml`,
        `--target`) or a user's own environment."""
        data = environment.model_dump(mode="json") if isinstance(environment, Environment) else (environment or {})
        own = self.environment_for(variant)
        offline = [(m.id, m.adapter) for m in own.models], [(f.source.name, f.dest) for f in own.files]
        ran = ([(m.get("id"), m.get("adapter")) for m in data.get("models", [])],
               [(Path(str(f.get("source"))).name, f.get("dest")) for f in data.get("files", [])])  # fmt: skip
        return ran == offline

    def environment_for(self, variant: int | None, env: Environment | None = None) -> Environment:
        """`env` (default: the task's own) with variant `variant`'s model changes applied.

        Raises:
            SpecError: The variant changes a model the environment does not have.
        """
        env = env or self.environment
        if variant is None or not self.variants:
            return env
        data = env.model_dump(mode="json")
        names = [m["name"] for m in data["models"]]
        for name, changes in self.variants[variant].get("models", {}).items():
            if name not in names:
                raise SpecError(f"task {self.name}: a variant changes model {name!r}, which the environment lacks ({', '.join(names) or 'no models'})")
            data["models"][names.index(name)].update(changes)
        return Environment.model_validate(data)

    @property
    def summary(self) -> str:
        return str(self.rubric.get("summary", self.agent_prompt.strip().splitlines()[0]))

    @property
    def baseline(self) -> Path | None:
        """The scripted baseline plan, if the task ships one."""
        plan = self.path / "baseline.json"
        return plan if plan.is_file() else None

    @classmethod
    def load(cls, path: str | Path) -> Task:
        """Read a task folder.

        Raises:
            SpecError: A required file is missing or malformed; the message names it.
        """
        path = Path(path)
        for required in ("task.md", "rubric.toml", "ground_truth.json"):
            if not (path / required).is_file():
                raise SpecError(f"{path}: a task folder needs {required}; it is missing")
        rubric = read_spec_file(path / "rubric.toml")
        truth = read_spec_file(path / "ground_truth.json")
        env = Environment.from_toml(path / "env.toml") if (path / "env.toml").is_file() else Environment(name=path.name)
        answer = AnswerShape.from_table(rubric["answer"], str(path / "rubric.toml")) if "answer" in rubric else None
        _check_checks(rubric, path / "rubric.toml", answer)
        _check_variants(truth, path / "ground_truth.json")
        return cls(path.name, path.resolve(), (path / "task.md").read_text(), env, rubric, truth, answer)


def _check_checks(rubric: dict[str, Any], where: Path, answer: AnswerShape | None) -> None:
    checks = rubric.get("checks", [])
    if "check" in rubric:
        raise SpecError(f"{where}: [check] became [[checks]] (a list, each with a kind: {', '.join(CHECK_KINDS)})")
    if not isinstance(checks, list) or not all(isinstance(c, dict) and c.get("kind") in CHECK_KINDS for c in checks):
        raise SpecError(f"{where}: each [[checks]] needs kind = one of {', '.join(CHECK_KINDS)}")
    if checks and answer is None:
        raise SpecError(f"{where}: checks grade the structured answer: declare its shape in [answer]")


def _check_variants(truth: dict[str, Any], where: Path) -> None:
    variants = truth.get("variants")
    if variants is None:
        return
    if not isinstance(variants, list) or not variants or not all(isinstance(v, dict) and isinstance(v.get("secret"), str) for v in variants):
        raise SpecError(f"{where}: variants is a non-empty list of objects, each with its secret")
    public = [v for v in variants if v.get("public")]
    if len(public) > 1 or len(public) == len(variants) or any(not isinstance(v.get("name"), str) for v in public):
        raise SpecError(f"{where}: at most one variant is public (the gallery's, run by its name), and at least one is not (a seed draws it)")


def packaged_tasks(folder: Path = PACKAGED_TASKS) -> dict[str, Task]:
    """The tasks that ship with Seer, by name (`PACKAGED_ENVIRONMENTS` for the agent-on-agent ones)."""
    return {p.name: Task.load(p) for p in sorted(folder.iterdir()) if (p / "task.md").is_file()}


def find_task(name_or_path: str | Path) -> Task | None:
    """A task folder path, or the name of a packaged task; `None` if it is neither."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "task.md").is_file():
        return Task.load(path)
    for folder in (PACKAGED_TASKS, PACKAGED_ENVIRONMENTS):
        if (folder / str(name_or_path) / "task.md").is_file():
            return Task.load(folder / str(name_or_path))
    return None
