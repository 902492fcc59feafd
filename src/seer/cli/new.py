"""`seer new`: write an environment (and a task folder) from a few answers; `seer check`: validate one.

`seer new` asks for what its flags leave out when it runs on a terminal without `--model` (or with
`--interactive`); otherwise the flags are all it takes. The file is written from an `Environment` that
has already been validated, then read back, so what it writes always loads. Skills are copied beside it
(`skills/<name>/`), so the folder is whole wherever it goes.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from seer.cli.options import fail, load_env, not_a_target
from seer.environment import Environment
from seer.errors import SeerError, SpecError
from seer.skills import copy_skill, find_skill, packaged_skills, read_skills
from seer.task import Task, find_task

__all__ = ["check", "new"]

_FORMS = "a Hugging Face id, a local folder or `seer:<packaged>`; NAME=ID names its variable"


@dataclass(frozen=True)
class Draft:
    """What `seer new` was asked for."""

    name: str
    models: list[dict[str, Any]]
    packages: list[str]
    skills: list[Path]
    question: str | None
    task_folder: bool

    def environment(self) -> Environment:
        """The environment drafted; raises SpecError naming each problem."""
        data = {"name": self.name, "models": self.models, "packages": self.packages, "skills": self.skills}
        environment = Environment.from_dict(data, source="seer new")
        read_skills(environment.skills)  # two skills of one name
        return environment

    def paths(self, out: Path | None) -> tuple[Path, Path]:
        """The folder written to and the environment file in it, from `--out` (default: a task folder named
        after the environment, or `env.toml` here)."""
        out = out or (Path(self.name) if self.task_folder else Path("env.toml"))
        return (out.parent, out) if out.suffix == ".toml" else (out, out / "env.toml")


def _models(ids: list[str], adapters: list[str], hidden: bool) -> list[dict[str, Any]]:
    """Model specs for `--model [NAME=]ID` and `--adapter` (the i-th goes with the i-th model; `none` skips one)."""
    if len(adapters) > len(ids):
        raise SpecError(f"--adapter: {len(adapters)} adapters for {len(ids)} models; the i-th --adapter goes with the i-th --model")
    models: list[dict[str, Any]] = []
    for index, given in enumerate(ids):
        var, eq, model_id = given.partition("=")
        if not (eq and var.isidentifier()):
            var, model_id = _free_name({m["name"] for m in models}), given
        adapter = adapters[index] if index < len(adapters) and adapters[index].lower() not in ("", "none") else None
        models.append({"id": model_id, "name": var, "adapter": adapter, "hidden": hidden})
    return models


def _default_name(out: Path | None) -> str:
    """The name of the folder `--out` writes to, where it is a valid label; else `session`."""
    folder = (out.parent if out.suffix == ".toml" else out).resolve().name if out else ""
    try:
        return Environment.from_dict({"name": folder}).name
    except SpecError:
        return "session"


def _free_name(taken: set[str]) -> str:
    return next(n for n in itertools.chain(["model"], (f"model_{i}" for i in itertools.count(2))) if n not in taken)


def _check_models(ids: list[str], adapters: list[str]) -> None:
    Environment.from_dict({"models": _models(ids, adapters, False)}, source="seer new")


def _toml(env: Environment, skills: list[str]) -> str:
    """`env`'s name, packages, `skills` (paths as written) and models as TOML."""
    text = json.dumps  # a JSON string is a TOML basic string
    lines = ["# Written by `seer new`; the fields are in docs/environment.md. Check it with `seer check`.", f"name = {text(env.name)}"]
    if env.packages:
        lines.append(f"packages = [{', '.join(map(text, env.packages))}]")
    if skills:
        lines.append(f"skills = [{', '.join(map(text, skills))}]")
    for model in env.models:
        lines += ["", "[[models]]", f"id = {text(model.id)}", f"name = {text(model.name)}"]
        lines += [f"adapter = {text(model.adapter)}"] if model.adapter else []
        lines += ["hidden = true"] if model.hidden else []
    return "\n".join(lines) + "\n"


