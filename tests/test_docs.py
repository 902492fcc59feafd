"""Every Python example in the toolkit docs runs as written (on the packaged SmolLM2, offline)."""

import re
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).parents[1] / "docs" / "interp").glob("*.md"))


def examples(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)], ids=lambda p: p.stem)
def test_the_example_runs(page: Path) -> None:
    for code in examples(page):
        exec(compile(code, str(page), "exec"), {"__name__": "__docs__"})
