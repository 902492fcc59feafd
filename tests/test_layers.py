"""The one-way flow of DESIGN.md (and the table in docs/architecture.md), checked on the source: no module
under `src/seer` imports a later layer (function-level imports count too: a lazy import is still a
dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import seer

SRC = Path(seer.__file__).parent

LAYERS: list[tuple[str, ...]] = [
    ("interp",),
    ("errors", "version", "spec_files", "plugins", "answer", "spill", "outputs", "web", "run", "record", "organisms", "saes", "environment", "skills", "task", "prompt", "audit"),
    ("kernel", "notebook", "sandbox", "placement", "blind", "scope"),
    ("session", "setup", "investigation", "repos", "services"),
    ("tools", "serve", "hub"),
    ("agent",),
    ("judge",),
    ("bench",),
    ("viewer", "demo", "gallery", "doctor", "cli", "__init__", "__main__"),
]
"""Earliest first: the toolkit that runs in the kernel; pure data and record formats; where code runs;
the session; what the agent may do; who acts; how well it went; many runs compared; the applications on top."""


def _area(module: str) -> str:
    """`seer.sandbox.local` → `sandbox`; the package itself → `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(module: str) -> int:
    area = _area(module)
    for index, names in enumerate(LAYERS):
        if area in names:
            return index
    raise AssertionError(f"{module}: no layer; add {area!r} to LAYERS in tests/test_layers.py (and to DESIGN.md)")


def _module_of(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The `seer…` modules `path` imports (`from seer import x` counts as `seer.x` where that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "seer"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "seer":
            if node.module == "seer":
                found |= {f"seer.{a.name}" for a in node.names if (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").is_file()}
            else:
                found.add(node.module)
    return found


def test_no_module_imports_a_later_layer() -> None:
    backwards = []
    for path in sorted(SRC.rglob("*.py")):
        importer = _module_of(path)
        for imported in _imports(path):
            if imported != "seer" and _layer(imported) > _layer(importer):
                backwards.append(f"{importer} (layer {_layer(importer)}) imports {imported} (layer {_layer(imported)})")
    assert not backwards, "\n".join(backwards)


def test_the_toolkit_imports_nothing_of_the_harness() -> None:
    """DESIGN rule 3: `interp/` runs in kernels where Seer is not installed, so it imports itself relatively."""
    offenders = [str(path.relative_to(SRC)) for path in sorted((SRC / "interp").rglob("*.py")) if _imports(path)]
    assert not offenders


def test_the_checker_sees_a_backward_import(tmp_path: Path) -> None:
    """The walk is not vacuous: a lazy import of the judge from the session is found."""
    source = tmp_path / "session.py"
    source.write_text("def f():\n    from seer.judge import judge_run\n    from seer import agent, errors\n")
    assert _imports(source) == {"seer.judge", "seer.agent", "seer.errors"}
    assert _layer("seer.judge") > _layer("seer.session") > _layer("seer.errors")


def test_the_harness_imports_no_torch() -> None:
    """The CLI, the MCP server and the session never import the toolkit's torch (1.6 s of every `seer`
    command's start); only kernels and the judge's re-measurement load it."""
    import subprocess
    import sys

    probe = "import sys, seer.cli, seer.serve, seer.session, seer.hub, seer.blind; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"
