"""`seer doctor`, `seer sandboxes`: check the installation and a sandbox provider; find the Modal sandboxes
Seer left running."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer

from seer.cli.options import EnvOpt, fail, load_env
from seer.environment import sandbox_spec
from seer.errors import SeerError

__all__ = ["doctor", "sandboxes"]


def doctor(
    provider: Annotated[str | None, typer.Option("--provider", help="Also check a sandbox provider: jupyter, modal, ray or an installed plugin (credentials, reachability).")] = None,
    env: EnvOpt = None,
    url: Annotated[str | None, typer.Option("--url", help="jupyter: the server's URL (default: the environment's).")] = None,
    token_env: Annotated[str | None, typer.Option("--token-env", help="jupyter: the variable holding its token (default JUPYTER_TOKEN).")] = None,
    address: Annotated[str | None, typer.Option("--address", help="ray: the cluster's address (default: the environment's).")] = None,
) -> None:
    """Check the installation: kernel start, an MCP round trip, optional extras; with --provider, that
    sessions can reach that provider. Says what to fix, within seconds."""
    from seer.doctor import check_provider, run_checks

    if provider is None:
        raise typer.Exit(0 if anyio.run(run_checks, typer.echo) else 1)
    try:
        current = load_env(env).sandbox
    except SeerError as exc:
        raise fail(exc) from None
    # the environment's settings for that provider, then the ones given here
    fields = current.model_dump() if provider == current.provider else {"provider": provider}
    given = {"url": url, "token_env": token_env} if provider == "jupyter" else {"address": address} if provider == "ray" else {}
    fields |= {key: value for key, value in given.items() if value is not None}
    try:
        spec = sandbox_spec(fields)
    except ValueError as exc:
        raise fail(SeerError(str(exc))) from None
    raise typer.Exit(0 if anyio.run(check_provider, spec, typer.echo) else 1)


def sandboxes(
    stop: Annotated[bool, typer.Option("--stop", help="Terminate every Modal sandbox Seer left running.")] = False,
    app_name: Annotated[str, typer.Option("--app", help="The Modal app Seer's sandboxes belong to.")] = "seer",
) -> None:
    """List the Modal sandboxes Seer started that are still running (a crash or a killed process can leave
    one, and a GPU bills until it stops); with --stop, terminate them."""
    from seer.sandbox.modal import doctor_modal, list_sandboxes, stop_sandboxes

    problems = anyio.run(doctor_modal, app_name)
    if problems:
        raise fail(SeerError("; ".join(problems)))
    try:
        if stop:
            typer.echo(f"Stopped {anyio.run(stop_sandboxes, app_name)} sandbox(es).")
            return
        found = anyio.run(list_sandboxes, app_name)
    except SeerError as exc:
        raise fail(exc) from None
    for box in found:
        typer.echo(f"{box['id']}  " + " ".join(f"{k}={v}" for k, v in sorted(box.get("tags", {}).items())))
    typer.echo(f"{len(found)} running; `seer sandboxes --stop` terminates them." if found else "No Seer sandboxes are running.")
