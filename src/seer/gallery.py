"""The example gallery (`seer gallery`, `make examples`): each chosen task's scripted baseline run offline,
judged, and its notebook rendered to one self-contained HTML page, with an index.

By default the gallery holds every packaged task whose rubric has a `[replication]` table and that ships
a `baseline.json`:

```toml
[replication]
paper = "Refusal in language models is mediated by a single direction (Arditi et al., 2024)"
url = "https://arxiv.org/abs/2406.11717"
docs = "docs/replications/refusal-ablation.md"   # relative to the repository root (where `make examples` runs)
```

Each run uses seed 0 and is judged by the deterministic checks alone (no LLM). A task whose answer is drawn
from hidden variants is shown only through its public variant (`"public": true` in `ground_truth.json`,
never drawn for an evaluated agent), so no page publishes an answer a run may be graded on. A run that
fails is shown with its outcome and reason; it never stops the gallery. `out/` receives `<task>.html`,
`<task>.score.json` and `README.md` (the index).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.errors import MissingExtra, SeerError
from seer.judge import SCORE_FORMAT, judge_run, write_score
from seer.run import new_run_id, now_iso
from seer.task import Task, find_task, packaged_tasks
from seer.version import __version__

__all__ = ["MAX_OUTPUT_CHARS", "build_gallery", "gallery_tasks", "render_page", "run_baseline"]

SEED = 0
MAX_OUTPUT_CHARS = 20_000
"""Text kept of one output (a stream, a result) on a page; the rest is cut with a note."""

_WIDGET_MIME = "application/vnd.jupyter.widget"
_HOW = ("Made by `make examples` (`seer gallery`): each task's scripted baseline, run offline (seed 0) on packaged "
        "small models and graded by the task's deterministic checks. These are offline analogues of the papers' "
        "experiments, not results on the papers' models.")  # fmt: skip
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 1em; color: #1b1b1b; }
header.seer-gallery { border: 1px solid #ccc; border-radius: 6px; padding: 0.5em 1.2em; margin-bottom: 1.5em; background: #f7f7f9; }
header.seer-gallery h1 { margin: 0.3em 0; font-size: 1.6em; }
.outcome-graded { color: #1a7f37; } .outcome-other { color: #b35900; } .fail { color: #c62828; } .pass { color: #1a7f37; }
.note { color: #555; font-size: 0.9em; }
.cell { margin: 0.8em 0; } .input_prompt, .prompt { display: none; }
.input_area { background: #f5f5f5; border: 1px solid #e0e0e0; border-radius: 4px; padding: 0 0.6em; overflow-x: auto; }
.output_area pre, .input_area pre { margin: 0.4em 0; white-space: pre-wrap; word-break: break-word; }
.output_area { padding: 0 0.6em; } .output_stderr { background: #fff5f5; } .output_error pre { background: #fff0f0; }
.output_area img { max-width: 100%; }
.report pre { white-space: pre-wrap; background: #f7f7f9; border: 1px solid #ddd; border-radius: 4px; padding: 0.6em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 0.2em 0.5em; }
"""


def gallery_tasks(names: list[str] | None = None) -> list[Task]:
    """The tasks a gallery shows: `names` (packaged task names or task folders), or every packaged task with
    `[replication]` in its rubric and a baseline whose page can name no hidden answer (`_publishable`).

    Raises:
        SeerError: A name is not a task, a named task has no baseline, or its page would publish a hidden answer.
    """
    if not names:
        return [t for t in packaged_tasks().values() if "replication" in t.rubric and t.baseline is not None and _publishable(t)]
    chosen = []
    for name in names:
        task = find_task(name)
        if task is None:
            raise SeerError(f"{name!r} is neither a packaged task (`seer tasks`) nor a task folder")
        if task.baseline is None:
            raise SeerError(f"task {task.name!r} has no baseline.json: the gallery shows scripted baselines")
        if not _publishable(task):
            raise SeerError(f"task {task.name!r} draws its answer from hidden variants and has no public one, so its page would "
                            'publish an answer an agent may be graded on; add a variant with "public": true to its ground_truth.json')  # fmt: skip
        chosen.append(task)
    return chosen


