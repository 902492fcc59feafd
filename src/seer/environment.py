"""What an investigation needs, as pure data: models, packages, files, libraries, skills, init code.

An `Environment` is built in Python or loaded from TOML (`Environment.from_toml`). Relative paths in
a TOML file are resolved against the file's folder. Every check runs at load time, and all problems
are reported together as one `SpecError` naming the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializeAsAny, ValidationError, field_validator, model_validator

from seer.errors import SpecError
from seer.plugins import SANDBOX_PROVIDERS
from seer.spec_files import field_problem, read_spec_file

__all__ = ["Environment", "FileSpec", "Limits", "ModelSpec", "SandboxSpec", "ScopeSpec", "SecretsPolicy", "Timeouts", "sandbox_spec"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?\s*([<>=!~]=?.*)?$")


class _Spec(BaseModel, frozen=True, extra="forbid"):
    """Base for specs: immutable, and unknown keys are errors rather than silent defaults."""


class ModelSpec(_Spec):
    """A model the kernel loads before the agent's first turn (loading arrives with the toolkit)."""

    id: str
    """Hugging Face id (`org/name`), a local directory, or a packaged model (`seer:smollm2-135m-instruct`)."""
    name: str = "model"
    """Variable name the model is bound to in the kernel; the tokenizer gets `<name>_tokenizer`."""
    revision: str | None = None
    """Commit or tag to pin; `None` takes the newest."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Weight dtype once loaded."""
    adapter: str | None = None
    """A PEFT adapter (Hugging Face id, local directory, or a packaged organism `seer:<name>`) on top of `id`."""
    merge_adapter: bool = False
    """Merge the adapter into the weights; by default it stays switchable (`model.disable_adapter()`)."""
    device_map: str | None = None
    """Passed to `from_pretrained` (`"auto"` spreads a large model over the GPUs); `None` loads on one device."""
    trust_remote_code: bool = False
    """Allow the model repository's own Python code to run; only for repositories you trust."""
    hidden: bool = False
    """Hide the model's identity from the agent (it sees `name` only)."""

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("model id is empty; give a Hugging Face id, a local path or `seer:<packaged-name>`")
        return value

    @field_validator("adapter")
    @classmethod
    def _known_organism(cls, value: str | None) -> str | None:
        if value and value.startswith("seer:"):
            from seer.organisms import organism_names

            names = organism_names()
            if value[5:] not in names:
                close = difflib.get_close_matches(value[5:], names, n=1)
                hint = f"did you mean 'seer:{close[0]}'? " if close else ""
                raise ValueError(f"no packaged organism {value!r}; {hint}shipped: {', '.join(names)}")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a Python identifier; use letters, digits and `_`, e.g. 'model'")
        return value


class FileSpec(_Spec):
    """A file or folder copied into the workspace before the session starts."""

    source: Path
    """Where it is now (relative paths resolve against the TOML file's folder)."""
    dest: str | None = None
    """Where it goes, relative to the workspace; defaults to the source's name."""

    @field_validator("dest")
    @classmethod
    def _dest_inside_workspace(cls, value: str | None) -> str | None:
        if value is not None and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError(f"{value!r} leaves the workspace; give a relative path without '..'")
        return value


class RepoSpec(_Spec):
    """A git repository placed in the workspace at a revision, optionally installed into the kernel's Python."""

    url: str
    """A git URL (`https://…`, `ssh://…`, `git@host:…`) or a local path to a repository."""
    revision: str = "HEAD"
    """A branch, tag or commit; `run.json` records the commit it resolved to."""
    dest: str | None = None
    """Where it goes in the workspace; default: the repository's name."""
    install: Literal["none", "editable", "requirements"] = "none"
    """`editable`: `pip install -e` into the kernel's Python (no build isolation: its build backend, e.g.
    setuptools, must be installed there); `requirements`:
    `pip install -r requirements.txt` of the repository (or its `subdirectory`)."""
    subdirectory: str | None = None
    """The package's folder inside the repository, for `install`."""
    token_env: str | None = None
    """A host variable (allowed under `[secrets]`) holding an HTTPS token for a private repository; it reaches
    git through its environment, never a command line."""

    @field_validator("url", "revision")
    @classmethod
    def _not_an_option(cls, value: str) -> str:
        if not value.strip() or value.startswith("-") or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError(f"{value!r} is not a repository URL or revision (empty, starts with '-', or holds spaces)")
        return value

    @field_validator("dest", "subdirectory")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        if value is not None and (Path(value).is_absolute() or ".." in Path(value).parts or value.startswith("-")):
            raise ValueError(f"{value!r} leaves the workspace; give a relative path without '..'")
        return value

    @property
    def name(self) -> str:
        """The folder it goes to in the workspace."""
        return self.dest or self.url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git") or "repo"


