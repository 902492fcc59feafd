"""`seer doctor`: check that this installation can run sessions, and say what to fix."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata

import anyio

from seer.environment import SandboxSpec
from seer.sandbox.isolation import HOST_GUARANTEE, probe
from seer.sandbox.providers import sandbox_plugin

__all__ = ["check_provider", "run_checks"]

_EXTRAS = {
    "matplotlib": ("plots in the notebook", "pip install matplotlib"),
    "torch": ("models and the interpretability toolkit", "pip install torch"),
    "transformers": ("Hugging Face models", "pip install transformers"),
    "anthropic": ("Claude as the agent", "pip install anthropic"),
    "openai": ("OpenAI-compatible agents", "pip install openai"),
    "modal": ("Modal GPU sandboxes", "pip install 'seer-interp[modal]'"),
    "ray": ("Ray cluster sandboxes", "pip install 'seer-interp[ray]'"),
}


async def _kernel_and_mcp(echo: Callable[[str], None]) -> bool:
    """Start a real session, run 1+1 through an in-process MCP client, check the answer."""
    from mcp import Client

    from seer.session import Session
    from seer.tools.base import ToolContext
    from seer.tools.mcp import ToolsApp, build_server
    from seer.tools.notebook import notebook_tools

    with tempfile.TemporaryDirectory(prefix="seer-doctor-") as runs:
        try:
            with anyio.fail_after(60):
                async with Session.open(runs_dir=runs) as session:
                    echo("  ✓ a Jupyter kernel starts in a session")

                    async def context() -> ToolContext:
                        return ToolContext(session)

                    async with Client(build_server(ToolsApp(notebook_tools, context))) as client:
                        result = await client.call_tool("execute_code", {"code": "1 + 1"})
        except Exception as exc:
            echo(f"  ✗ session or MCP round trip failed: {exc}")
            echo("    fix: `pip install --upgrade ipykernel jupyter_client mcp`, then run `seer doctor` again")
            return False
    text = result.content[0].text if result.content else ""
    if result.is_error or not text.rstrip().endswith("2"):
        echo(f"  ✗ MCP round trip returned {text!r} instead of 2")
        return False
    echo("  ✓ MCP round trip: execute_code('1 + 1') returned 2")
    return True


async def run_checks(echo: Callable[[str], None] = print) -> bool:
    """Run every check, printing one line each; True when nothing required is broken."""
    ok = True
    echo("Seer doctor")
    if sys.version_info < (3, 11):
        echo(f"  ✗ Python {sys.version.split()[0]}: Seer needs 3.11 or newer")
        ok = False
    else:
        echo(f"  ✓ Python {sys.version.split()[0]}")
    for package in ("ipykernel", "jupyter_client", "mcp", "pydantic"):
        try:
            echo(f"  ✓ {package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            echo(f"  ✗ {package} is missing: `pip install {package}`")
            ok = False
    if ok:
        ok = await _kernel_and_mcp(echo)
    echo("Optional extras")
    for module, (purpose, fix) in _EXTRAS.items():
        if importlib.util.find_spec(module) is None:
            echo(f"  · {module} not installed (needed for {purpose}): `{fix}`")
        else:
            echo(f"  ✓ {module} {metadata.version(module)} ({purpose})")
    reason = probe()
    if reason is None:
        echo(f"  ✓ kernels are confined by bubblewrap ({HOST_GUARANTEE.removeprefix('bubblewrap: ')})")
    else:
        echo(f"  · kernels are NOT confined ({reason}): code in a notebook can read what your user can; "
             "sessions say so at start, and `[sandbox] isolation = \"required\"` refuses to run without it")
    echo("All required checks passed." if ok else "Some required checks failed; fix them and run `seer doctor` again.")
    return ok


async def check_provider(spec: SandboxSpec, echo: Callable[[str], None] = print) -> bool:
    """Check that sessions can reach `spec`'s provider (credentials, reachability), within seconds; print
    what to fix. True when it can."""
    echo(f"Sandbox provider: {spec.provider}")
    check = sandbox_plugin(spec.provider).check
    problems = await check(spec) if check is not None else []
    for problem in problems:
        echo(f"  ✗ {problem}")
    if not problems:
        echo(f"  ✓ {spec.provider} is reachable and accepts the credentials")
    return not problems
