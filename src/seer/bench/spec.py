"""A bench as data: which tasks, which agents, which configurations, how many repeats, under which
budgets; validated at load like an environment (`seer.environment`), from TOML or from Python.

```toml
name = "steering-skill"
tasks = ["steering"]              # packaged task names or task folders (relative to this file)
repeats = 3
parallel = 2

[budget]                          # each run
max_turns = 40
max_cost = 2.0

[total]                           # the whole bench: no run starts that could take it past these
max_cost = 30.0

[[agents]]
name = "baseline"
provider = "scripted"             # no plan: each task's own scripted baseline (`baseline.json`)

[[agents]]
name = "sonnet"
provider = "anthropic"
model = "claude-sonnet-4-5"

[base]                            # what every configuration starts from
toolkit = true

[[configs]]
name = "plain"

[[configs]]
name = "steering-skill"
skills = ["steering"]             # added to the base's skills
```
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from seer.environment import Environment
from seer.errors import SpecError
from seer.skills import Equipment
from seer.spec_files import field_problem, read_spec_file
from seer.task import Task, find_task

__all__ = ["AgentSpec", "AuditSpec", "BenchSpec", "Cell", "ConfigSpec", "JudgeSpec", "RunLimits", "load_bench"]

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$")
"""A bench's, an agent's or a configuration's name: it goes into folder and run names."""


class _Spec(BaseModel, frozen=True, extra="forbid"):
    pass


def _plain_name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError(f"{value!r} is not a short name; use letters, digits, '-' and '_' (it names run folders)")
    return value


Name = Annotated[str, AfterValidator(_plain_name)]


class AgentSpec(_Spec):
    """One agent: a provider and its settings, as `seer run` takes them."""

    name: Name
    """Its label in the results."""
    provider: str
    """`anthropic`, `openai`, `scripted`, … (`seer run --help` lists them)."""
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    plan: Path | None = None
    """`scripted`: the plan to replay; none replays each task's own baseline (`baseline.json`)."""

    @property
    def is_baseline(self) -> bool:
        """Whether it replays each task's scripted baseline: the 'tools alone' row."""
        return self.provider == "scripted" and self.plan is None


class JudgeSpec(AgentSpec):
    """The rubric judge: a provider and model, as `seer judge` takes them."""

    name: Name = "judge"


class ConfigSpec(_Spec):
    """What the agent is given: skills, libraries, the toolkit, the prompt, where it runs."""

    name: Name = "base"
    skills: list[str] = Field(default_factory=list)
    """Packaged skill names or skill folders, added to the base's."""
    libraries: list[Path] = Field(default_factory=list)
    """Python files or packages the agent can import, added to the base's."""
    toolkit: bool | None = None
    """The interpretability toolkit on or off; none: as the task's environment says."""
    methodology: bool | None = None
    """The methodology section of the system prompt (default on)."""
    style_guide: bool | None = None
    """The notebook style guide in the system prompt (default on)."""
    sandbox: dict[str, Any] | None = None
    """Replaces the task environment's `[sandbox]` table (e.g. `{provider = "ray"}` to run on a cluster)."""
    scope: dict[str, Any] | None = None
    """Replaces the task environment's `[scope]` table (a scoped interface instead of the notebook)."""
    env: dict[str, str] = Field(default_factory=dict)
    """Variables added to the environment's `env` (kernels and scope servers): e.g. `SEER_AUDIT_WHITE_BOX = "0"`
    for a black-box auditor."""

    def on(self, base: ConfigSpec) -> ConfigSpec:
        """This configuration stated as changes to `base`: lists add to it, other fields replace it."""
        changes = self.model_dump(exclude_unset=True)
        merged = {**base.model_dump(), **changes, "name": self.name}
        merged["skills"] = [*base.skills, *self.skills]
        merged["libraries"] = [*base.libraries, *self.libraries]
        merged["env"] = {**base.env, **self.env}
        return ConfigSpec.model_validate(merged)

    def environment(self, env: Environment) -> Environment:
        """`env` (a task's environment) with this configuration applied.

        Raises:
            SpecError: A skill or library is not there, or a replaced table is invalid.
        """
        if self.sandbox is not None or self.scope is not None or self.env:
            data = env.model_dump()
            data.update({k: v for k, v in (("sandbox", self.sandbox), ("scope", self.scope)) if v is not None})
            data["env"] = {**data["env"], **self.env}
            env = Environment.from_dict(data, source=f"config {self.name}")
        return Equipment(self.skills, self.libraries, self.toolkit).apply(env)