class EndpointSpec(_Spec):
    """One HTTP endpoint of a service, offered to the agent as a function of the kernel's `services` module."""

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(pattern=r"^/")
    description: str = ""


class ServiceSpec(_Spec):
    """A process (or an OCI container) the session starts beside the kernel and stops with it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    command: list[str] = Field(default_factory=list)
    """The program and its arguments (no shell); `{port}` in an argument becomes the service's port."""
    image: str | None = None
    """Instead of `command`: an OCI image run with docker or podman (`container_port` inside)."""
    container_port: int = Field(80, gt=0, lt=65536)
    mounts: list[str] = Field(default_factory=list)
    """Container mounts, `host_path:container_path` (host paths relative to the workspace)."""
    cwd: str | None = None
    """Where the command runs, relative to the workspace (default: the workspace)."""
    port: int = Field(0, ge=0, lt=65536)
    """The port it listens on, on 127.0.0.1; 0: a free one, given to it as `$PORT` and `{port}`."""
    health: str = Field("/", pattern=r"^/")
    """An HTTP path that answers (any status below 500) once the service is up."""
    env: dict[str, str] = Field(default_factory=dict)
    stop_signal: Literal["SIGTERM", "SIGINT", "SIGKILL"] = "SIGTERM"
    start_timeout_s: float = Field(60.0, gt=0, le=3600)
    endpoints: list[EndpointSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> ServiceSpec:
        if bool(self.command) == bool(self.image):
            raise ValueError("give either `command` (a process) or `image` (a container)")
        if self.cwd is not None and (Path(self.cwd).is_absolute() or ".." in Path(self.cwd).parts):
            raise ValueError(f"cwd {self.cwd!r} leaves the workspace; give a relative path without '..'")
        if self.image is not None and self.image.startswith("-"):
            raise ValueError(f"image {self.image!r} starts with '-'")
        return self


class SecretsPolicy(_Spec):
    """Which of the host's environment variables may enter the sandbox. By default, none."""

    allow: list[str] = Field(default_factory=list)
    """Names of host variables passed through (e.g. `HF_TOKEN`); every other host secret stays out."""


class Timeouts(_Spec):
    """Time limits, in seconds."""

    cell_s: float = Field(600.0, gt=0)
    """Default limit for one cell; the kernel is interrupted when it runs out."""
    kernel_start_s: float = Field(60.0, gt=0)
    """Limit for the kernel to start and answer."""
    setup_s: float = Field(600.0, gt=0)
    """Limit for the hidden set-up (init code, model loading)."""


class Limits(_Spec):
    """How much of a cell's output the notebook keeps, and how much memory the kernel may use."""

    stream_kib: int = Field(64, gt=0)
    """Of each stream of a cell (stdout, stderr), the notebook keeps the first and the last this many KiB
    (counted in characters); a line in between says how much was cut, and the whole stream is written to
    `artifacts/outputs/` as it arrives."""
    display_mib: float = Field(16.0, gt=0)
    """The most a cell's rich outputs (images, HTML, JSON) may take in the notebook; later ones go to
    `artifacts/outputs/` and leave a line saying so."""
    kernel_memory_gib: float | None = Field(None, gt=0)
    """The most memory the kernel process may allocate (`RLIMIT_DATA`, set inside it at every start); a
    cell that needs more fails with `MemoryError` (or kills the kernel, which is restarted) and its result
    names the limit. None: no limit."""


class ScopeSpec(_Spec):
    """A scoped session: the agent reaches the models only through an author's `@expose` functions."""

    interface: Path | None = None
    """The interface file; a scope server started for this session loads it with the environment's models."""
    server: str | None = None
    """Instead of `interface`: the URL of a running scope server shared by several sessions (`seer scope serve`)."""
    token_file: Path | None = None
    """The shared server's token file (with `server`)."""
    mode: Literal["tools", "notebook"] = "tools"
    """`tools`: the exposed functions are the agent's only tools (no code execution). `notebook`: a notebook
    whose kernel holds a client library (`import scope`) and no model."""
    isolation: Literal["auto", "required", "off"] = "auto"
    """OS isolation of the notebook kernel (`notebook` mode): `auto` uses bubblewrap where it works and says
    so plainly where it does not; `required` refuses to start without it."""
    record: str | None = None
    """An exposed function, taking no arguments, whose result the harness saves as `<run>/<record>.json`
    after every call of another function (an audit's `conversation`): the run's record of the interface's state."""
    call_timeout_s: float = Field(300.0, gt=0, le=7 * 86400, allow_inf_nan=False)
    """Limit for one call of an exposed function (a server started for the session; a shared server has its
    own, from `seer scope serve`'s environment). Past it the caller gets an error; the call itself runs on,
    since a Python thread cannot be stopped, and calls that need the models answer `Busy` until it ends."""

    @model_validator(mode="after")
    def _one_source(self) -> ScopeSpec:
        if (self.interface is None) == (self.server is None):
            raise ValueError("give either `interface` (a file of @expose functions) or `server` (a running scope server's URL)")
        if self.interface is not None and not self.interface.is_file():
            raise ValueError(f"interface: {str(self.interface)!r} does not exist; give the path of a .py file")
        if self.server is not None and (self.token_file is None or not self.token_file.is_file()):
            raise ValueError("a shared `server` needs `token_file`, the token file `seer scope serve` wrote")
        if self.record is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.record):
            raise ValueError(f"record: {self.record!r} is not a function name (it also names the file <run>/<record>.json)")
        if self.server is not None and not re.match(r"^https?://", self.server):
            raise ValueError(f"server: {self.server!r} is not a URL; give e.g. 'http://127.0.0.1:8765'")
        return self