def _publishable(task: Task) -> bool:
    """Whether `task`'s example run can be published: it has no hidden variants, or it has a public one to run."""
    return not task.variants or task.public_variant is not None


async def run_baseline(task: Task, runs_dir: Path, *, seed: int = SEED) -> tuple[Path | None, dict[str, Any]]:
    """Run `task`'s baseline offline (its public variant, if it has one) and judge it by its deterministic checks;
    returns the run directory (None if none was made) and the score. Whatever breaks becomes a `failed_run` score, never an exception."""
    if task.baseline is None:
        raise SeerError(f"task {task.name!r} has no baseline.json")
    run = runs_dir / new_run_id(task.name)
    budget = Budget(turns=200, cost_usd=None, wall_s=3600)
    try:
        provider = ScriptedProvider.from_file(task.baseline)
        async with aclosing(provider):
            public = task.variants[task.public_variant]["name"] if task.public_variant is not None else None
            run, _ = await run_agent(task.environment, task.agent_prompt, provider, budget=budget, runs_dir=runs_dir,
                                     task_dir=task.path, run_id=run.name, seed=seed, variant=public)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - one broken run is shown on its page, not raised
        return _failed(task, run, f"the run broke: {type(exc).__name__}: {exc}")
    try:
        return run, await judge_run(run, task=task)
    except Exception as exc:  # noqa: BLE001
        return _failed(task, run, f"the judge could not grade the run: {type(exc).__name__}: {exc}")


def _failed(task: Task, run: Path, detail: str) -> tuple[Path | None, dict[str, Any]]:
    score = {"task": task.name, "outcome": "failed_run", "detail": detail, "correct": False, "score": 0.0}
    if (run / "run.json").is_file():
        return run, write_score(run, score)
    return None, {"format": SCORE_FORMAT, "run": None, "judged_at": now_iso(), **score}