class AuditSpec(_Spec):
    """Audits as the bench's tasks: one task per seed (written under the bench folder's `tasks/`)."""

    seeds: str
    """A seed file (Petri's JSON list or text form, JSONL samples, TOML) or a packaged set (`whistleblowing`)."""
    only: list[str] = Field(default_factory=list)
    """Seed ids to keep; none: every seed."""
    target: str | None = None
    """The model the scope server loads: `seer:smollm2-135m-instruct`, a hub id or a folder."""
    adapter: str | None = None
    target_url: str | None = None
    """Instead of `target`: an OpenAI-compatible endpoint (`…/v1`)."""
    target_model: str | None = None
    target_key_env: str | None = None
    dimensions: Path | None = None
    """The judge's dimensions (TOML); none: the default set."""

    @model_validator(mode="after")
    def _one_target(self) -> AuditSpec:
        if (self.target is None) == (self.target_url is None):
            raise ValueError("give either `target` (a model) or `target_url` (an OpenAI-compatible endpoint)")
        return self

    def write_tasks(self, folder: Path) -> list[Path]:
        """Write one task folder per seed under `folder`; returns them.

        Raises:
            SpecError: The seeds or dimensions cannot be read, or `only` names a seed the file lacks.
        """
        from seer.audit import AuditTarget, read_dimensions, read_seeds, write_audit_task

        seeds = read_seeds(self.seeds)
        if missing := sorted(set(self.only) - {s.id for s in seeds}):
            raise SpecError(f"audit.only: no seed {missing[0]!r} in {self.seeds} (it has {', '.join(s.id for s in seeds)})")
        target = AuditTarget(model=self.target, adapter=self.adapter, url=self.target_url, api_model=self.target_model, key_env=self.target_key_env)
        dims = read_dimensions(self.dimensions) if self.dimensions else None
        return [write_audit_task(s, target, folder, dims) for s in seeds if not self.only or s.id in self.only]


class RunLimits(_Spec):
    """Limits, as `seer run` takes them; `None` is no limit."""

    max_turns: int | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, gt=0)
    max_cost: float | None = Field(None, gt=0)
    """Dollars."""
    max_wall: float | None = Field(None, gt=0)
    """Seconds."""


class Cell(BaseModel, frozen=True):
    """One run of the bench: a task, an agent, a configuration, a repeat."""

    task: str
    agent: str
    config: str
    repeat: int
    seed: int
    """The run's seed: the same for every agent and configuration on one task and repeat, so they meet
    the same hidden variant (a paired comparison)."""

    @property
    def run_id(self) -> str:
        return f"{self.task}.{self.agent}.{self.config}.{self.repeat}"


