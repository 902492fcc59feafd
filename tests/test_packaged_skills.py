"""The skills packaged with Seer (`src/seer/skills/<name>/SKILL.md`): well-formed front matter, and Python
examples that parse and call only what `seer.interp` (the kernel's `seer_interp`) really provides, with
arguments its functions accept. No model is loaded."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import seer.interp
from seer.skills import read_skill

SKILLS_DIR = Path(seer.interp.__file__).parents[1] / "skills"
FOLDERS = sorted(p for p in SKILLS_DIR.iterdir() if (p / "SKILL.md").is_file())
EXPECTED = {
    "steering", "refusal-direction", "logit-lens", "activation-patching", "probing", "sae-features", "notebook-practice",
}  # fmt: skip
TOOLKIT = "seer_interp"


def python_blocks(folder: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (folder / "SKILL.md").read_text(), flags=re.S | re.M)


def toolkit_object(dotted: str) -> Any:
    """`seer.interp` attribute for a `seer_interp` dotted name (`steer`, `loading.load_model`), or None."""
    target: Any = seer.interp
    for part in dotted.split("."):
        if not hasattr(target, part):
            return None
        target = getattr(target, part)
    return target


def toolkit_uses(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """Names the code takes from `seer_interp` (dotted, relative to it) and the local names bound to them."""
    used: set[str] = set()
    local: dict[str, str] = {}  # local name -> dotted name inside seer_interp ("" for the module itself)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == TOOLKIT or alias.name.startswith(TOOLKIT + "."):
                    inner = alias.name.removeprefix(TOOLKIT).lstrip(".")
                    if inner:
                        used.add(inner)
                    local[alias.asname or TOOLKIT] = inner if alias.asname else ""
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == TOOLKIT or node.module.startswith(TOOLKIT + "."):
                inner = node.module.removeprefix(TOOLKIT).lstrip(".")
                for alias in node.names:
                    dotted = f"{inner}.{alias.name}" if inner else alias.name
                    used.add(dotted)
                    local[alias.asname or alias.name] = dotted
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in local:
            base = local[node.value.id]
            if base == "" or inspect.ismodule(toolkit_object(base)):
                used.add(f"{base}.{node.attr}" if base else node.attr)
    return used, local


def called_function(call: ast.Call, local: dict[str, str]) -> str | None:
    """The dotted `seer_interp` name a call goes to, if it goes to one."""
    func = call.func
    if isinstance(func, ast.Name) and local.get(func.id):
        return local[func.id]
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in local:
        base = local[func.value.id]
        return f"{base}.{func.attr}" if base else func.attr
    return None


def test_every_expected_skill_is_packaged() -> None:
    assert EXPECTED <= {p.name for p in FOLDERS}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_front_matter_names_and_describes_the_skill(folder: Path) -> None:
    text = (folder / "SKILL.md").read_text()
    assert text.startswith("---\nname: "), "SKILL.md must open with a front-matter block"
    assert [p.name for p in folder.iterdir() if p.name != "__pycache__"] == ["SKILL.md"]
    skill = read_skill(folder)
    assert skill.name == folder.name
    assert skill.description.strip() and "\n" not in skill.description and len(skill.description) < 120
    assert len(text.splitlines()) <= 80, "keep a skill short enough to read in one go"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_python_examples_parse_and_use_only_real_toolkit_names(folder: Path) -> None:
    blocks = python_blocks(folder)
    assert blocks, "a skill needs at least one ```python example"
    for index, code in enumerate(blocks):
        tree = ast.parse(code, filename=f"{folder.name}/SKILL.md block {index}")
        used, local = toolkit_uses(tree)
        missing = sorted(name for name in used if toolkit_object(name) is None)
        assert not missing, f"block {index} uses names seer.interp lacks: {missing}"
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = called_function(call, local)
            target = toolkit_object(name) if name else None
            if target is None or not callable(target) or inspect.isclass(target):
                continue
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                continue
            try:
                inspect.signature(target).bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
            except TypeError as error:
                pytest.fail(f"block {index}, line {call.lineno}: {name}(...) does not match its signature: {error}")
