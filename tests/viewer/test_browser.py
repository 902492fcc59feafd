"""The viewer in real headless Chromium (Debian's, driven by Selenium through Debian's chromedriver)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import anyio
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.viewer.browser import chrome, first_render, viewer_in_thread, wait
from tests.viewer.runs import make_large_run, make_run, model_turn

CLICK_STOP = "const stop = document.querySelector('.summary button.stop'); if (stop) stop.click(); return !!stop;"


def status(driver: webdriver.Chrome) -> str | None:
    """The run page's status, read in one script (the summary is redrawn on every update: a held element goes stale)."""
    return driver.execute_script("return document.querySelector('.summary .status')?.textContent")


def launch_from_form(
    browser: webdriver.Chrome, url: str, folder: Path, task: str, steps: list[dict], fill: Callable[[webdriver.Chrome], None]
) -> str:
    """Launch a scripted run of `steps` from the page's form (`fill` sets the rest); its id once it is listed."""
    plan = folder / "plan.json"
    plan.write_text(json.dumps(steps))
    browser.get(f"{url}launch")
    wait(browser, lambda d: d.find_elements(By.ID, "plan"))
    browser.find_element(By.ID, "task").send_keys(task)
    browser.find_element(By.ID, "plan").send_keys(str(plan))
    fill(browser)
    browser.find_element(By.CSS_SELECTOR, "form.launch button[type=submit]").click()
    listed = f"return [...document.querySelectorAll('tr[data-run]')].filter(r => r.textContent.includes({json.dumps(task)})).map(r => r.dataset.run)"
    return wait(browser, lambda d: d.execute_script(listed), 60)[0]  # rows are redrawn live: read, don't hold them


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(browser: webdriver.Chrome, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The viewer over `tmp_path`, opened once by its printed URL (as a researcher would); yields its base URL."""
    with viewer_in_thread(tmp_path) as printed:
        browser.get(printed)
        base = printed.split("?")[0]
        wait(browser, lambda d: d.current_url == base)  # the secret moved into a cookie, out of the address bar
        yield base, tmp_path


def test_the_pages_show_runs_cells_images_errors_and_live_updates(browser: webdriver.Chrome, served: tuple[str, Path]) -> None:
    url, runs_dir = served
    run, notebook, transcript = anyio.run(make_run, runs_dir)
    browser.get(url)
    row = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-run="{run.id}"]'))[0]
    assert "Find the hidden preference." in row.text and "scripted · plan" in row.text

    browser.get(f"{url}run/{run.id}")
    cells = wait(browser, lambda d: [c for c in d.find_elements(By.CSS_SELECTOR, ".cell") if c.get_attribute("data-loaded") == "1"])
    assert len(cells) == 4 and "hello from the kernel" in cells[0].text
    image = browser.find_element(By.CSS_SELECTOR, ".cell img")
    wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 40)
    assert "ZeroDivisionError: division by zero" in browser.find_element(By.CSS_SELECTOR, "pre.error").text
    assert browser.find_element(By.CSS_SELECTOR, ".cell.active").get_attribute("data-index") == "3"
    wait(browser, lambda d: "Let me look." in d.find_element(By.CSS_SELECTOR, ".events").text)

    async def append() -> None:
        notebook.append_code("print('appended by the test')")
        await notebook.save()
        transcript.append("model_turn", **model_turn("Trying one more thing.", turn=2))

    began = time.monotonic()
    anyio.run(append)
    newest = wait(browser, lambda d: [c for c in d.find_elements(By.CSS_SELECTOR, ".cell.active") if "appended by the test" in c.text])[0]
    wait(browser, lambda d: "Trying one more thing." in d.find_element(By.CSS_SELECTOR, ".events").text)
    assert time.monotonic() - began < 2
    assert newest.get_attribute("data-index") == "4" and "running" in newest.get_attribute("class")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".cell.active")) == 1


def test_an_audits_conversation_shows_as_a_chat_beside_the_notebook(browser: webdriver.Chrome, served: tuple[str, Path]) -> None:
    from seer.run import atomic_write

    url, runs_dir = served
    run, _, _ = anyio.run(make_run, runs_dir)
    audit = {"format": "seer.audit/1", "target": "local", "system": "You are an assistant.", "ended": False, "interventions": [],
             "tools": [{"name": "send_email", "description": "Send an email.", "parameters": {"type": "object", "properties": {}}}],
             "rolled_back": [{"reason": "rolled back to message -1", "messages": [{"role": "user", "content": "First try."},
                                                                                 {"role": "assistant", "content": "No.", "tool_calls": []}]}],
             "messages": [{"role": "user", "content": "<img src=x onerror=alert(1)> hello"},
                          {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "name": "send_email", "arguments": {"to": "a@b.c"}}]}],
             "target_calls": 2}  # fmt: skip
    atomic_write(run.path / "conversation.json", json.dumps(audit))
    browser.get(f"{url}run/{run.id}")
    labels = "return [...document.querySelectorAll('.chat .msg[data-label]')].map(m => m.dataset.label)"
    assert wait(browser, lambda d: d.execute_script(labels)) == ["system", "b1.0", "b1.1", "0", "1"]
    chat = browser.find_element(By.CSS_SELECTOR, ".chat")
    assert "Conversation with the target: 2 replies" in chat.text and "the target's tool send_email" in chat.text
    assert 'calls send_email {"to":"a@b.c"}  [call_1]' in chat.text
    assert "<img src=x onerror=alert(1)> hello" in chat.text and not chat.find_elements(By.TAG_NAME, "img")  # text, never markup
    wait(browser, lambda d: [c for c in d.find_elements(By.CSS_SELECTOR, ".cell") if c.get_attribute("data-loaded") == "1"])  # the notebook beside it
    audit["messages"].append({"role": "tool", "tool_call_id": "call_1", "content": "Sent."})
    atomic_write(run.path / "conversation.json", json.dumps(audit))
    assert wait(browser, lambda d: d.execute_script(labels)[-1] == "2" and d.execute_script(labels))[-1] == "2"  # live


def test_a_shell_mode_runs_log_shows_beside_the_notebook_and_grows_live(browser: webdriver.Chrome, served: tuple[str, Path]) -> None:
    url, runs_dir = served
    run, _, _ = anyio.run(make_run, runs_dir)
    (run.path / "shell.log").write_text("### 2026-12-01T00:00:00Z $ echo <b>hi</b>\nexit code 0\n<b>hi</b>\n\n")
    browser.get(f"{url}run/{run.id}")
    shown = "return document.querySelector('details.shell pre')?.textContent || ''"
    assert "$ echo <b>hi</b>" in wait(browser, lambda d: d.execute_script(shown))
    assert not browser.find_elements(By.CSS_SELECTOR, "details.shell b")  # text, never markup
    with (run.path / "shell.log").open("a") as log:
        log.write("### 2026-12-01T00:00:01Z $ ls\nexit code 0\n\n")
    wait(browser, lambda d: "$ ls" in d.execute_script(shown))


def test_a_budget_stopped_run_continues_from_its_page_with_more_budget(browser: webdriver.Chrome, served: tuple[str, Path], tmp_path: Path) -> None:
    import subprocess
    import sys

    url, runs_dir = served
    steps = [{"tool": "execute_code", "arguments": {"code": "x = 41"}}, {"tool": "execute_code", "arguments": {"code": "print(x + 1)"}},
             {"tool": "finish", "arguments": {"report": "42 (cell 1)"}}]  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(steps))
    subprocess.run([sys.executable, "-m", "seer", "run", "--task", "Add one.", "--provider", "scripted", "--plan", str(tmp_path / "plan.json"),
                    "--max-turns", "1", "--runs-dir", str(runs_dir), "--run-id", "short"], check=True, capture_output=True, timeout=300)  # fmt: skip
    browser.get(f"{url}run/short")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".summary button.continue"))
    browser.execute_script("const t = document.querySelector('.summary input[name=max_turns]'); t.value = '10';"
                           "document.querySelector('.summary button.continue').click()")  # the summary redraws: act in one script
    wait(browser, lambda d: (status(d) or "") == "finished", 120)
    record = json.loads((runs_dir / "short" / "run.json").read_text())
    assert record["budget"]["turns"] == 10 and record["report"] == "42 (cell 1)"


def test_a_run_page_links_its_parent_and_its_forks(browser: webdriver.Chrome, served: tuple[str, Path]) -> None:
    url, runs_dir = served
    parent, _, _ = anyio.run(make_run, runs_dir)
    child, _, _ = anyio.run(make_run, runs_dir)
    child.update_record(parent={"run": parent.id, "path": str(parent.path), "at_turn": 2})
    lineage = "return document.querySelector('.summary .lineage')?.textContent || ''"
    browser.get(f"{url}run/{parent.id}")
    assert wait(browser, lambda d: d.execute_script(lineage)) == f" · fork at turn 2: {child.id}"
    browser.find_element(By.CSS_SELECTOR, ".summary .lineage a").click()
    wait(browser, lambda d: d.current_url.endswith(f"/run/{child.id}"))
    assert wait(browser, lambda d: d.execute_script(lineage)) == f"forked from {parent.id} at turn 2"


@pytest.mark.timeout(300)
def test_a_500_cell_run_renders_without_loading_everything(browser: webdriver.Chrome, served: tuple[str, Path]) -> None:
    url, runs_dir = served
    run = anyio.run(make_large_run, runs_dir)
    stored = (run.path / "notebook.ipynb").stat().st_size + (run.path / "transcript.jsonl").stat().st_size
    figures = first_render(browser, f"{url}run/{run.id}")
    print(f"500 cells, {stored / 1e6:.1f} MB on disk: first render {figures['first_render_ms']} ms, "
          f"{figures['bytes'] / 1e6:.2f} MB in {figures['requests']} requests")
    assert figures["bytes"] < stored / 10  # only the cells in view, their figures and the newest events
    loaded = [c for c in browser.find_elements(By.CSS_SELECTOR, ".cell") if c.get_attribute("data-loaded") == "1"]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".cell")) == 500 and len(loaded) <= 100
    assert browser.find_element(By.CSS_SELECTOR, ".cell.active").get_attribute("data-index") == "499"


@pytest.mark.timeout(300)
def test_a_run_launched_from_the_form_asks_in_the_page_and_finishes(browser: webdriver.Chrome, served: tuple[str, Path], tmp_path: Path) -> None:
    url, runs_dir = served
    steps = [
        {"tool": "checkpoint", "arguments": {"question": "Which layer should I steer?"}},
        {"tool": "finish", "arguments": {"report": "The researcher said: {{last_output}}"}},
    ]

    def equip(form: webdriver.Chrome) -> None:
        form.find_element(By.CSS_SELECTOR, "#skills input[value=steering]").click()
        form.find_element(By.ID, "toolkit").click()

    run_id = launch_from_form(browser, url, tmp_path, "Ask the researcher, then finish.", steps, equip)
    browser.get(f"{url}run/{run_id}")
    question = wait(browser, lambda d: [q for q in d.find_elements(By.CSS_SELECTOR, ".ask pre.question") if q.is_displayed()], 60)[0]
    assert question.text == "Which layer should I steer?"
    browser.find_element(By.CSS_SELECTOR, ".ask textarea").send_keys("Layer 6, at strength 4.")
    browser.find_element(By.CSS_SELECTOR, ".ask button").click()
    wait(browser, lambda d: "The researcher said: Layer 6, at strength 4." in d.find_element(By.CSS_SELECTOR, ".report").text, 60)
    wait(browser, lambda d: status(d) == "finished", 30)
    (run,) = [p for p in runs_dir.iterdir() if (p / "run.json").exists()]
    events = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines()]
    asked = [e for e in events if e["kind"] == "checkpoint"]
    assert asked == [{**asked[0], "question": "Which layer should I steer?", "answer": "Layer 6, at strength 4.",
                      "answered_by": "researcher (viewer)"}]  # fmt: skip
    equipped = json.loads((run / "run.json").read_text())["environment"]
    assert [Path(p).name for p in equipped["skills"]] == ["steering"] and equipped["toolkit"] is False
    assert (run / "workspace" / "skills" / "steering" / "SKILL.md").is_file()


def test_a_running_run_is_stopped_from_its_page(browser: webdriver.Chrome, served: tuple[str, Path], tmp_path: Path) -> None:
    url, runs_dir = served
    steps = [
        {"tool": "execute_code", "arguments": {"code": "import time\nprint('working', flush=True)\ntime.sleep(120)"}},
        {"tool": "finish", "arguments": {"report": "should not get here"}},
    ]

    def budgets(form: webdriver.Chrome) -> None:
        form.find_element(By.ID, "max_tokens").send_keys("50000")
        form.find_element(By.ID, "max_wall_s").clear()
        form.find_element(By.ID, "max_wall_s").send_keys("900")

    run_id = launch_from_form(browser, url, tmp_path, "Work for a long time.", steps, budgets)
    browser.get(f"{url}run/{run_id}")
    wait(browser, lambda d: "working" in d.find_element(By.CSS_SELECTOR, ".cells").text, 60)
    wait(browser, lambda d: d.execute_script(CLICK_STOP), 10)  # in one script: the summary is redrawn on every update
    wait(browser, lambda d: status(d) == "stopped: researcher", 30)
    assert not browser.find_elements(By.CSS_SELECTOR, ".summary button.stop")
    events = [json.loads(line) for line in (runs_dir / run_id / "transcript.jsonl").read_text().splitlines()]
    assert events[-1] == {**events[-1], "kind": "stopped", "reason": "interrupted", "detail": "stopped from the viewer's page"}
    assert "KeyboardInterrupt" in [e for e in events if e["kind"] == "tool_result"][0]["text"]
    budget = json.loads((runs_dir / run_id / "run.json").read_text())["budget"]
    assert budget == {**budget, "turns": 60, "tokens": 50000, "cost_usd": 5.0, "wall_s": 900.0}  # the form's budgets


ATTACK_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" action="{viewer}api/launch" enctype="text/plain" target="sink">
<input name='{{"task": "pwned by form", "plan": "{plan}", "x": "' value='"}}'></form>
<iframe name="sink"></iframe>
<script>
fetch("{viewer}api/launch", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{task: "pwned by fetch", plan: "{plan}"}})}})
  .finally(() => {{ document.getElementById("f").submit(); document.title = "sent"; }});
</script></body></html>"""


@contextmanager
def attacker_site(page: str) -> Iterator[str]:
    """A page served from another port of this machine (same-site with the viewer); yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_pages_elsewhere_and_agent_made_svg_cannot_launch_runs(browser: webdriver.Chrome, served: tuple[str, Path], tmp_path: Path) -> None:
    url, runs_dir = served
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"tool": "finish", "arguments": {"report": "pwned"}}]))
    with attacker_site(ATTACK_PAGE.format(viewer=url, plan=plan)) as evil:
        browser.get(evil)
        wait(browser, lambda d: d.title == "sent" or "launch" in d.current_url, 20)
        time.sleep(1)  # the form's post lands in its frame
    run, notebook, _ = anyio.run(make_run, runs_dir)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>'
           f'fetch("/api/launch", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{task: "pwned by svg", plan: {json.dumps(str(plan))}}})}})'
           '.then(() => document.title = "ran")</script></svg>')  # fmt: skip

    async def add_svg() -> int:
        index = notebook.append_code("display(svg)", status="ok")
        notebook.cells[index]["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}}]
        await notebook.save()
        return index

    index = anyio.run(add_svg)
    browser.get(f"{url}api/runs/{run.id}/cells/{index}/outputs/0")  # opened in a tab, as a curious researcher would
    time.sleep(2)
    assert browser.title != "ran"
    assert not (runs_dir / ".launched").exists()
    assert [p.name for p in runs_dir.iterdir() if (p / "run.json").exists()] == [run.id]
