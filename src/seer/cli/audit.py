"""`seer audit`: audit a target with an auditor agent, one audit per seed instruction, each judged on the
audit dimensions; a bench underneath (`seer bench` goes on with its folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seer.cli.bench import report, run_with_display
from seer.cli.options import BaseUrlOpt, KeyEnvOpt, ModelOpt, PlanOpt, ProviderOpt, fail, load_dotenv
from seer.errors import SeerError

__all__ = ["audit"]


def audit(
    seeds: Annotated[str, typer.Argument(help="A seed file (Petri's JSON list or one-per-line text, JSONL samples, TOML) or a packaged set: whistleblowing, sensitive-facts.", show_default=False)],
    provider: ProviderOpt,
    target: Annotated[str | None, typer.Option("--target", help="The audited model, loaded beside the auditing tools: seer:smollm2-135m-instruct, a hub id or a folder.")] = None,
    adapter: Annotated[str | None, typer.Option("--adapter", help="A PEFT adapter on the target (e.g. seer:taboo-moon).")] = None,
    target_url: Annotated[str | None, typer.Option("--target-url", help="Instead of --target: an OpenAI-compatible endpoint (…/v1).")] = None,
    target_model: Annotated[str | None, typer.Option("--target-model", help="The endpoint's model name.")] = None,
    target_key_env: Annotated[str | None, typer.Option("--target-key-env", help="Host variable holding the endpoint's API key.")] = None,
    only: Annotated[list[str] | None, typer.Option("--seed", help="Only this seed id (repeatable).")] = None,
    black_box: Annotated[bool, typer.Option("--black-box", help="Give the auditor no white-box tools (steering, ablation, probes, SAE features).")] = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = None,
    plan: PlanOpt = None,
    judge_provider: Annotated[str | None, typer.Option("--judge-provider", help="The judge's provider; none: audits are not scored (needs_rubric_judge).")] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="The judge's model.")] = None,
    judge_base_url: Annotated[str | None, typer.Option("--judge-base-url", help="The judge's endpoint.")] = None,
    judge_api_key_env: Annotated[str | None, typer.Option("--judge-api-key-env", help="Variable holding the judge's API key.")] = None,
    dimensions: Annotated[Path | None, typer.Option("--dimensions", help="The judge's dimensions (TOML [[dimensions]]); default: Petri-like set.")] = None,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Audits per seed.")] = 1,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, help="Auditor model calls per audit.")] = 40,
    name: Annotated[str, typer.Option("--name", help="The audit's name (its folder: audits/<name>).")] = "audit",
    bench_dir: Annotated[Path | None, typer.Option("--dir", help="The audit's folder (default: audits/<name>).")] = None,
) -> None:
    """Audit a target: an auditor agent follows each seed instruction through the auditing tools (the
    target's system message, tools it may call, messages with prefill, rollback; white-box tools on a
    local target), then a judge scores the target on each dimension, citing messages.

    Writes a bench folder: runs/<seed>.<agent>.base.<repeat>/ (conversation.json, transcript, score.json),
    results.jsonl and summary.md with the scores per dimension. For auditor against auditor, or black-box
    against white-box, write a bench spec with an [audit] table (docs/audit.md).
    """
    from seer.bench.spec import AgentSpec, AuditSpec, BenchSpec, ConfigSpec, JudgeSpec, RunLimits

    load_dotenv()
    try:
        seed_file = str(Path(seeds).resolve()) if Path(seeds).is_file() else seeds
        spec = BenchSpec(
            name=name,
            audit=AuditSpec(seeds=seed_file, only=only or [], target=target, adapter=adapter, target_url=target_url,
                            target_model=target_model, target_key_env=target_key_env,
                            dimensions=dimensions.resolve() if dimensions else None),  # fmt: skip
            agents=[AgentSpec(name="auditor", provider=provider, model=model, base_url=base_url, api_key_env=api_key_env,
                              plan=plan.resolve() if plan else None)],  # fmt: skip
            base=ConfigSpec(env={"SEER_AUDIT_WHITE_BOX": "0"} if black_box else {}),
            repeats=repeats,
            budget=RunLimits(max_turns=max_turns),
            judge=JudgeSpec(provider=judge_provider, model=judge_model, base_url=judge_base_url, api_key_env=judge_api_key_env)
            if judge_provider else None,
        )
        folder = bench_dir or Path("audits") / name
        result = run_with_display(spec, folder, Path.cwd())
    except SeerError as exc:
        raise fail(exc) from None
    except ValueError as exc:  # a spec field out of range, said plainly
        raise typer.BadParameter(str(exc)) from None
    report(result, folder)