class SandboxSpec(_Spec):
    """Where the session runs: the settings every provider takes. Each provider's own class (beside its
    code: `seer.sandbox.local.LocalSpec`, `…jupyter.JupyterSpec`, `…modal.ModalSpec`, `…ray.RaySpec`, or
    a plugin's) adds its fields; `[sandbox]` is validated by the class its `provider` registers."""

    provider: str = "local"
    """`local`, `jupyter`, `modal`, `ray`, or the name of an installed sandbox plugin."""
    cpus: float | None = Field(None, gt=0)
    """CPU cores for the sandbox: what `modal` and `ray` reserve (default 2), and the torch/BLAS threads of
    its kernels (default for `local`: this machine's cores divided among the Seer sessions running on it)."""
    blind: Literal["auto", "required"] = "auto"
    """A session with a hidden model or a graded task is blind where the kernel can be confined (see
    `seer.blind`); `auto` records `blind: false` and the reason elsewhere, `required` refuses to start."""

    @property
    def reserved_cpus(self) -> float:
        """The CPUs a sandbox that reserves them (`modal`, `ray`) asks for."""
        return 2.0 if self.cpus is None else self.cpus


_FLAT_DEFAULTS: dict[str, Any] = {
    "options": {}, "url": None, "token_env": "JUPYTER_TOKEN", "address": None, "gpu": None, "gpus": 0,
    "memory_gib": 16.0, "region": None, "idle_timeout_s": 3600.0, "isolation": "auto",
}  # fmt: skip
"""Fields every provider shared before each had its own class (run records up to 0.x keep them all): one
that still holds its default is dropped where the provider's class lacks it, so old run directories load."""