def _write(draft: Draft, out: Path | None, *, force: bool) -> tuple[Path, Environment]:
    """Write `draft` (the environment file, the task.md of a task folder, copies of the skills); returns the
    environment file and the environment read back from it.

    Raises:
        SpecError: The draft is invalid, or a file exists and `force` is off.
    """
    environment = draft.environment()
    folder, env_file = draft.paths(out)
    skills = {f"skills/{name}": skill.path for name, skill in read_skills(environment.skills).items()}
    written = [env_file, *([folder / "task.md"] if draft.task_folder else []), *(folder / rel for rel in skills)]
    if not force and (there := [str(p) for p in written if p.exists()]):
        raise SpecError(f"{', '.join(there)} already exist{'s' if len(there) == 1 else ''}; pass --force to replace, or --out elsewhere")
    folder.mkdir(parents=True, exist_ok=True)
    for rel, path in skills.items():
        copy_skill(path, folder / rel)
    env_file.write_text(_toml(environment, list(skills)))
    if draft.task_folder:
        (folder / "task.md").write_text(f"{(draft.question or '').strip()}\n")
    return env_file, Environment.from_toml(env_file)


def _summary(env: Environment) -> list[str]:
    """A few lines saying what `env` holds: models (a hidden one by variable alone, so that a graded task's
    answer is not printed), skills, packages, sandbox."""
    models = [
        f"{m.name} (identity hidden)" if m.hidden
        else f"{m.name} = {m.id}" + (f" + adapter {m.adapter}" if m.adapter else "")
        for m in env.models
    ]  # fmt: skip
    return [
        f"  name:     {env.name}",
        f"  models:   {'; '.join(models) or 'none'}",
        f"  skills:   {', '.join(p.name for p in env.skills) or 'none'}",
        f"  packages: {', '.join(env.packages) or 'none'}",
        f"  sandbox:  {env.sandbox.provider}" + ("" if env.toolkit else " (no toolkit)"),
    ]


def _ask(text: str, check: Callable[[str], object] = str, default: str = "") -> str:
    """An answer typed at the prompt, asked again until `check` takes it."""
    while True:
        answer = typer.prompt(text, default=default, show_default=bool(default)).strip()
        try:
            check(answer)
            return answer
        except SeerError as exc:
            typer.secho(f"  {exc}", err=True, fg="red")


def _split(answer: str) -> list[str]:
    return [item.strip() for item in answer.split(",") if item.strip()]


def _ask_models() -> tuple[list[str], list[str]]:
    """Models typed one at a time, each with its adapter: their ids and adapters, each checked as it comes."""
    ids: list[str] = []
    adapters: list[str] = []
    prompt = f"Model ({_FORMS}; empty: none)"
    while given := _ask(prompt, lambda a: a and _check_models([*ids, a], adapters)):
        ids.append(given)
        adapters.append(_ask("  Adapter on it (PEFT: Hugging Face id, folder or `seer:<organism>`; empty: none)",
                             lambda a: _check_models(ids, [*adapters, a])))  # fmt: skip
        prompt = "Another model (empty: done)"
    return ids, adapters


def _interview(
    name: str | None, default_name: str, ids: list[str] | None, adapters: list[str], hidden: bool | None, packages: list[str] | None,
    skills: list[str] | None, question: str | None, task_folder: bool | None,
) -> Draft:  # fmt: skip
    """A draft from the flags given, asking at the prompt for each one left out."""
    name = name or _ask("Environment name", lambda a: Environment.from_dict({"name": a}, source="seer new"), default=default_name)
    if ids is None:
        ids, adapters = _ask_models()
    if hidden is None:
        hidden = bool(ids) and typer.confirm("Hide the models' identities from the agent?", default=False)
    if packages is None:
        packages = _split(_ask("Packages the kernel needs (pip requirements, comma-separated; empty: none)",
                               lambda a: Environment.from_dict({"packages": _split(a)}, source="seer new")))  # fmt: skip
    if skills is None:
        known = ", ".join(packaged_skills())
        skills = _split(_ask(f"Skills to equip (comma-separated, of {known}; empty: none)", lambda a: [find_skill(s) for s in _split(a)]))
    question = question if question is not None else _ask("The question for the agent (empty: none)") or None
    if task_folder is None:
        task_folder = bool(question) and typer.confirm("Write a task folder (env.toml and task.md with the question)?", default=True)
    return Draft(name, _models(ids, adapters, hidden), packages, [find_skill(s) for s in skills], question, task_folder)


