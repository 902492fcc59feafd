"""`seer gallery` (`make examples`): each task's scripted baseline run offline in a real kernel, judged, and
rendered to one self-contained HTML page with the verdict on top, listed in an index; a baseline that fails
is shown as failed, never dropped, and never stops the gallery."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app
from seer.errors import SeerError
from seer.gallery import build_gallery, render_page
from seer.task import Task

ROOT = Path(__file__).parents[1]
PAPER = "A tiny replication | of nothing (Nobody et al., 2024)"

RUBRIC = f"""summary = "Print a greeting, draw a figure, and hand in the secret."

[replication]
paper = "{PAPER}"
url = "https://example.org/paper"
docs = "docs/replications/tiny.md"

[answer]
secret = {{ type = "string", description = "The secret." }}

[[checks]]
kind = "answer"
field = "secret"
"""

GOOD_PLAN = {"steps": [
    {"tool": "execute_code", "arguments": {"code": "import matplotlib.pyplot as plt\nprint('hello from the gallery')\nplt.plot([0, 1, 4, 9])\nplt.show()"}},
    {"tool": "execute_code", "arguments": {"code": "import json\nprint(json.dumps({'report': 'The secret is x (cell 0).', 'answer': {'secret': 'x'}}))"}},
    {"tool": "finish", "arguments": {"report": "{{last_output.report}}", "answer": "{{last_output.answer}}"}},
]}  # fmt: skip

FAILING_PLAN = {"steps": [
    {"tool": "execute_code", "arguments": {"code": "raise RuntimeError('the baseline broke here')"}},
    {"tool": "finish", "arguments": {"report": "{{last_output}}", "answer": {"secret": "x"}}},
]}  # fmt: skip


def make_task(folder: Path, plan: dict, truth: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "task.md").write_text("Print a greeting, draw a figure, and hand in the secret.\n")
    (folder / "env.toml").write_text(f'name = "{folder.name}"\n\n[timeouts]\ncell_s = 120\n')
    (folder / "rubric.toml").write_text(RUBRIC)
    (folder / "ground_truth.json").write_text(json.dumps(truth or {"secret": "x"}))
    (folder / "baseline.json").write_text(json.dumps(plan))
    return folder


@pytest.mark.timeout(600)  # two real kernels; a loaded machine is slow
def test_a_gallery_renders_each_baseline_with_its_verdict_and_shows_a_failing_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `[replication] docs` is relative to the current folder (the repository root)
    good = make_task(tmp_path / "tasks" / "tiny-replication", GOOD_PLAN)
    broken = make_task(tmp_path / "tasks" / "broken-replication", FAILING_PLAN)
    out = tmp_path / "gallery"
    entries = build_gallery(out, [str(good), str(broken)], tmp_path / "runs", echo=lambda _: None)

    assert [(e["task"], e["outcome"], e["correct"], e["score"]) for e in entries] == [
        ("tiny-replication", "graded", True, 1.0), ("broken-replication", "failed_run", False, 0.0)]  # fmt: skip
    page = (out / "tiny-replication.html").read_text()
    assert "hello from the gallery" in page and "data:image/png;base64," in page
    header = page[page.index('<header class="seer-gallery">') : page.index("</header>")]
    assert "graded · correct · score 1.00" in header and "answer: pass" in header
    assert '<a href="https://example.org/paper">A tiny replication | of nothing' in header
    assert 'href="../docs/replications/tiny.md"' in header and "Seer 0." in header and "offline analogues" in header
    assert "The secret is x (cell 0)." in page  # the report it handed in
    assert "<script" not in page and "https://cdn" not in page and len(page) < 200_000  # self-contained and small

    failed = (out / "broken-replication.html").read_text()
    assert "failed_run" in failed and "step 0 (execute_code) failed" in failed and "the baseline broke here" in failed

    score = json.loads((out / "tiny-replication.score.json").read_text())
    assert (score["outcome"], score["correct"], score["task"]) == ("graded", True, "tiny-replication")
    assert json.loads((out / "broken-replication.score.json").read_text())["outcome"] == "failed_run"

    index = (out / "README.md").read_text()
    assert "make examples" in index and "not results on the papers' models" in index
    row = next(line for line in index.splitlines() if line.startswith("| tiny-replication |"))
    assert "[tiny-replication.html](tiny-replication.html)" in row and "[docs](../docs/replications/tiny.md)" in row
    assert "graded (correct)" in row and "| 1.00 |" in row and "A tiny replication \\| of nothing" in row
    assert re.search(r"\| broken-replication \|.*\| failed_run \| 0\.00 \|", index)


def test_a_run_that_cannot_start_is_a_failed_page_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sandbox(*args: object, **kwargs: object) -> None:
        raise SeerError("the sandbox could not start")

    monkeypatch.setattr("seer.gallery.run_agent", no_sandbox)
    task = make_task(tmp_path / "tiny-replication", GOOD_PLAN)
    (entry,) = build_gallery(tmp_path / "out", [str(task)], echo=lambda _: None)
    assert (entry["outcome"], entry["run"]) == ("failed_run", None)
    assert "the sandbox could not start" in (tmp_path / "out" / "tiny-replication.html").read_text()
    assert json.loads((tmp_path / "out" / "tiny-replication.score.json").read_text())["outcome"] == "failed_run"
    assert "| tiny-replication |" in (tmp_path / "out" / "README.md").read_text()


def test_building_one_page_keeps_the_pages_an_earlier_build_left_in_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sandbox(*args: object, **kwargs: object) -> None:
        raise SeerError("the sandbox could not start")

    monkeypatch.setattr("seer.gallery.run_agent", no_sandbox)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("actadd.html", "actadd.score.json"):  # a packaged replication's page from an earlier `make examples`
        (out / name).write_bytes((ROOT / "docs" / "examples" / name).read_bytes())
    build_gallery(out, [str(make_task(tmp_path / "tiny-replication", GOOD_PLAN))], echo=lambda _: None)
    rows = [line.split(" | ")[0] for line in (out / "README.md").read_text().splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == ["| task", "| actadd", "| tiny-replication"]  # the earlier page stays listed with its recorded score


@pytest.mark.timeout(300)
def test_a_task_with_hidden_variants_is_shown_only_through_its_public_one(tmp_path: Path) -> None:
    """Seed 0 would draw the hidden variant `y`; the gallery runs the public `x`, so the plan's "x" is right."""
    hidden = {"variants": [{"name": "hidden", "secret": "y"}, {"name": "shown", "secret": "z"}]}
    task = make_task(tmp_path / "hidden-only", GOOD_PLAN, hidden)
    with pytest.raises(SeerError, match=r"hidden variants and has no public one.*\"public\": true"):
        build_gallery(tmp_path / "out", [str(task)], echo=lambda _: None)
    public = {"variants": [{"name": "hidden", "secret": "y"}, {"name": "shown", "secret": "x", "public": True}]}
    (entry,) = build_gallery(tmp_path / "out", [str(make_task(tmp_path / "with-public", GOOD_PLAN, public))], tmp_path / "runs", echo=lambda _: None)
    record = json.loads((entry["run"] / "run.json").read_text())
    assert (record["variant"], record["variant_name"], entry["outcome"], entry["correct"]) == (1, "shown", "graded", True)


def test_a_task_without_a_deterministic_check_is_shown_as_needing_the_rubric_judge(tmp_path: Path) -> None:
    task = Task.load(make_task(tmp_path / "tiny-replication", GOOD_PLAN))
    score = {"outcome": "needs_rubric_judge", "detail": "this task has no deterministic check", "correct": None, "score": None}
    page = render_page(task, None, score, out=tmp_path, made="2026-01-01")
    assert "needs_rubric_judge: this task has no deterministic check" in page and "The run left no notebook." in page


def test_the_command_explains_itself_refuses_an_unknown_task_and_make_examples_calls_it() -> None:
    result = CliRunner().invoke(app, ["gallery", "--help"])
    assert result.exit_code == 0 and "--out" in result.output and "--task" in result.output
    unknown = CliRunner().invoke(app, ["gallery", "--task", "no-such-task-anywhere", "--out", "unused"])
    assert unknown.exit_code != 0 and "no-such-task-anywhere" in unknown.output
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^examples: \$\(BIN\)/\.installed\n\t\$\(BIN\)/seer gallery --out docs/examples$", makefile, re.M)
    assert re.search(r"^\.PHONY:.*\bexamples\b", makefile, re.M)