def sandbox_spec(data: Any) -> SandboxSpec:
    """`[sandbox]` (a mapping, or a spec already) as an instance of its provider's class.

    Raises:
        ValueError: Unknown provider, a plugin that fails to load, or settings its class rejects; the
            message names each field and the fix.
    """
    if isinstance(data, SandboxSpec):
        data = data.model_dump()
    if not isinstance(data, dict):
        raise ValueError(f"a table of settings, e.g. provider = 'local' (got {data!r})")
    name = data.get("provider", "local")
    if not isinstance(name, str) or not SANDBOX_PROVIDERS.knows(name):
        raise ValueError(SANDBOX_PROVIDERS.unknown(str(name)))
    try:
        spec = SANDBOX_PROVIDERS.load(name).spec
    except (SpecError, AttributeError) as exc:
        raise ValueError(str(exc) if isinstance(exc, SpecError) else f"the sandbox provider {name!r} registers no settings class (`spec`)") from None
    fields = {k: v for k, v in data.items() if k in spec.model_fields or _FLAT_DEFAULTS.get(k, ...) != v}
    try:
        return spec.model_validate(fields)
    except ValidationError as exc:
        raise ValueError("; ".join(field_problem(error, spec).removeprefix("(top level): ") for error in exc.errors())) from None