ModelsOpt = Annotated[
    list[str] | None, typer.Option("--model", metavar="[NAME=]ID", help=f"A model to load: {_FORMS} (default `model`); repeatable.")
]
AdaptersOpt = Annotated[
    list[str] | None, typer.Option("--adapter", help="A PEFT adapter for the model of the same position (`none` skips one); repeatable.")
]
HiddenOpt = Annotated[bool | None, typer.Option("--hidden/--no-hidden", help="Hide the models' identities from the agent.", show_default=False)]
PackagesOpt = Annotated[list[str] | None, typer.Option("--package", metavar="REQUIREMENT", help="A pip requirement the kernel needs; repeatable.")]
SkillsOpt = Annotated[
    list[str] | None, typer.Option("--skill", metavar="NAME|PATH", help="A skill to equip (`seer skills`), copied beside the file; repeatable.")
]
QuestionOpt = Annotated[str | None, typer.Option("--question", help="The question for the agent (task.md of a task folder).")]
TaskFolderOpt = Annotated[
    bool | None, typer.Option("--task-folder/--no-task-folder", help="Write a task folder: env.toml and task.md.", show_default=False)
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="The file to write, or a folder for env.toml (default: env.toml here; a task folder: ./NAME).", show_default=False),
]
AskOpt = Annotated[
    bool | None,
    typer.Option(
        "--interactive/--no-interactive", help="Ask for what the flags leave out (default: on a terminal, without --model).", show_default=False
    ),
]


def new(
    model: ModelsOpt = None, adapter: AdaptersOpt = None, hidden: HiddenOpt = None,
    package: PackagesOpt = None, skill: SkillsOpt = None, question: QuestionOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="A short label for runs (default: the name of the folder written to).")] = None,
    task_folder: TaskFolderOpt = None, out: OutOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace files already there.")] = False, interactive: AskOpt = None,
) -> None:  # fmt: skip
    """Write a valid environment (env.toml), or with --task-folder a task folder, for a model and a question."""
    ask = interactive if interactive is not None else sys.stdin.isatty() and not model
    try:
        if ask:
            draft = _interview(name, _default_name(out), model, adapter or [], hidden, package, skill, question, task_folder)
        else:
            models = _models(model or [], adapter or [], bool(hidden))
            draft = Draft(name or _default_name(out), models, package or [], [find_skill(s) for s in skill or []], question, bool(task_folder))
        if draft.task_folder and not (draft.question or "").strip():
            raise SpecError("a task folder holds the question in task.md: give --question TEXT")
        env_file, environment = _write(draft, out, force=force)
    except SeerError as exc:
        raise fail(exc) from None
    typer.echo(f"Written: {env_file}" + (f" and {env_file.parent / 'task.md'}" if draft.task_folder else ""))
    typer.echo("\n".join(_summary(environment)))
    target = env_file.parent if draft.task_folder else env_file
    task = "" if draft.task_folder else f" --task {shlex.quote(draft.question or 'TEXT')}"
    typer.echo(f"Next: seer check {target}; seer run {target}{task} --provider anthropic")


def check(
    target: Annotated[Path, typer.Argument(help="An environment TOML, a task folder or a packaged task's name.", show_default=False)],
) -> None:
    """Validate an environment TOML or a task folder and summarise it; exit 1 naming each problem."""
    try:
        lines = _checked(target)
    except SeerError as exc:
        raise fail(exc, code=1) from None
    typer.echo("\n".join(lines))


def _checked(target: Path) -> list[str]:
    """What `seer check` says of a valid `target`; raises SpecError for an invalid one."""
    if target.name == "task.md" and target.is_file():
        target = target.parent
    if target.is_dir() and not (target / "task.md").is_file():
        target = target / "env.toml"  # an environment's folder
    if target.suffix == ".toml" or target.is_file():
        return [f"{target}: a valid environment", *_summary(Environment.from_toml(target))]
    if target.is_dir() and not any((target / f).exists() for f in ("rubric.toml", "ground_truth.json")):
        env = load_env(target / "env.toml" if (target / "env.toml").is_file() else None)
        first = next((line for line in (target / "task.md").read_text().splitlines() if line.strip()), "(empty)")
        return [f"{target}: a valid ungraded task (`seer run` takes it; `seer judge` needs rubric.toml and ground_truth.json)",
                f"  task:     {first}", *_summary(env)]  # fmt: skip
    task = Task.load(target) if target.is_dir() else find_task(target)
    if task is None:
        raise SpecError(not_a_target(target))
    variants = f", {len(task.drawn)} hidden variants" if task.variants else ""
    variants += " and a public one (the gallery's)" if task.public_variant is not None else ""
    return [f"{target}: a valid task (graded by its rubric{variants})", f"  task:     {task.summary}", *_summary(task.environment)]
