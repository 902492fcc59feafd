"""What a session installs into its sandbox before the agent's first turn: the workspace (files,
libraries, skills, toolkit, adapters), missing packages, the kernel's environment and thread
allowance, and the hidden set-up code (memory limit, bounded streams, seeding, model loading).

`seer.session` calls these, and composes the hidden set-up from the code strings; nothing here starts a
sandbox or a kernel.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from seer import blind
from seer.environment import Environment
from seer.errors import SandboxError
from seer.placement import load_arguments, place_adapters
from seer.run import RunDir
from seer.sandbox.base import Sandbox
from seer.sandbox.host import secret_values
from seer.sandbox.local import LocalSandbox
from seer.sandbox.threads import ThreadAllowance, thread_allowance
from seer.skills import Skill, read_skills
from seer.version import check_version, read_shipped_version

__all__ = [
    "BOUNDED_STREAMS",
    "LIBS",
    "LOADER",
    "MEMORY_LIMIT",
    "SEEDING",
    "SKILLS",
    "TOOLKIT",
    "check_toolkit",
    "install_packages",
    "install_workspace",
    "keep_local_copies",
    "kernel_env",
    "scope_env",
    "loading_code",
    "model_root",
    "threads",
]

LIBS = "libs"
"""The workspace folder of libraries the agent can import (it is on the kernel's path)."""
TOOLKIT = "seer_interp"
"""The toolkit's import name in the kernel (a copy of `seer.interp` placed in `libs/`)."""
SKILLS = "skills"
"""The workspace folder the skills are copied into."""
_FIND_TOOLKIT = (
    "import importlib.util, os, sys; sys.path[:0] = ['', sys.argv[1]]; "
    "print(os.path.abspath(importlib.util.find_spec(sys.argv[2]).submodule_search_locations[0]))"
)
"""Where a kernel (the workspace first on its path, then the libraries) would import the toolkit from."""
LOADER = "loader"
"""Where the toolkit goes, in the sandbox's private folder, when the environment does not offer it: the
hidden set-up still loads the models with it."""
BOUNDED_STREAMS = """\
def _seer_bound(stream, most=1 << 20):
    base, pending = type(stream), [0]

    class BoundedStream(base):
        def _seer_write(self, text):
            for start in range(0, len(text), most):
                pending[0] += base.write(self, text[start:start + most]) or 0
                if pending[0] >= most:
                    pending[0] = 0
                    self.flush()
            return len(text)

        # IPython wraps `write` around every cell, then puts back what it found: stay beneath its wrapper
        write = property(
            lambda self: self.__dict__.get("_seer_outer") or self._seer_write,
            lambda self, outer: self.__dict__.update(_seer_outer=None if getattr(outer, "__func__", None) is base.write else outer),
        )

    stream.__class__ = BoundedStream
import sys as _sys
for _stream in (_sys.stdout, _sys.stderr):
    if type(_stream).__name__ == "OutStream":
        _seer_bound(_stream)
del _seer_bound, _sys, _stream
if hasattr(get_ipython().history_manager, "outputs"):
    get_ipython().events.register("post_run_cell", lambda result: get_ipython().history_manager.outputs.clear())
"""
"""ipykernel sends what a stream buffered every 0.2 s, whatever its size, so a print flood would reach the
harness as one message of hundreds of MB; with this, a stream's messages carry at most 1 MiB. IPython 9
also keeps every cell's printed text and displays in the kernel (for `%notebook`): dropped after each cell."""
MEMORY_LIMIT = """\
import resource as _resource
_resource.setrlimit(_resource.RLIMIT_DATA, ({limit}, {limit}))
del _resource
"""
"""Hidden set-up code capping the kernel's data segment at `limit` bytes (`limits.kernel_memory_gib`)."""
SEEDING = """\
import random as _random
_random.seed({seed})
try:
    import numpy as _np
    _np.random.seed({seed})
except ImportError:
    pass
try:
    import torch as _torch
    _torch.manual_seed({seed})
except ImportError:
    pass
del _random
"""
"""Hidden set-up code seeding Python's, numpy's and torch's generators with `seed` (the environment's `seed`)."""
_MISSING_PACKAGES = """
import json, sys
from importlib import metadata
from packaging.requirements import Requirement
missing = []
for line in json.loads(sys.argv[1]):
    req = Requirement(line)
    try:
        if not req.specifier.contains(metadata.version(req.name), prereleases=True):
            missing.append(line)
    except metadata.PackageNotFoundError:
        missing.append(line)
print(json.dumps(missing))
"""


def model_root(env: Environment, sandbox: Sandbox) -> str:
    """Where the models' packaged adapters go: the workspace, or the scope server's private folder."""
    return f"{sandbox.private}/scope" if env.scope is not None else sandbox.workspace


def loading_code(env: Environment, sandbox: Sandbox) -> str:
    """Kernel code binding each model and its tokenizer to their variable names (none when scoped:
    the models live in the scope server). Without the toolkit on offer, the loader is imported from the
    private folder and forgotten afterwards."""
    if not env.models or env.scope is not None:
        return ""
    loader = f"{sandbox.private}/{LOADER}"
    lines = []
    if not env.toolkit:
        lines.append(f"import sys as _sys\n_sys.path.insert(0, {loader!r})")
    lines.append(f"from {TOOLKIT}.loading import load_model as _seer_load")
    mounted = {target for _, target in sandbox.confinement.mounts} if isinstance(sandbox, LocalSandbox) and sandbox.confinement else set()
    for spec in env.models:
        folder = f"{blind.MODELS_ROOT}/{spec.name}"
        options = load_arguments(spec, sandbox.workspace, folder if folder in mounted else None)
        arguments = ", ".join(f"{key}={value!r}" for key, value in options.items() if key not in ("name", "id"))
        lines.append(f"{spec.name}, {spec.name}_tokenizer = _seer_load({options['id']!r}, {arguments})")
    lines.append("del _seer_load")
    if not env.toolkit:
        lines.append(f"_sys.path.remove({loader!r})")
        lines.append(f"for _name in [n for n in _sys.modules if n == {TOOLKIT!r} or n.startswith({TOOLKIT + '.'!r})]:")
        lines.append("    del _sys.modules[_name]")
        lines.append("del _sys, _name")
    return "\n".join(lines) + "\n"


def threads(env: Environment, sandbox: Sandbox) -> ThreadAllowance:
    """The kernel's torch/BLAS thread count: the environment's own `env` setting, else `thread_allowance`."""
    chosen = env.env.get("OMP_NUM_THREADS", "")
    if chosen.isdigit() and int(chosen) > 0:
        return ThreadAllowance(int(chosen), "OMP_NUM_THREADS in the environment's env")
    sessions = sandbox.sessions_here() if isinstance(sandbox, LocalSandbox) else 1
    return thread_allowance(env.sandbox, sessions=sessions)


def kernel_env(env: Environment, sandbox: Sandbox) -> dict[str, str]:
    """The variables the session adds to the sandbox's base: libraries on the path, env, allowed secrets."""
    added = {"PYTHONPATH": f"{sandbox.workspace}/{LIBS}", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    added.update(env.env)
    added.update(secret_values(env))
    return added


def scope_env(env: Environment, sandbox: Sandbox) -> dict[str, str]:
    """The variables a scope server started for the session gets: the environment's `env`, its allowed
    secrets (an API target's key; a scoped-only agent has no code execution to read them) and
    `SEER_WORKSPACE`, where the interface finds the session's files."""
    return {**env.env, **secret_values(env), "SEER_WORKSPACE": sandbox.workspace}


async def install_workspace(env: Environment, sandbox: Sandbox) -> dict[str, Skill]:
    """Copy files, libraries and skills into the workspace; returns the skills by name."""
    for spec in env.files:
        await sandbox.upload(spec.source, spec.dest or spec.source.name)
    await sandbox.write_file(f"{LIBS}/README.txt", b"Python files and packages the agent can import (this folder is on the kernel's path).\n")
    for library in env.libraries:
        await sandbox.upload(library, f"{LIBS}/{library.name}")
    skills = read_skills(env.skills)
    for skill in skills.values():
        await sandbox.upload(skill.path, f"{SKILLS}/{skill.name}")
    toolkit = f"{LIBS}/{TOOLKIT}" if env.toolkit else f"{sandbox.private}/{LOADER}/{TOOLKIT}"
    await sandbox.upload(Path(__file__).parent / "interp", toolkit)  # the kernel needs no Seer
    await check_toolkit(sandbox, toolkit.rpartition("/")[0])
    await place_adapters(env.models, sandbox, model_root(env, sandbox))
    return skills


def keep_local_copies(env: Environment, run: RunDir, skills: dict[str, Skill]) -> None:
    """For a sandbox on another machine: keep the skills and the scope interface in the local run
    directory too, where `reopen` (and anyone reading the record) finds them."""
    for skill in skills.values():
        shutil.copytree(skill.path, run.workspace / SKILLS / skill.name, dirs_exist_ok=True)
    if env.scope is not None and env.scope.interface is not None:
        (run.path / "private" / "scope").mkdir(parents=True, exist_ok=True)
        shutil.copy2(env.scope.interface, run.path / "private" / "scope" / "interface.py")


async def check_toolkit(sandbox: Sandbox, folder: str) -> None:
    """The version handshake: the toolkit the kernel will import (from `folder`, unless something in the
    workspace shadows it) must be the version of this harness."""
    found = await sandbox.exec([sandbox.python, "-c", _FIND_TOOLKIT, folder, TOOLKIT], timeout_s=60)
    location = found.stdout.strip()
    if found.exit_code != 0 or not location:
        raise SandboxError(f"the sandbox's Python cannot find the toolkit it was given: {found.stderr.strip()[-1000:]}")
    source = (await sandbox.read_file(f"{location}/_version.py")).decode(errors="replace")
    check_version(f"the toolkit the kernel imports ({location})", read_shipped_version(source))


async def install_packages(env: Environment, sandbox: Sandbox, run: RunDir) -> None:
    """Install the environment's missing requirements into the kernel's Python, and record what was done."""
    if not env.packages:
        return
    check = await sandbox.exec([sandbox.python, "-c", _MISSING_PACKAGES, json.dumps(env.packages)], timeout_s=120)
    if check.exit_code != 0:
        raise SandboxError(f"could not check the environment's packages: {check.stderr.strip()[-2000:]}")
    missing = json.loads(check.stdout)
    record: dict[str, Any] = {"requested": env.packages, "missing": missing}
    if missing:
        install = await sandbox.exec(
            [sandbox.python, "-m", "pip", "install", "--disable-pip-version-check", *missing],
            timeout_s=env.timeouts.setup_s,
        )
        record["install_exit_code"] = install.exit_code
        if install.exit_code != 0:
            run.update_record(packages=record)
            raise SandboxError(
                f"could not install {', '.join(missing)}:\n{install.stderr.strip()[-2000:]}\n"
                "Fix the requirement in the environment's `packages`, or install it yourself first."
            )
    run.update_record(packages=record)