def build_gallery(
    out: Path, tasks: list[str] | None = None, runs_dir: Path | None = None, *, echo: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """Run, judge and render each gallery task (`gallery_tasks(tasks)`) into `out`, then write its index
    `out/README.md`; returns one entry per task (its outcome, score, files, and run directory). Runs go to
    `runs_dir`, or to a temporary folder removed afterwards (then `run` is None).

    Raises:
        SeerError: A named task is missing or has no baseline, or nbconvert is not installed (checked
            before anything runs).
    """
    if importlib.util.find_spec("nbconvert") is None:
        raise MissingExtra("nbconvert", "the example gallery", "gallery")
    chosen = gallery_tasks(tasks)
    out.mkdir(parents=True, exist_ok=True)
    made = datetime.now(UTC).strftime("%Y-%m-%d")
    entries = []
    with tempfile.TemporaryDirectory(prefix="seer-gallery-") as scratch:
        runs = Path(runs_dir) if runs_dir is not None else Path(scratch)
        runs.mkdir(parents=True, exist_ok=True)
        for index, task in enumerate(chosen, 1):
            echo(f"[{index}/{len(chosen)}] {task.name}: running its scripted baseline offline (seed {SEED})…")
            run, score = anyio.run(run_baseline, task, runs)
            page, score_file = out / f"{task.name}.html", out / f"{task.name}.score.json"
            page.write_text(render_page(task, run, score, out=out, made=made))
            if run is not None and (run / "score.json").is_file():
                shutil.copyfile(run / "score.json", score_file)
            else:
                score_file.write_text(json.dumps(score, indent=2))
            entries.append(_entry(task, score, out, run if runs_dir is not None else None))
            echo(f"    {_verdict(score)} -> {page}")
    (out / "README.md").write_text(_index(_with_earlier_pages(entries, out), made))
    return entries


def _entry(task: Task, score: dict[str, Any], out: Path, run: Path | None) -> dict[str, Any]:
    """One index row: the task's paper and docs, its score, its page in `out`."""
    replication = _replication(task)
    return {"task": task.name, "paper": replication.get("paper"), "url": replication.get("url"),
            "docs": _docs_link(replication.get("docs"), out), "outcome": score["outcome"], "correct": score.get("correct"),
            "score": score.get("score"), "detail": score.get("detail"), "page": out / f"{task.name}.html",
            "score_file": out / f"{task.name}.score.json", "run": run}  # fmt: skip


def _with_earlier_pages(entries: list[dict[str, Any]], out: Path) -> list[dict[str, Any]]:
    """`entries` plus the default gallery's tasks already rendered in `out` by an earlier build (page and score
    file present), in the default order: `seer gallery --task NAME` updates one page and keeps the others listed."""
    built = {entry["task"]: entry for entry in entries}
    for task in gallery_tasks():
        page, score_file = out / f"{task.name}.html", out / f"{task.name}.score.json"
        if task.name not in built and page.is_file() and score_file.is_file():
            built[task.name] = _entry(task, json.loads(score_file.read_text()), out, None)
    order = [task.name for task in gallery_tasks()]
    return sorted(built.values(), key=lambda e: order.index(e["task"]) if e["task"] in order else len(order))


def render_page(task: Task, run: Path | None, score: dict[str, Any], *, out: Path, made: str) -> str:
    """One self-contained HTML page: the header (task, paper, the judge's verdict, how it was made) above the
    run's notebook (its images embedded) and the report it handed in."""
    from pygments.formatters import HtmlFormatter

    notebook = run / "notebook.ipynb" if run is not None else None
    if notebook is not None and notebook.is_file():
        try:
            body = _notebook_html(notebook)
        except Exception as exc:  # noqa: BLE001 - the page still shows the verdict
            body = f"<p><em>The notebook could not be rendered: {html.escape(f'{type(exc).__name__}: {exc}')}</em></p>"
    else:
        body = "<p><em>The run left no notebook.</em></p>"
    if run is not None and (run / "report.md").is_file():
        report = html.escape(_cut((run / "report.md").read_text()))
        body += f'\n<section class="report">\n<h2>The report it handed in</h2>\n<pre>{report}</pre>\n</section>'
    style = _CSS + HtmlFormatter().get_style_defs(".highlight")
    head = f'<meta charset="utf-8">\n<title>{html.escape(task.name)} · Seer example</title>\n<style>{style}</style>'
    header = _header(task, score, out=out, made=made) + _charts(run, score)
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n{header}\n<main>\n{body}\n</main>\n</body>\n</html>\n'


def _header(task: Task, score: dict[str, Any], *, out: Path, made: str) -> str:
    replication = _replication(task)
    e = html.escape
    lines = [f"<h1>{e(task.name)}</h1>", f"<p>{e(task.summary)}</p>"]
    if replication.get("paper"):
        paper = e(replication["paper"])
        linked = f'<a href="{e(replication["url"])}">{paper}</a>' if replication.get("url") else paper
        lines.append(f"<p><strong>Replicates:</strong> {linked}</p>")
    kind = "outcome-graded" if score["outcome"] == "graded" else "outcome-other"
    lines.append(f'<p><strong>Judge:</strong> <span class="{kind}">{e(_verdict(score))}</span></p>')
    items = []
    for check in score.get("checks") or []:
        verdict = "pass" if check.get("passed") else "fail"
        items.append(f'<li><span class="{verdict}">{e(str(check.get("kind")))}: {verdict.upper() if verdict == "fail" else verdict}</span>'
                     f" · {e(str(check.get('detail', '')))}</li>")  # fmt: skip
    if items:
        lines.append(f"<ul>{''.join(items)}</ul>")
    if docs := _docs_link(replication.get("docs"), out):
        lines.append(f'<p><strong>Docs:</strong> <a href="{e(docs)}">{e(replication["docs"])}</a></p>')
    how = re.sub(r"`([^`]+)`", r"<code>\1</code>", e(_HOW))
    lines.append(f'<p class="note">{how} Generated on {made} with Seer {__version__}.</p>')
    return '<header class="seer-gallery">\n' + "\n".join(lines) + "\n</header>"


def _charts(run: Path | None, score: dict[str, Any]) -> str:
    """The figures the judge drew from its own measurements (`<run>/judge/*.png`), embedded."""
    images = []
    for check in score.get("checks") or []:
        chart = (check.get("figures") or {}).get("chart")
        if run is not None and chart and (run / chart).is_file():
            data = base64.b64encode((run / chart).read_bytes()).decode()
            images.append(f'<figure><img alt="{html.escape(chart)}" src="data:image/png;base64,{data}">'
                          f"<figcaption>Recomputed by the judge ({html.escape(str(check.get('kind')))})</figcaption></figure>")  # fmt: skip
    return "\n".join(images)


def _replication(task: Task) -> dict[str, Any]:
    """The rubric's `[replication]` table (empty when it has none)."""
    table = task.rubric.get("replication")
    return table if isinstance(table, dict) else {}


def _verdict(score: dict[str, Any]) -> str:
    """`graded · correct · score 1.00`, or the outcome with its reason."""
    parts = [score["outcome"]]
    if score.get("correct") is not None and score["outcome"] == "graded":
        parts.append("correct" if score["correct"] else "wrong")
    if score.get("score") is not None:
        parts.append(f"score {score['score']:.2f}")
    return " · ".join(parts) + (f": {score['detail']}" if score.get("detail") else "")


def _notebook_html(path: Path) -> str:
    """The notebook's cells as HTML (nbconvert's basic template, images embedded), widget state stripped and
    long outputs cut."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _cut(output["text"])
            data = output.get("data")
            if data is not None:
                for mime in [m for m in data if m.startswith(_WIDGET_MIME)]:
                    del data[mime]
                if "text/html" in data and len(data["text/html"]) > MAX_OUTPUT_CHARS:
                    del data["text/html"]
                for mime in ("text/plain", "text/markdown"):
                    if mime in data:
                        data[mime] = _cut(data[mime])
                if not data:
                    continue
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept
    body, _ = HTMLExporter(template_name="basic", embed_images=True).from_notebook_node(notebook)
    return body


def _cut(text: str | list[str]) -> str:
    text = "".join(text) if isinstance(text, list) else text
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n… [{len(text) - MAX_OUTPUT_CHARS} more characters cut from this page]\n"


def _docs_link(docs: str | None, out: Path) -> str | None:
    """The docs page as a link from `out/` (a path in `[replication] docs` is relative to the current folder, the repository root)."""
    if not docs:
        return None
    if docs.startswith(("http://", "https://")):
        return docs
    return Path(os.path.relpath(Path(docs).resolve(), out.resolve())).as_posix()


def _index(entries: list[dict[str, Any]], made: str) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["# Examples: what Seer can do", "", f"{_HOW} Generated on {made} with Seer {__version__}.", ""]
    if not entries:
        return "\n".join([*lines, "No task is in the gallery yet.", ""])
    lines += ["| task | paper | outcome | score | notebook | docs |", "|---|---|---|---|---|---|"]
    for entry in entries:
        paper = cell(entry["paper"] or "—")
        if entry["url"]:
            paper = f"[{paper}]({entry['url']})"
        outcome = entry["outcome"]
        if outcome == "graded" and entry["correct"] is not None:
            outcome += " (correct)" if entry["correct"] else " (wrong)"
        score = f"{entry['score']:.2f}" if entry["score"] is not None else "—"
        page = entry["page"].name
        docs = f"[docs]({entry['docs']})" if entry["docs"] else "—"
        lines.append(f"| {cell(entry['task'])} | {paper} | {outcome} | {score} | [{page}]({page}) | {docs} |")
    return "\n".join([*lines, ""])
