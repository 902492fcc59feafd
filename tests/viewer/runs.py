"""Run directories for viewer tests, written by Seer's own writers (RunDir, Notebook, Transcript)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from seer.notebook import Notebook
from seer.record.transcript import Transcript
from seer.run import RunDir

SPENT = {"turns": 1, "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0,
         "tokens": 0, "cost_usd": 0.0, "cost_known": True, "wall_s": 0.0}  # fmt: skip


def model_turn(text: str, tool_calls: list[dict[str, object]] | None = None, turn: int = 1) -> dict[str, object]:
    """A `model_turn` event's fields, as the loop writes them."""
    return {"turn": turn, "text": text, "tool_calls": tool_calls or [], "usage": {}, "cost_usd": 0.0, "duration_s": 0.0,
            "stop_reason": "tool_use" if tool_calls else "end_turn", "spent": SPENT}  # fmt: skip


def tool_result(call_id: str, text: str, *, is_error: bool = False) -> dict[str, object]:
    """A `tool_result` event's fields (an `execute_code` call), as the loop writes them."""
    return {"call_id": call_id, "name": "execute_code", "text": text, "images": [], "is_error": is_error, "duration_s": 0.0}


def png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


async def make_run(runs_dir: Path, *, task: str = "Find the hidden preference.") -> tuple[RunDir, Notebook, Transcript]:
    """A finished-looking run: a printing cell, a figure, an error, a note, and a short transcript."""
    run = RunDir.create(runs_dir, "viewer", {"environment": {"name": "viewer"}, "setup": []})
    run.update_record(status="running", task=task, agent={"provider": "scripted", "model": "plan"}, pid=None,
                      budget={"turns": 10, "tokens": None, "cost_usd": None, "wall_s": None})  # fmt: skip
    notebook = Notebook(run.notebook_path, flush_interval_s=0.05)
    outputs = [
        [{"output_type": "stream", "name": "stdout", "text": "hello from the kernel\n"}],
        [{"output_type": "display_data", "metadata": {}, "data": {"image/png": png(), "text/plain": "<Figure>"}}],
        [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
          "traceback": ["\x1b[31mZeroDivisionError\x1b[0m: division by zero"]}],
    ]  # fmt: skip
    for source, cell_outputs in zip(("print('hello from the kernel')", "plt.show()", "1 / 0"), outputs, strict=True):
        index = notebook.append_code(source, status="error" if "error" in str(cell_outputs) else "ok")
        notebook.cells[index]["outputs"] = cell_outputs
    notebook.insert_markdown("A note on what we saw.")
    await notebook.save()
    transcript = Transcript(run.path)
    transcript.append("user", text=task, source="task")
    transcript.append("model_turn", **model_turn("Let me look.", [{"id": "c1", "name": "execute_code", "arguments": {"code": "1 / 0"}}]))
    transcript.append("tool_result", **tool_result("c1", "ZeroDivisionError", is_error=True))
    return run, notebook, transcript


async def make_large_run(runs_dir: Path, *, cells: int = 500, transcript_mb: float = 20.0) -> RunDir:
    """A big finished run: `cells` code cells (every fifth with a figure) and a transcript of about `transcript_mb`."""
    run = RunDir.create(runs_dir, "large", {"environment": {"name": "large"}, "setup": []})
    run.update_record(status="finished", task="A long investigation.", agent={"provider": "scripted", "model": "plan"})
    notebook = Notebook(run.notebook_path)
    figure = png_of_size(30_000)
    for i in range(cells):
        index = notebook.append_code(f"result_{i} = sum(range({i}))\nprint(result_{i})", status="ok")
        outputs: list[dict] = [{"output_type": "stream", "name": "stdout", "text": f"{i * (i - 1) // 2}\n" * 20}]
        if i % 5 == 0:
            outputs.append({"output_type": "display_data", "metadata": {}, "data": {"image/png": figure}})
        notebook.cells[index]["outputs"] = outputs
    await notebook.save()
    transcript = Transcript(run.path)
    text = "x" * 20_000
    for i in range(int(transcript_mb * 1e6 / 20_100)):
        transcript.append("tool_result", **tool_result(f"c{i}", f"{i} {text}"))
    return run


def png_of_size(size: int) -> str:
    """A base64 PNG of about `size` bytes (noise does not compress)."""
    import os

    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()
