"""What an agent reads of a failed cell: the timeout note first, the user's own frames, the last library
frame and the exception; the notebook keeps every frame."""

import pytest

from seer.outputs import short_traceback
from seer.session import Session
from seer.tools.base import ToolContext
from seer.tools.notebook import notebook_tools
from tests.helpers import read_valid_notebook

pytestmark = pytest.mark.anyio

DEEP = "import subprocess\nsubprocess.run(['sleep', '30'])"
"""A cell whose timeout interrupts it four frames deep in the standard library."""


async def test_a_timed_out_cell_says_so_first_and_shows_only_the_frames_that_matter(session: Session) -> None:
    result = await notebook_tools.call("execute_code", {"code": DEEP, "timeout_s": 2}, ToolContext(session))
    assert result.is_error and len(result.text) < 2000, len(result.text)
    assert result.text.startswith("[The cell ran past its 2 s timeout and was interrupted. The kernel is alive")
    assert "----> 2 subprocess.run(['sleep', '30'])" in result.text  # the user's frame
    assert "library frame(s) not shown; the whole traceback is in cell 0 of notebook.ipynb" in result.text
    assert result.text.rstrip().endswith("KeyboardInterrupt:")
    kept = read_valid_notebook(session.run.notebook_path).cells[0].outputs
    (error,) = [o for o in kept if o.output_type == "error"]
    assert sum("subprocess.py" in entry for entry in error.traceback) >= 4  # every frame stays in the notebook


async def test_an_error_keeps_the_users_own_frames(session: Session) -> None:
    code = "import json\ndef parse(text):\n    return json.loads(text)\nparse('{bad')"
    result = await notebook_tools.call("execute_code", {"code": code}, ToolContext(session))
    assert result.is_error
    assert "----> 4 parse('{bad')" in result.text and "----> 3     return json.loads(text)" in result.text
    assert "json/decoder.py" in result.text and "json/__init__.py" not in result.text  # the last library frame only
    assert result.text.rstrip().endswith("JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")


def test_a_traceback_without_library_frames_to_drop_is_kept_whole() -> None:
    entries = ["-----", "ValueError      Traceback (most recent call last)", "Cell In[1], line 1\n----> 1 raise ValueError('x')", "ValueError: x"]
    assert short_traceback(entries, "cell 0") == "\n".join(entries)
    deep = [*entries[:3], *(f"File /usr/lib/python3.11/site-packages/lib{i}.py:1, in f{i}()\n----> 1 x" for i in range(3)), "ValueError: x"]
    shown = short_traceback(deep, "cell 0")
    assert "lib0.py" not in shown and "lib1.py" not in shown and "lib2.py" in shown and "[... 2 library frame(s) not shown" in shown