class Environment(_Spec):
    """Everything a session needs, declared as data."""

    name: str = "session"
    """A short label used in run ids and records."""
    models: list[ModelSpec] = Field(default_factory=list)
    """Models to load in the kernel."""
    packages: list[str] = Field(default_factory=list)
    """Python requirements the kernel needs (`numpy>=1.26`); missing ones are installed at start."""
    mode: Literal["notebook", "shell", "both"] = "notebook"
    """The agent's tools: the notebook (`execute_code` …), the shell (`run_command`, `read_file`, `write_file`,
    `list_dir`, `search` in the workspace), or both."""
    files: list[FileSpec] = Field(default_factory=list)
    """Files and folders placed in the workspace."""
    repos: list[RepoSpec] = Field(default_factory=list)
    """Git repositories placed in the workspace (each at a resolved commit), optionally installed."""
    services: list[ServiceSpec] = Field(default_factory=list)
    """Processes or containers started beside the kernel; the agent calls their endpoints as functions."""
    libraries: list[Path] = Field(default_factory=list)
    """Python files or packages the agent can import (placed on the kernel's `sys.path`)."""
    skills: list[Path] = Field(default_factory=list)
    """Skill folders, each holding a `SKILL.md`."""
    toolkit: bool = True
    """Offer the interpretability toolkit (`seer_interp`) to the agent. Off, it is neither importable nor
    named in the prompt (models still load): for measuring what the toolkit is worth."""
    init_code: str = ""
    """Python run in the kernel before the agent's first turn; hidden from the agent."""
    seed: int | None = None
    """Seeds `random`, NumPy and torch (those installed) in the kernel before `init_code`; recorded."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables set in the kernel."""
    secrets: SecretsPolicy = Field(default_factory=SecretsPolicy)
    """Which host secrets may enter the sandbox."""
    timeouts: Timeouts = Field(default_factory=Timeouts)
    """Time limits."""
    limits: Limits = Field(default_factory=Limits)
    """Output size and kernel memory limits."""
    sandbox: SerializeAsAny[SandboxSpec] = Field(default_factory=lambda: sandbox_spec({}))
    """Where the session runs (default: this machine); an instance of the provider's own class."""
    scope: ScopeSpec | None = None
    """Scope the agent to an interface's exposed functions; the models then load in the scope server,
    never in the kernel."""

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
            raise ValueError(f"{value!r} is not a short label; use letters, digits, '-', '_' or '.' (max 64)")
        return value

    @field_validator("sandbox", mode="before")
    @classmethod
    def _sandbox_of_its_provider(cls, value: Any) -> SandboxSpec:
        return sandbox_spec(value)

    @field_validator("packages")
    @classmethod
    def _requirements_parse(cls, value: list[str]) -> list[str]:
        for requirement in value:
            if not _REQUIREMENT.match(requirement.strip()):
                raise ValueError(f"{requirement!r} is not a requirement; write it as for pip, e.g. 'numpy>=1.26'")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _IDENTIFIER.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
        return value

    @model_validator(mode="after")
    def _paths_exist_and_names_unique(self) -> Environment:
        problems = []
        for i, spec in enumerate(self.files):
            if not spec.source.exists():
                problems.append(f"files[{i}].source: {str(spec.source)!r} does not exist")
        for i, path in enumerate(self.libraries):
            if not path.exists():
                problems.append(f"libraries[{i}]: {str(path)!r} does not exist")
            elif path.is_file() and path.suffix != ".py":
                problems.append(f"libraries[{i}]: {str(path)!r} is not a .py file or a package folder")
        for i, path in enumerate(self.skills):
            if not (path / "SKILL.md").is_file():
                problems.append(f"skills[{i}]: {str(path)!r} has no SKILL.md; a skill is a folder with a SKILL.md")
        names = [m.name for m in self.models]
        for name in {n for n in names if names.count(n) > 1}:
            problems.append(f"models: two models are named {name!r}; give each a distinct `name`")
        services = [v.name for v in self.services]
        for name in {n for n in services if services.count(n) > 1}:
            problems.append(f"services: two services are named {name!r}")
        folders = [r.name for r in self.repos]
        for name in {n for n in folders if folders.count(n) > 1}:
            problems.append(f"repos: two repositories go to {name!r}; give each a distinct `dest`")
        for i, repo in enumerate(self.repos):
            if repo.token_env is not None and repo.token_env not in self.secrets.allow:
                problems.append(f"repos[{i}].token_env: {repo.token_env!r} must be allowed under [secrets] allow")
        if self.scope is not None and self.scope.mode == "tools" and self.mode != "notebook":
            problems.append(f"mode: a scoped session in `tools` mode has no workspace tools; drop mode = {self.mode!r}")
        if self.scope is not None and self.scope.mode == "tools" and self.init_code.strip():
            problems.append("init_code: a scoped session in `tools` mode has no kernel to run it; use mode = 'notebook' or drop it")
        if self.scope is not None and self.scope.server is not None and self.models:
            problems.append("scope.server: a shared scope server loads its own models; remove `models` or use `scope.interface`")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def equip(self, *, skills: Sequence[Path] = (), libraries: Sequence[Path] = (), toolkit: bool | None = None) -> Environment:
        """A copy with more skills and libraries, and the toolkit switched on or off (`None`: as it is).

        Raises:
            SpecError: A path does not exist or two skills share a name.
        """
        data = self.model_dump()
        data["skills"] = [*self.skills, *skills]
        data["libraries"] = [*self.libraries, *libraries]
        if toolkit is not None:
            data["toolkit"] = toolkit
        return Environment.from_dict(data, source="equipment")

    @classmethod
    def from_toml(cls, path: str | Path) -> Environment:
        """Load an environment from a TOML file.

        Raises:
            SpecError: The file is missing, is not TOML, or fails validation.
        """
        path = Path(path)
        data = read_spec_file(path, missing="no such file; pass the path of an environment TOML file")
        return cls.from_dict(_resolve_paths(data, path.parent), source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "environment") -> Environment:
        """Validate a mapping (e.g. parsed TOML) into an environment.

        Raises:
            SpecError: One line per problem, naming the field and the fix.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise SpecError("\n".join(_describe(error, source) for error in exc.errors())) from None


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the TOML file's relative paths relative to its folder, not to the current directory."""
    data = dict(data)

    def resolve(value: Any) -> Any:
        return str(base / value) if isinstance(value, str) and not Path(value).is_absolute() else value

    if isinstance(data.get("files"), list):
        data["files"] = [
            {**item, "source": resolve(item.get("source"))} if isinstance(item, dict) else item
            for item in data["files"]
        ]
    for key in ("libraries", "skills"):
        if isinstance(data.get(key), list):
            data[key] = [resolve(item) for item in data[key]]
    if isinstance(data.get("scope"), dict):
        data["scope"] = {k: resolve(v) if k in ("interface", "token_file") else v for k, v in data["scope"].items()}
    if isinstance(data.get("repos"), list):  # a local repository named by a relative path
        data["repos"] = [{**item, "url": resolve(item["url"])} if isinstance(item, dict) and isinstance(item.get("url"), str)
                         and (base / item["url"]).is_dir() else item for item in data["repos"]]  # fmt: skip
    return data


def _describe(error: Any, source: str) -> str:
    """One readable line for one pydantic error: `source: field: problem`."""
    return f"{source}: {field_problem(error, Environment)}"
