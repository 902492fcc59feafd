"""Headless Chromium for the viewer's tests and its benchmark: Debian's chromium, driven by Selenium
through Debian's chromedriver (nothing downloaded)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from seer.viewer.serve import serve_viewer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@contextmanager
def viewer_in_thread(runs_dir: Path, benches_dir: Path | None = None) -> Iterator[str]:
    """`seer view` over `runs_dir` on a free port, served from a thread with its own event loop; yields the
    URL it printed (which carries its secret once)."""
    lines: list[str] = []
    stop = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: serve_viewer(runs_dir, port=0, say=lines.append, benches_dir=benches_dir))
            await anyio.to_thread.run_sync(stop.wait)
            tasks.cancel_scope.cancel()

    thread = threading.Thread(target=anyio.run, args=(main,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lines, "the viewer did not start within 10 s"
    time.sleep(0.2)  # the socket is bound and the URL printed; uvicorn answers a moment later
    try:
        yield lines[0].removeprefix("Seer viewer: ")
    finally:
        stop.set()
        thread.join(10)


def chrome() -> webdriver.Chrome:
    """A headless Chromium window of 1400×1000."""
    assert CHROMIUM and DRIVER, "browser tests need Debian's chromium and chromium-driver (make setup installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    return driver


def wait(driver: webdriver.Chrome, condition: Any, seconds: float = 10) -> Any:
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: condition(d))


def first_render(driver: webdriver.Chrome, url: str) -> dict[str, Any]:
    """Open a run page in a fresh cache; the time until its first cells are drawn, and the bytes it loaded."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get("about:blank")
    began = time.monotonic()
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return performance.getEntriesByName('seer:cells-rendered').length"), 30)
    wall_ms = (time.monotonic() - began) * 1000
    mark_ms = driver.execute_script("return performance.getEntriesByName('seer:cells-rendered')[0].startTime")
    time.sleep(0.5)  # images in view finish loading
    sizes = driver.execute_script(
        "return [performance.getEntriesByType('navigation')[0].transferSize,"
        " ...performance.getEntriesByType('resource').map(e => e.transferSize)]"
    )
    return {"first_render_ms": round(mark_ms, 1), "wall_ms": round(wall_ms, 1), "bytes": sum(sizes), "requests": len(sizes)}
