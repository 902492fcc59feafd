"""Run directories for viewer tests, written by Seer's own writers (RunDir, Notebook, Transcript)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from seer.record.transcript import Transcript
from seer.notebook import Notebook
from seer.run import RunDir


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
    transcript.append("model_turn", text="Let me look.", tool_calls=[{"id": "c1", "name": "execute_code", "arguments": {"code": "1 / 0"}}])
    transcript.append("tool_result", call_id="c1", name="execute_code", text="ZeroDivisionError", is_error=True)
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
        transcript.append("tool_result", call_id=f"c{i}", name="execute_code", text=f"{i} {text}", is_error=False)
    return run


def png_of_size(size: int) -> str:
    """A base64 PNG of about `size` bytes (noise does not compress)."""
    import os

    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()
