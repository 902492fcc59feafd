"""What several commands share: their option declarations (each written once, as an `Annotated` alias),
the error exit, and loading an environment, a `.env` file or a provider from options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from seer.agent.providers import make_provider, provider_names
from seer.environment import Environment
from seer.errors import SeerError
from seer.task import packaged_tasks

__all__ = [
    "BaseUrlOpt",
    "build_provider",
    "CostOpt",
    "EnvOpt",
    "fail",
    "HostToolsOpt",
    "KeyEnvOpt",
    "LibraryOpt",
    "load_dotenv",
    "load_env",
    "not_a_target",
    "MethodOpt",
    "ModelOpt",
    "PageOpt",
    "ParallelOpt",
    "PlanOpt",
    "ProviderOpt",
    "ReplyOpt",
    "RunIdOpt",
    "RunsOpt",
    "SeedOpt",
    "TargetModelOpt",
    "SessionRunsOpt",
    "SkillOpt",
    "StyleOpt",
    "Target",
    "TargetEnvOpt",
    "TaskFileOpt",
    "TaskOpt",
    "TokensOpt",
    "ToolkitOpt",
    "TurnsOpt",
    "ViewOpt",
    "WallOpt",
    "NewCostOpt",
    "NewTokensOpt",
    "NewTurnsOpt",
    "NewWallOpt",
]

EnvOpt = Annotated[
    Path | None, typer.Option("--env", help="Environment TOML file (models, files, skills, init code…).")
]
SessionRunsOpt = Annotated[
    Path, typer.Option("--runs-dir", help="Folder that receives one run directory per session.")
]
Target = Annotated[
    Path | None, typer.Argument(help="Task name (`seer tasks`), task folder, task.md, or environment TOML.", show_default=False)
]
ProviderOpt = Annotated[str, typer.Option("--provider", help=f"One of: {', '.join(provider_names())}.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model name, as the provider spells it.")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="Endpoint of an OpenAI-compatible or proxy server.")]
KeyEnvOpt = Annotated[
    str | None, typer.Option("--api-key-env", help="Variable holding the API key (`none` for keyless servers).")
]
PlanOpt = Annotated[Path | None, typer.Option("--plan", help="Plan file for `--provider scripted` (JSON).")]
TaskOpt = Annotated[str | None, typer.Option("--task", help="The task text (instead of a task.md).")]
TaskFileOpt = Annotated[Path | None, typer.Option("--task-file", help="A file holding the task text.")]
TargetEnvOpt = Annotated[Path | None, typer.Option("--env", help="Environment TOML (when TARGET is a task.md).")]
RunsOpt = Annotated[Path, typer.Option("--runs-dir", help="Folder that receives the run directory.")]
RunIdOpt = Annotated[str | None, typer.Option("--run-id", help="Name of the run directory (default: time, environment and a random suffix).")]
TurnsOpt = Annotated[str, typer.Option("--max-turns", help="Model calls; `none` for no limit.")]
TokensOpt = Annotated[str, typer.Option("--max-tokens", help="Input + output tokens over the run; `none` for no limit.")]
CostOpt = Annotated[str, typer.Option("--max-cost", help="Dollars, from the genai-prices table; `none` for no limit.")]
WallOpt = Annotated[str, typer.Option("--max-wall", help="Seconds of wall time; `none` for no limit.")]
NewTurnsOpt = Annotated[str | None, typer.Option("--max-turns", help="Change the run's turn limit (`none`: no limit).")]
NewTokensOpt = Annotated[str | None, typer.Option("--max-tokens", help="Change its token limit.")]
NewCostOpt = Annotated[str | None, typer.Option("--max-cost", help="Change its cost limit (dollars).")]
NewWallOpt = Annotated[str | None, typer.Option("--max-wall", help="Change its wall-time limit (seconds, counting its earlier time).")]
MethodOpt = Annotated[bool, typer.Option("--methodology/--no-methodology", help="Include the research-methodology section.")]
StyleOpt = Annotated[bool, typer.Option("--style-guide/--no-style-guide", help="Include the code-style section.")]
HostToolsOpt = Annotated[
    bool, typer.Option("--host-tools", help="claude-code only: also give Claude Code its own Bash, file and web tools.")
]
ReplyOpt = Annotated[
    str | None, typer.Option("--checkpoint-reply", help="What a batch run answers when the agent asks a question.")
]
ViewOpt = Annotated[
    bool, typer.Option("--view", help="Serve the live viewer while the run runs (on 127.0.0.1:8765 or a free port); prints its URL.")
]
SkillOpt = Annotated[
    list[str] | None, typer.Option("--skill", metavar="NAME|PATH", help="Equip a skill: a packaged one's name (`seer skills`) or a folder with a SKILL.md; repeatable.")
]
LibraryOpt = Annotated[
    list[Path] | None, typer.Option("--library", metavar="PATH", help="Equip a Python file or package the agent can import; repeatable.")
]
ToolkitOpt = Annotated[
    bool | None, typer.Option("--toolkit/--no-toolkit", help="Offer the interpretability toolkit `seer_interp` (default: as the environment says, normally on).", show_default=False)
]
ParallelOpt = Annotated[
    int, typer.Option("--parallel", min=1, help="Run N independent sessions of the task at once, each with its own run directory.")
]
TargetModelOpt = Annotated[
    list[str] | None,
    typer.Option("--target", metavar="[NAME=]ID[+ADAPTER]", help="Run a replication task's real-model recipe on this model (any Hugging Face id, folder or `seer:` id; `ID+ADAPTER` adds a PEFT adapter); `NAME=ID` for a recipe with several models; repeatable."),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="The run's seed: which of a task's hidden variants it gets (default: drawn at random; recorded in run.json, out of the agent's sight)."),
]
PageOpt = Annotated[
    str | None, typer.Option("--page-checkpoints", help="Seconds a checkpoint question waits for an answer typed in the viewer's page (default with --view: 600).")
]


def fail(exc: SeerError, code: int = 2) -> typer.Exit:
    """Print `exc` as an error line; the exit (status `code`) to raise."""
    typer.secho(f"error: {exc}", err=True, fg="red")
    return typer.Exit(code)


def not_a_target(target: Path) -> str:
    """Why `target` names no task or environment, with what would."""
    return (f"{target}: no such packaged task, task folder or file; give a packaged task "
            f"({', '.join(packaged_tasks())}; `seer tasks`), a task folder, a task.md or an environment .toml")  # fmt: skip


def load_env(path: Path | None) -> Environment:
    """The environment a TOML file describes, or the default one."""
    return Environment.from_toml(path) if path else Environment()


def load_dotenv() -> None:
    """Take API keys from a `.env` file in the current folder (never over variables already set)."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def build_provider(
    name: str, model: str | None, base_url: str | None, key_env: str | None, plan: Path | None, host_tools: bool = False
) -> Any:
    """The provider the provider options name; `key_env` `none` means a keyless server."""
    kwargs: dict[str, Any] = {"base_url": base_url, "plan": str(plan) if plan else None, "host_tools": host_tools}
    if key_env is not None:
        kwargs["api_key_env"] = None if key_env.lower() == "none" else key_env
    return make_provider(name, model, **kwargs)
