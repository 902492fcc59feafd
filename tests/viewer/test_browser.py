"""The viewer in real headless Chromium (Debian's, driven by Selenium through Debian's chromedriver)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from seer.viewer.serve import serve_viewer
from tests.viewer.runs import make_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert CHROMIUM and DRIVER, "browser tests need Debian's chromium and chromium-driver (make setup installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The viewer over `tmp_path`, served from a thread with its own event loop."""
    lines: list[str] = []
    stop = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: serve_viewer(tmp_path, port=0, say=lines.append))
            await anyio.to_thread.run_sync(stop.wait)
            tasks.cancel_scope.cancel()

    thread = threading.Thread(target=anyio.run, args=(main,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    try:
        yield lines[0].removeprefix("Seer viewer: "), tmp_path
    finally:
        stop.set()
        thread.join(10)


def wait(driver: webdriver.Chrome, condition, seconds: float = 10):  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: condition(d))


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
        notebook.append_code("print('appended by the test')", {"status": "running"})
        await notebook.save()
        transcript.append("model_turn", text="Trying one more thing.", tool_calls=[])

    began = time.monotonic()
    anyio.run(append)
    newest = wait(browser, lambda d: [c for c in d.find_elements(By.CSS_SELECTOR, ".cell.active") if "appended by the test" in c.text])[0]
    wait(browser, lambda d: "Trying one more thing." in d.find_element(By.CSS_SELECTOR, ".events").text)
    assert time.monotonic() - began < 2
    assert newest.get_attribute("data-index") == "4" and "running" in newest.get_attribute("class")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".cell.active")) == 1
