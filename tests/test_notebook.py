import asyncio
from pathlib import Path

import pytest

from seer.notebook import Notebook, cell_meta
from tests.helpers import read_valid_notebook

pytestmark = pytest.mark.anyio


async def test_a_saved_notebook_is_valid_and_round_trips(tmp_path: Path) -> None:
    notebook = Notebook(tmp_path / "nb.ipynb", metadata={"run_id": "r1"})
    index = notebook.append_code("print(1)", status="ok")
    notebook.cells[index]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    notebook.cells[index]["execution_count"] = 1
    notebook.insert_markdown("# Title", 0)
    await notebook.close()
    saved = read_valid_notebook(tmp_path / "nb.ipynb")
    assert [c.cell_type for c in saved.cells] == ["markdown", "code"]
    assert saved.cells[1].outputs[0].text == "1\n"
    assert saved.metadata.seer.run_id == "r1"


async def test_saving_does_not_follow_every_output_message(tmp_path: Path) -> None:
    notebook = Notebook(tmp_path / "nb.ipynb", flush_interval_s=0.2)
    index = notebook.append_code("chatty()")
    outputs = notebook.cells[index]["outputs"]
    for i in range(1000):  # 1000 output messages arriving over ~0.5 s
        outputs.append({"output_type": "stream", "name": "stdout", "text": f"{i}\n"})
        notebook.changed(index)
        if i % 100 == 0:
            await asyncio.sleep(0.05)
    await notebook.close()
    assert notebook.saves <= 6
    assert len(read_valid_notebook(tmp_path / "nb.ipynb").cells[0].outputs) == 1000


async def test_an_unchanged_cell_is_not_encoded_again(tmp_path: Path) -> None:
    notebook = Notebook(tmp_path / "nb.ipynb")
    first = notebook.append_code("a")
    notebook.changed(first)
    await notebook.save()
    notebook.cells[first]["source"] = "changed behind the notebook's back"
    second = notebook.append_code("b")
    notebook.changed(second)
    await notebook.close()
    assert read_valid_notebook(tmp_path / "nb.ipynb").cells[0].source == "a"


async def test_the_notebook_owns_its_cells_metadata(tmp_path: Path) -> None:
    notebook = Notebook(tmp_path / "nb.ipynb")
    index = notebook.append_code("x = 1", call_id="call-1")
    notebook.started(index, "2026-12-01T00:00:00.000+00:00")
    notebook.set_outputs(index, [{"output_type": "stream", "name": "stdout", "text": "1\n"}], execution_count=1)
    notebook.ended(index, "ok", duration_s=0.5)
    assert cell_meta(notebook.cells[index]) == {"tool_call_id": "call-1", "status": "ok",
                                                "started_at": "2026-12-01T00:00:00.000+00:00", "duration_s": 0.5}  # fmt: skip
    cell_meta(notebook.cells[index])["status"] = "error"  # a reader's copy: the cell does not change
    assert cell_meta(notebook.cells[index])["status"] == "ok"
    notebook.replace_code(index, "x = 2", call_id="call-2")
    assert notebook.cells[index]["outputs"] == [] and cell_meta(notebook.cells[index]) == {"tool_call_id": "call-2", "status": "running", "edited": True}
    notebook.append_code("y = 3")
    assert notebook.interrupt_running("the process died") == [0, 1]
    await notebook.close()
    saved = read_valid_notebook(tmp_path / "nb.ipynb")
    assert [(c.metadata.seer.status, c.metadata.seer.note) for c in saved.cells] == [("interrupted", "the process died")] * 2