class BenchSpec(_Spec):
    """A bench: every task × agent × configuration × repeat is one run."""

    name: Name
    tasks: list[str] = Field(default_factory=list)
    """Packaged task names or task folders."""
    audit: AuditSpec | None = None
    """Audits: one more task per seed (see `AuditSpec`)."""
    agents: list[AgentSpec] = Field(min_length=1)
    configs: list[ConfigSpec] = Field(default_factory=lambda: [ConfigSpec()])
    base: ConfigSpec = Field(default_factory=ConfigSpec)
    """What every configuration starts from."""
    repeats: int = Field(1, ge=1)
    parallel: int = Field(1, ge=1)
    """Runs at once."""
    seed: int = 0
    """Repeat `r` of every task runs with seed `seed + r`."""
    budget: RunLimits = Field(default_factory=lambda: RunLimits(max_turns=60, max_cost=5.0, max_wall=3600.0))
    """Each run's limits."""
    total: RunLimits = Field(default_factory=RunLimits)
    """The whole bench's limits (`max_turns` is not one): a run starts only if its own limits fit in what is left."""
    judge: JudgeSpec | None = None
    """The rubric judge for tasks that need one; none: the tasks' deterministic checks only."""

    @model_validator(mode="after")
    def _consistent(self) -> BenchSpec:
        problems = [] if self.tasks or self.audit else ["tasks: give at least one task (or an [audit] table of seeds)"]
        for what, names in (("agents", [a.name for a in self.agents]), ("configs", [c.name for c in self.configs])):
            problems += [f"{what}: two are named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
        if self.total.max_turns is not None:
            problems.append("total.max_turns: a bench's total is in dollars, tokens and seconds; set budget.max_turns per run")
        for limit in ("max_cost", "max_tokens", "max_wall"):
            if getattr(self.total, limit) is not None and getattr(self.budget, limit) is None:
                problems.append(f"total.{limit} needs budget.{limit}: a run without its own limit could take the bench past it")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def configurations(self) -> list[ConfigSpec]:
        """Every configuration, stated on the base."""
        return [config.on(self.base) for config in self.configs]

    def load_tasks(self, root: Path, audits: Path | None = None) -> dict[str, Task]:
        """The tasks by name (folders relative to `root`); with an `[audit]` table, also one per seed, written
        under `audits` (default `root/audits`).

        Raises:
            SpecError: A task is neither a packaged name nor a task folder, or two share a name.
        """
        found: dict[str, Task] = {}
        written = [str(p) for p in self.audit.write_tasks(audits or root / "audits")] if self.audit else []
        for entry in [*self.tasks, *written]:
            path = root / entry
            task = find_task(path) if path.is_dir() else find_task(entry)
            if task is None:
                raise SpecError(f"bench {self.name}: task {entry!r} is neither a packaged task (`seer tasks`) nor a task folder")
            if task.name in found:
                raise SpecError(f"bench {self.name}: two tasks are named {task.name!r}")
            found[task.name] = task
        return found

    def cells(self, tasks: dict[str, Task]) -> list[Cell]:
        """Every run, in the order they start: repeat by repeat, so a bench cut short has every arm."""
        return [
            Cell(task=task, agent=agent.name, config=config.name, repeat=repeat, seed=self.seed + repeat)
            for repeat in range(self.repeats)
            for task in tasks
            for agent in self.agents
            if not (agent.is_baseline and tasks[task].baseline is None)  # no baseline plan: no such row
            for config in self.configs
        ]


def load_bench(path: Path) -> BenchSpec:
    """A bench from a TOML file, or a Python file that defines `BENCH` (a `BenchSpec` or a mapping).

    Raises:
        SpecError: The file is missing or invalid; one line per problem, naming the field.
    """
    if path.suffix == ".py":
        try:
            data = runpy.run_path(str(path)).get("BENCH")
        except FileNotFoundError:
            raise SpecError(f"{path}: no such file") from None
        if data is None:
            raise SpecError(f"{path}: a Python bench defines BENCH (a seer.bench.BenchSpec or a dict)")
        if isinstance(data, BenchSpec):
            return data
    else:
        data = read_spec_file(path, missing="no such bench file")
    if isinstance(data, dict):
        data = _relative_paths(data, path.parent)
    try:
        return BenchSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError("\n".join(f"{path}: {field_problem(error, BenchSpec)}" for error in exc.errors())) from None


def _relative_paths(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """The file's paths (plans, libraries, skill folders) made relative to its folder, not the current one."""

    def resolve(value: Any) -> Any:
        return str(root / value) if isinstance(value, str) and not Path(value).is_absolute() else value

    def config(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        skills = [str(root / s) if isinstance(s, str) and (root / s).is_dir() else s for s in item.get("skills", [])]
        return {**item, "skills": skills, "libraries": [resolve(p) for p in item.get("libraries", [])]}

    agents = [{**a, "plan": resolve(a["plan"])} if isinstance(a, dict) and "plan" in a else a for a in data.get("agents", [])]
    resolved = {**data, "agents": agents, "configs": [config(c) for c in data.get("configs", [])]}
    if isinstance(audit := data.get("audit"), dict):
        seeds = audit.get("seeds")
        resolved["audit"] = {**audit, **({"seeds": str(root / seeds)} if isinstance(seeds, str) and (root / seeds).is_file() else {}),
                             **({"dimensions": resolve(audit["dimensions"])} if "dimensions" in audit else {})}  # fmt: skip
    if "base" in data:
        resolved["base"] = config(data["base"])
    if not data.get("configs"):
        resolved.pop("configs")
    return resolved
