"""`seer mcp` over stdio, driven by the MCP SDK's real client: results, faults, and a SIGKILL."""

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import anyio
import nbformat
import pytest

from tests.helpers import cell_text, images_of, only_run, read_valid_notebook, stdio_seer, text_of

pytestmark = pytest.mark.anyio

PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1, 4, 9])\nplt.show()"


async def test_tools_are_listed_with_their_schemas(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) >= {
        "execute_code", "edit_cell", "add_markdown", "read_notebook", "interrupt_kernel",
        "restart_kernel", "list_skills", "read_skill", "finish",
    }  # fmt: skip
    assert listed["execute_code"].input_schema["required"] == ["code"]


async def test_state_stdout_results_errors_and_a_png_come_back(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path) as client:
        with anyio.fail_after(60):
            await client.call_tool("execute_code", {"code": "x = 21"})
            printed = await client.call_tool("execute_code", {"code": "print('double', x * 2)\nx * 3"})
            failed = await client.call_tool("execute_code", {"code": "1 / 0"})
            plotted = await client.call_tool("execute_code", {"code": PLOT})
    assert text_of(printed).endswith("double 42\n63\n") and not printed.is_error
    assert failed.is_error and "ZeroDivisionError" in text_of(failed) and "\x1b[" not in text_of(failed)
    (png,) = images_of(plotted)
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    notebook = read_valid_notebook(only_run(tmp_path) / "notebook.ipynb")
    assert [c.execution_count for c in notebook.cells] == [1, 2, 3, 4]
    assert notebook.cells[3].outputs[0].data["image/png"]


async def test_each_fault_gets_a_clear_result_and_the_notebook_keeps_everything(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path) as client:
        with anyio.fail_after(90):
            died = await client.call_tool("execute_code", {"code": "print('bye', flush=True)\nimport os, time\ntime.sleep(0.3)\nos._exit(1)"})
            slept = await client.call_tool(
                "execute_code", {"code": "import time\nprint('start', flush=True)\ntime.sleep(30)", "timeout_s": 1}
            )
            huge = await client.call_tool("execute_code", {"code": "print('x' * 10_000_000)"})
            many = await client.call_tool(
                "execute_code",
                {"code": "import matplotlib.pyplot as plt\nfor i in range(30):\n    plt.plot([0, i])\n    plt.show()"},
            )
            wrong_type = await client.call_tool("execute_code", {"code": 123})
            no_cell = await client.call_tool("edit_cell", {"index": 99, "source": "1"})
            negative = await client.call_tool("edit_cell", {"index": -1, "source": "1"})
            alive = await client.call_tool("execute_code", {"code": "print('still here')"})
    assert died.is_error and "kernel process died" in text_of(died) and "restarted" in text_of(died)
    assert slept.is_error and "timeout" in text_of(slept) and "start" in text_of(slept)
    assert len(text_of(huge)) < 25_000 and "characters elided; the full output is in cell 2" in text_of(huge)
    assert len(images_of(many)) == 8 and "22 more image(s) not shown; all are in cell 3" in text_of(many)
    assert wrong_type.is_error and "argument 'code': Input should be a valid string" in text_of(wrong_type)
    assert no_cell.is_error and "there is no cell 99; cells are numbered 0 to 3" in text_of(no_cell)
    assert negative.is_error and "there is no cell -1" in text_of(negative)
    assert text_of(alive).endswith("still here\n")

    notebook = read_valid_notebook(only_run(tmp_path) / "notebook.ipynb")
    assert len(notebook.cells) == 5
    assert [c.metadata.seer.status for c in notebook.cells] == ["died", "timeout", "ok", "ok", "ok"]
    assert cell_text(notebook.cells[0]) == "bye\n"
    assert cell_text(notebook.cells[1]) == "start\n"
    assert len(cell_text(notebook.cells[2])) < 200_000  # head and tail kept; the whole stream is spilled
    (spilled,) = (only_run(tmp_path) / "artifacts" / "outputs").glob("*-stdout.txt")
    assert spilled.stat().st_size == 10_000_001
    assert sum("image/png" in o.get("data", {}) for o in notebook.cells[3].outputs) == 30


async def test_sigkill_during_a_chatty_cell_leaves_a_valid_notebook(tmp_path: Path) -> None:
    chatty = "import time\nfor i in range(400):\n    print('line', i, flush=True)\n    time.sleep(0.01)"
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(stdio_seer(tmp_path))
        await client.call_tool("execute_code", {"code": "print('first cell')"})
        run = only_run(tmp_path)
        record = json.loads((run / "run.json").read_text())
        call = asyncio.ensure_future(client.call_tool("execute_code", {"code": chatty}))
        with anyio.fail_after(20):
            while "line 20" not in (run / "notebook.ipynb").read_text():
                await anyio.sleep(0.05)
        os.kill(record["pid"], signal.SIGKILL)
        call.cancel()
        stack.push_async_callback(_kill_quietly, record["kernel_pid"])
        stack.pop_all()  # the server is gone; don't wait for a clean MCP shutdown
    await _kill_quietly(record["kernel_pid"])
    notebook = read_valid_notebook(run / "notebook.ipynb")
    assert cell_text(notebook.cells[0]) == "first cell\n"
    assert notebook.cells[1].source == chatty
    assert cell_text(notebook.cells[1]).startswith("line 0\nline 1\n")
    assert nbformat.validate(notebook) is None


async def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def test_print_config_gives_a_snippet_for_claude_code(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "mcp", "--print-config", "--runs-dir", str(tmp_path), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    entry = json.loads(out)["mcpServers"]["seer"]
    assert entry["args"][-3:] == ["mcp", "--runs-dir", str(tmp_path.resolve())]


async def test_a_session_that_cannot_start_answers_every_call_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    async with stdio_seer(blocker / "runs") as client:
        with anyio.fail_after(30):
            result = await client.call_tool("execute_code", {"code": "1"})
            again = await client.call_tool("read_notebook", {})
    assert result.is_error and "cannot create a run directory" in text_of(result)
    assert again.is_error and "pass a writable folder" in text_of(again)


async def test_a_client_that_leaves_before_the_kernel_is_up_leaves_a_closed_run(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path):
        pass  # initialize, then gone: the session is still starting in the background
    with anyio.fail_after(60):
        while not list(tmp_path.glob("*/run.json")) or json.loads(only_run(tmp_path).joinpath("run.json").read_text())["status"] in ("starting", "running"):
            await anyio.sleep(0.1)
    record = json.loads((only_run(tmp_path) / "run.json").read_text())
    assert record["status"] == "closed" and "error" not in record


async def test_a_long_cell_reports_its_progress_to_the_client(tmp_path: Path) -> None:
    """A 10 s cell that prints once a second: the client hears how long it has run and what it printed last."""
    heard: list[tuple[float, str]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        heard.append((done, message or ""))

    code = "import time\nfor i in range(10):\n    print('step', i, flush=True)\n    time.sleep(1)"
    async with stdio_seer(tmp_path) as client:
        with anyio.fail_after(120):
            result = await client.call_tool("execute_code", {"code": code}, progress_callback=on_progress)
    assert text_of(result).endswith("step 9\n")
    assert len(heard) >= 3, heard  # about nine; fewer only on a machine too busy to tick
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    assert all(message.startswith("running for ") for _, message in heard)
    assert any(": step " in message for _, message in heard), heard
