"""Git repositories in the workspace: each `[[repos]]` entry is fetched into a cache once per URL (a bare
mirror) and checked out once per commit, then copied into the session's workspace and optionally installed.

The revision is resolved to a commit before anything is copied, and `run.json` records it. git is always
called with `--` or `--end-of-options` before user-given values, and a private repository's token reaches git
through its environment (`GIT_CONFIG_*`), never a command line or a URL.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from seer.environment import Environment, RepoSpec
from seer.errors import SandboxError
from seer.run import RunDir
from seer.sandbox.base import Sandbox

__all__ = ["cache_root", "fetch", "install_repos", "redacted"]


def cache_root() -> Path:
    """Where mirrors and checkouts are kept: `$SEER_CACHE/repos` (default `~/.cache/seer/repos`)."""
    return Path(os.environ.get("SEER_CACHE") or Path.home() / ".cache" / "seer") / "repos"


def redacted(url: str) -> str:
    """`url` without any credentials written into it (`https://user:token@host/…` → `https://host/…`)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.split('@', 1)[1]}" if sep and "@" in rest.split("/", 1)[0] else url


def _git(args: list[str], spec: RepoSpec, *, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    if spec.token_env and (token := os.environ.get(spec.token_env)):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}")
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SandboxError(f"repos: {redacted(spec.url)}: git {args[0]} failed: {done.stderr.strip()[-1500:]}")
    return done.stdout.strip()


def fetch(spec: RepoSpec) -> tuple[Path, str]:
    """A checkout of `spec` at its revision (shared, read it only) and the commit it resolved to.

    Raises:
        SandboxError: git is missing, the URL cannot be cloned, or the revision names no commit.
    """
    if shutil.which("git") is None:
        raise SandboxError("repos: git is not installed on this machine; install it (apt install git) or drop [[repos]]")
    root = cache_root()
    mirror = root / "mirrors" / (hashlib.sha256(spec.url.encode()).hexdigest()[:20] + ".git")
    if not mirror.is_dir():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=mirror.parent, prefix=".clone-"))
        try:
            _git(["clone", "--quiet", "--mirror", "--", spec.url, str(partial / "m.git")], spec)
            (partial / "m.git").rename(mirror)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    else:
        _git(["fetch", "--quiet", "--prune", "origin"], spec, cwd=mirror)
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec.revision}^{{commit}}"], spec, cwd=mirror)
    except SandboxError:
        raise SandboxError(f"repos: {redacted(spec.url)}: revision {spec.revision!r} names no commit (a branch, tag or commit of it)") from None
    checkout = root / "checkouts" / commit
    if not checkout.is_dir():
        checkout.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=checkout.parent, prefix=".checkout-"))
        try:
            _git(["clone", "--quiet", "--no-checkout", "--", str(mirror), str(partial / "c")], spec)
            _git(["checkout", "--quiet", "--detach", commit], spec, cwd=partial / "c")
            (partial / "c").rename(checkout)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return checkout, commit


async def install_repos(env: Environment, sandbox: Sandbox, run: RunDir) -> None:
    """Place each repository in the workspace at its commit, install it as asked, and record them in `run.json`.

    Raises:
        SandboxError: A repository cannot be fetched, its revision does not resolve, or its install fails
            (the message names the repository and the problem).
    """
    placed: list[dict[str, Any]] = []
    for spec in env.repos:
        checkout, commit = await asyncio.to_thread(fetch, spec)
        await sandbox.upload(checkout, spec.name)
        entry = {"url": redacted(spec.url), "revision": spec.revision, "commit": commit, "dest": spec.name, "install": spec.install}
        placed.append(entry)
        run.update_record(repos=placed)
        folder = f"./{spec.name}" + (f"/{spec.subdirectory}" if spec.subdirectory else "")
        if spec.install == "none":
            continue
        pip = [sandbox.python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        argv = pip + (["--no-build-isolation", "-e", folder] if spec.install == "editable" else ["-r", f"{folder}/requirements.txt"])
        done = await sandbox.exec(argv, timeout_s=env.timeouts.setup_s)
        entry["install_exit_code"] = done.exit_code
        run.update_record(repos=placed)
        if done.exit_code != 0:
            raise SandboxError(f"repos: {redacted(spec.url)}: `pip install` ({spec.install}) failed:\n{done.stderr.strip()[-2000:]}")
