"""Skills: folders holding a `SKILL.md` (markdown procedures the agent can read on demand).

A `SKILL.md` may open with a front-matter block giving `name:` and `description:` on one line each:

```
---
name: steering
description: Build and apply a steering vector, then measure its effect.
---
```
Without it, the folder's name is the skill's name and the first non-heading line its description.
`export_skill` writes a skill as Claude Code reads one, front matter always included.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seer.errors import SpecError

if TYPE_CHECKING:
    from seer.environment import Environment

__all__ = ["PACKAGED_SKILLS", "Equipment", "Skill", "copy_skill", "export_skill", "find_skill", "packaged_skills", "read_skills"]

PACKAGED_SKILLS = Path(__file__).parent
"""The skill folders that ship with Seer (one per technique, plus notebook practice)."""


@dataclass(frozen=True)
class Skill:
    """One skill folder."""

    name: str
    description: str
    path: Path

    def files(self) -> list[str]:
        """The skill's files, relative to its folder."""
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file())


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        return {}, text
    head, sep, body = text[4:].partition("\n---")
    if not sep:
        return {}, text
    fields = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip().strip("\"'")
    return fields, body


def read_skill(path: Path) -> Skill:
    """Read one skill folder."""
    fields, body = _front_matter((path / "SKILL.md").read_text())
    first = next((line.strip() for line in body.splitlines() if line.strip() and not line.startswith("#")), "")
    name = fields.get("name") or path.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise SpecError(f"{path / 'SKILL.md'}: skill name {name!r} must be letters, digits, '-', '_' or '.'")
    return Skill(name=name, description=fields.get("description") or first, path=path)


def copy_skill(path: Path, dest: Path) -> Path:
    """Copy the skill folder `path` to `dest`, replacing whatever is there; returns `dest`."""
    if dest.is_dir():
        shutil.rmtree(dest)
    elif dest.exists():
        dest.unlink()
    shutil.copytree(path, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def export_skill(skill: Skill, folder: Path, *, force: bool = False) -> Path:
    """Write `skill` as `folder/<name>/` in Claude Code's skill layout: its files, with a SKILL.md that opens
    with the `name` and `description` front matter Claude Code requires. Returns the folder written.

    Raises:
        SpecError: Claude Code would refuse the name or the description, or the folder exists and `force` is off.
    """
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", skill.name) or len(skill.name) > 64:
        raise SpecError(f"skill {skill.name!r}: Claude Code takes lowercase letters, digits and '-' (max 64); rename it in its SKILL.md")
    if not skill.description or len(skill.description) > 1024:
        raise SpecError(f"skill {skill.name!r}: Claude Code needs a description of 1 to 1024 characters; give one in its SKILL.md")
    target = folder / skill.name
    if target.exists() and not force:
        raise SpecError(f"{target} exists; replace it with --force")
    copy_skill(skill.path, target)
    text = (skill.path / "SKILL.md").read_text()
    _, body = _front_matter(text)
    body = body.removeprefix("\n") if body != text else text
    (target / "SKILL.md").write_text(f"---\nname: {skill.name}\ndescription: {json.dumps(skill.description, ensure_ascii=False)}\n---\n{body}")
    return target


def read_skills(paths: list[Path]) -> dict[str, Skill]:
    """Read skill folders, keyed by name.

    Raises:
        SpecError: Two skills share a name.
    """
    skills: dict[str, Skill] = {}
    for path in paths:
        skill = read_skill(path)
        if skill.name in skills:
            raise SpecError(f"skills: two skills are named {skill.name!r} ({skills[skill.name].path} and {path})")
        skills[skill.name] = skill
    return skills


def packaged_skills() -> dict[str, Skill]:
    """The skills that ship with Seer, by name."""
    return {p.name: read_skill(p) for p in sorted(PACKAGED_SKILLS.iterdir()) if (p / "SKILL.md").is_file()}


def find_skill(name_or_path: str | Path) -> Path:
    """A skill folder: a path to one, or the name of a packaged skill.

    Raises:
        SpecError: It is neither.
    """
    path = Path(name_or_path)
    if (path / "SKILL.md").is_file():
        return path.resolve()
    if (PACKAGED_SKILLS / str(name_or_path) / "SKILL.md").is_file():
        return PACKAGED_SKILLS / str(name_or_path)
    known = ", ".join(packaged_skills()) or "none"
    raise SpecError(f"skill {str(name_or_path)!r} is neither a folder with a SKILL.md nor a packaged skill ({known})")


@dataclass(frozen=True)
class Equipment:
    """Skills (names or folders), libraries and the toolkit switch added to an environment (`seer run --skill`,
    a bench configuration)."""

    skills: list[str] = field(default_factory=list)
    libraries: list[Path] = field(default_factory=list)
    toolkit: bool | None = None

    def apply(self, environment: Environment) -> Environment:
        """`environment` with this equipment; raises SpecError naming a skill or library that is not there."""
        if not self.skills and not self.libraries and self.toolkit is None:
            return environment
        skills = [find_skill(skill) for skill in self.skills]
        equipped = environment.equip(skills=skills, libraries=[p.resolve() for p in self.libraries], toolkit=self.toolkit)
        read_skills(equipped.skills)  # two skills of one name are an error now, not at the session's start
        return equipped
