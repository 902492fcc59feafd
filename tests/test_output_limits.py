"""A print flood, a huge display, a huge cell source and a memory-hungry cell, in real local sessions."""

import json
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.session import Session
from seer.tools.base import ToolContext
from seer.tools.notebook import notebook_tools
from tests.helpers import read_valid_notebook

pytestmark = pytest.mark.anyio
FLOOD = "import sys\nchunk = 'x' * 1_000_000 + '\\n'\nfor _ in range(200):\n    sys.stdout.write(chunk)\nprint('the end')"


def status_bytes(field: str) -> int:
    """A size from /proc/self/status (VmRSS, VmHWM: the peak RSS)."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1]) * 1024


def reset_peak_rss() -> int:
    """Make this process's peak RSS its current RSS, and return that."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("this system cannot reset the peak RSS (/proc/self/clear_refs)")
    return status_bytes("VmRSS")


@pytest.mark.slow
async def test_a_200_mb_print_flood_stays_out_of_the_notebook_and_out_of_memory(tmp_path: Path) -> None:
    async with Session.open(Environment(timeouts={"cell_s": 120}), runs_dir=tmp_path) as session:
        await session.execute("1")
        before = reset_peak_rss()
        cell = await session.execute(FLOOD)
        grown = status_bytes("VmHWM") - before
        text, _ = cell.render()
        (spilled,) = cell.run.cap.files
        after = await session.execute("print('next')")
    assert cell.run.status == "ok" and after.render()[0].endswith("next\n")
    assert grown < 150 * 2**20, f"the harness grew by {grown / 2**20:.0f} MiB"
    assert session.run.notebook_path.stat().st_size < 2**20
    assert (session.run.path / spilled).stat().st_size == 200 * 1_000_001 + len("the end\n")
    shown = "".join(o["text"] for o in read_valid_notebook(session.run.notebook_path).cells[1].outputs)
    assert shown.startswith("x" * 1000) and shown.endswith("x\nthe end\n")
    assert f"[... {200 * 1_000_001 + 8 - 2 * 65536:,} characters of stdout cut here; the whole stdout is in {spilled}" in shown
    assert f"the full output is in cell 1 of notebook.ipynb and {spilled} in the run folder" in text
    assert len(text) < 25_000


async def test_a_huge_display_is_replaced_by_a_line_and_kept_in_a_file(tmp_path: Path) -> None:
    env = Environment(limits={"display_mib": 1})
    async with Session.open(env, runs_dir=tmp_path) as session:
        cell = await session.execute("from IPython.display import HTML, display\ndisplay(HTML('<p>' + 'a' * 5_000_000))\n'small'")
    assert cell.run.status == "ok"
    pointer, result = read_valid_notebook(session.run.notebook_path).cells[0].outputs
    assert "text/html output of 5.0 MB not kept" in pointer.data["text/plain"] and result.data["text/plain"] == "'small'"
    (line,) = (session.run.path / cell.run.cap.files[0]).read_text().splitlines()
    assert len(json.loads(line)["data"]["text/html"]) == 5_000_003


@pytest.mark.slow
async def test_a_cell_past_the_memory_limit_fails_clearly_and_the_kernel_carries_on(tmp_path: Path) -> None:
    env = Environment(limits={"kernel_memory_gib": 2}, timeouts={"cell_s": 60})
    async with Session.open(env, runs_dir=tmp_path) as session:
        torch = await session.execute("import torch\nx = torch.randn(256, 256)\nprint(tuple((x @ x).shape))")
        # numpy's empty arrays take address space without touching it: the limit is reached at once
        hog = await session.execute("import numpy\nkept = 'yes'\nblocks = []\nwhile True:\n    blocks.append(numpy.empty(10**8, 'u1'))")
        freed = await session.execute("del blocks\nprint(kept, bytearray(10**8)[:1])")
    assert torch.render()[0].endswith("(256, 256)\n")
    assert hog.run.status == "error" and "MemoryError" in hog.render()[0]
    assert "the kernel may use 2 GiB (limits.kernel_memory_gib)" in (hog.run.note or "")
    assert freed.run.status == "ok" and freed.render()[0].endswith("yes bytearray(b'\\x00')\n")


async def test_read_notebook_cuts_a_huge_source_and_stops_a_long_answer(tmp_path: Path) -> None:
    async with Session.open(Environment(), runs_dir=tmp_path) as session:
        await session.execute("x = 1\n" + ("# " + "f" * 10_000 + "\n") * 300 + "print(x)")
        for i in range(30):
            await session.add_markdown(f"note {i}\n" + "m" * 5_000)
        answer = (await notebook_tools.call("read_notebook", {}, ToolContext(session, call_id="read"))).text
    assert answer.startswith("31 cell(s). Showing 0 to ")
    assert "characters of cell 0's source not shown here; notebook.ipynb has it whole" in answer
    assert "x = 1\n" in answer and "print(x)" in answer
    assert "call read_notebook(start=" in answer and len(answer) < 80_000
