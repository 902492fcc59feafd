"""OutputCap on its own: head and tail kept, the middle spilled as it arrives, rich outputs past a budget."""

import json
from pathlib import Path

from seer.spill import OutputCap


def joined(outputs: list[dict], name: str) -> str:
    return "".join(o["text"] for o in outputs if o.get("name") == name)


def test_a_long_stream_keeps_head_and_tail_and_the_file_holds_every_character(tmp_path: Path) -> None:
    cap = OutputCap(stream_chars=100, display_bytes=10_000, run_dir=tmp_path, stem="cell-ab")
    outputs: list[dict] = []
    chunks = [f"{i:05d}" * 7 for i in range(1000)]  # 35 characters each
    for chunk in chunks:
        cap.stream(outputs, "stdout", chunk)
    cap.close()
    full = "".join(chunks)
    shown = joined(outputs, "stdout")
    assert shown.startswith(full[:100]) and shown.endswith(full[-100:])
    assert f"[... {len(full) - 200:,} characters of stdout cut here; the whole stdout is in artifacts/outputs/cell-ab-stdout.txt" in shown
    assert len(shown) < 400 and len(outputs) == 2
    assert (tmp_path / "artifacts/outputs/cell-ab-stdout.txt").read_text() == full
    assert cap.files == ["artifacts/outputs/cell-ab-stdout.txt"]


def test_a_stream_within_head_and_tail_is_kept_whole_and_writes_no_file(tmp_path: Path) -> None:
    cap = OutputCap(stream_chars=100, display_bytes=10_000, run_dir=tmp_path)
    outputs: list[dict] = []
    for _ in range(19):
        cap.stream(outputs, "stdout", "0123456789")
    assert joined(outputs, "stdout") == "0123456789" * 19 and cap.files == []


def test_the_tail_follows_interleaved_output_and_without_a_run_folder_the_middle_is_only_counted() -> None:
    cap = OutputCap(stream_chars=10, display_bytes=10_000)
    outputs: list[dict] = []
    cap.stream(outputs, "stdout", "a" * 50)
    cap.stream(outputs, "stderr", "warning\n")
    cap.stream(outputs, "stdout", "b" * 5)
    assert [o["name"] for o in outputs] == ["stdout", "stderr", "stdout"]
    assert outputs[-1]["text"] == "\n[... 35 characters of stdout cut here; it was not kept ...]\naaaaabbbbb"
    assert cap.files == []


def test_clearing_the_outputs_starts_the_budgets_again(tmp_path: Path) -> None:
    cap = OutputCap(stream_chars=10, display_bytes=10_000, run_dir=tmp_path, stem="c")
    outputs: list[dict] = []
    cap.stream(outputs, "stdout", "x" * 100)
    outputs.clear()
    cap.clear()
    cap.stream(outputs, "stdout", "fresh")
    assert outputs == [{"output_type": "stream", "name": "stdout", "text": "fresh"}]


def test_rich_outputs_past_the_budget_go_to_a_file_and_leave_a_line(tmp_path: Path) -> None:
    cap = OutputCap(stream_chars=100, display_bytes=2**20, run_dir=tmp_path, stem="cell-cd")
    small = {"text/plain": "<Figure>", "image/png": "iVBOR" * 100}
    assert cap.fit(small, {"width": 3}, kind="display_data") == (small, {"width": 3})
    huge = {"text/html": "<td>1</td>" * 300_000}
    data, metadata = cap.fit(huge, {}, kind="execute_result")
    cap.close()
    assert metadata == {} and list(data) == ["text/plain"]
    assert "text/html output of 3.0 MB not kept: this cell's rich outputs passed 1 MiB" in data["text/plain"]
    assert "artifacts/outputs/cell-cd-displays.jsonl" in data["text/plain"]
    (line,) = (tmp_path / "artifacts/outputs/cell-cd-displays.jsonl").read_text().splitlines()
    assert json.loads(line) == {"output_type": "execute_result", "data": huge, "metadata": {}}


def test_an_update_is_measured_against_what_it_replaces() -> None:
    cap = OutputCap(stream_chars=100, display_bytes=20_000)
    first = {"text/plain": "x" * 15_000}
    assert cap.fit(first, {}, kind="display_data")[0] is first
    second = {"text/plain": "y" * 15_000}
    assert cap.fit(second, {}, kind="display_data", replacing=first)[0] is second
    assert "dropped" in cap.fit({"text/plain": "z" * 15_000}, {}, kind="display_data")[0]["text/plain"]


def test_a_huge_traceback_is_cut_and_kept_whole_in_a_file(tmp_path: Path) -> None:
    cap = OutputCap(stream_chars=50, display_bytes=10_000, run_dir=tmp_path, stem="e")
    error = {"output_type": "error", "ename": "ValueError", "evalue": "v" * 500, "traceback": ["line"] * 1000}
    kept = cap.error(error)
    assert kept["evalue"] == "v" * 50 + " [...]" and len(kept["traceback"]) == 1
    assert "characters of the traceback cut here; the whole traceback is in artifacts/outputs/e-error.txt" in kept["traceback"][0]
    assert (tmp_path / "artifacts/outputs/e-error.txt").read_text().startswith("ValueError: " + "v" * 500)
    assert cap.error({**error, "evalue": "short", "traceback": ["one"]})["traceback"] == ["one"]
