"""The viewer's API and server push against a real uvicorn server on loopback."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from seer.record.requests import stop_request
from seer.record.transcript import tail_events
from seer.viewer.serve import serve_viewer
from tests.viewer.runs import make_run, model_turn

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def viewer(runs_dir: Path, host: str = "127.0.0.1", **options: Any) -> AsyncIterator[str]:
    """`seer view`'s server on a free port; yields the URL it printed (which carries its secret)."""
    lines: list[str] = []
    ready = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: serve_viewer(runs_dir, host=host, port=0, say=lines.append, ready=ready, **options))
        await ready.wait()
        yield lines[0].removeprefix("Seer viewer: ")
        tasks.cancel_scope.cancel()


def split(printed: str) -> tuple[str, str]:
    """The printed URL's base (ending in /) and secret."""
    base, token = printed.split("?token=")
    return base, token


@asynccontextmanager
async def page(printed: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A client that behaves as the viewer's own page: it opened the printed URL (so it holds the cookie)
    and sends its own origin with every POST."""
    base, _ = split(printed)
    async with httpx2.AsyncClient(base_url=base.rstrip("/"), headers={"Origin": base.rstrip("/")}, timeout=None) as client:
        entered = await client.get(printed)
        assert entered.status_code == 303 and entered.headers["location"] == "/"
        yield client


def api(printed: str) -> httpx2.AsyncClient:
    """A programmatic client: the secret in a header, no Origin."""
    base, token = split(printed)
    return httpx2.AsyncClient(base_url=base.rstrip("/"), headers={"Authorization": f"Bearer {token}"})


@asynccontextmanager
async def sse(client: httpx2.AsyncClient, url: str) -> AsyncIterator[AsyncIterator[tuple[str, dict]]]:
    """The events of a server-sent stream, as (kind, data)."""
    async with client.stream("GET", url) as reply:

        async def events() -> AsyncIterator[tuple[str, dict]]:
            kind = None
            async for line in reply.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    yield kind, json.loads(line[6:])

        yield events()


async def test_the_api_lists_runs_and_pages_cells_images_and_events(tmp_path: Path) -> None:
    run, _, _ = await make_run(tmp_path)
    async with viewer(tmp_path) as url:
        async with api(url) as client:
            (row,) = (await client.get("/api/runs")).json()
            assert row["id"] == run.id and row["task"] == "Find the hidden preference." and row["status"] == "interrupted"
            cells = (await client.get(f"/api/runs/{run.id}/cells?start=1&limit=2")).json()
            assert [c["index"] for c in cells] == [1, 2]
            assert cells[0]["outputs"][0] == {"kind": "image", "output": 0, "mime": "image/png"}
            assert cells[1]["outputs"][0] == {"kind": "error", "text": "ZeroDivisionError: division by zero"}
            image = await client.get(f"/api/runs/{run.id}/cells/1/outputs/0")
            assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
            events = (await client.get(f"/api/runs/{run.id}/events?limit=2")).json()
            assert [e["kind"] for e in events["events"]] == ["model_turn", "tool_result"] and events["start"] > 0
            assert (await client.get("/api/runs/../etc/cells")).status_code == 404
            assert (await client.get("/api/runs/no-such-run")).status_code == 404
            page = await client.get(f"/run/{run.id}")
            assert page.status_code == 200 and "/static/app.js" in page.text


async def test_new_cells_and_events_are_pushed_within_two_seconds(tmp_path: Path) -> None:
    run, notebook, transcript = await make_run(tmp_path)
    seen: list[tuple[str, dict]] = []
    appended = 0.0
    async with viewer(tmp_path) as url, page(url) as client:
        with anyio.fail_after(20):
            async with sse(client, f"/api/runs/{run.id}/stream") as stream:
                async for kind, data in stream:
                    seen.append((kind, data))
                    if kind == "cells" and "hashes" in data:  # where things stand: no contents yet
                        assert data["count"] == 4 and data["changed"] == [] and data["active"] == 3
                        index = notebook.append_code("print('new')")
                        await notebook.save()
                        transcript.append("model_turn", **model_turn("One more cell.", turn=2))
                        appended = time.monotonic()
                    elif kind == "cells":
                        assert data["count"] == 5 and data["active"] == index
                        assert data["changed"][0]["source"] == "print('new')"
                    elif kind == "events" and data["new"]:
                        assert data["new"][0]["text"] == "One more cell."
                        break
    assert time.monotonic() - appended < 2
    assert [k for k, _ in seen][:2] == ["cells", "events"] and seen[1][1]["new"] == []
    assert [k for k, _ in seen].count("cells") == 2


async def test_a_viewer_bound_beyond_loopback_asks_for_its_token(tmp_path: Path) -> None:
    await make_run(tmp_path)
    async with viewer(tmp_path, host="0.0.0.0") as url:
        local = url.replace("0.0.0.0", "127.0.0.1")
        bare = local.split("?")[0]
        async with httpx2.AsyncClient() as client:
            assert (await client.get(bare + "api/runs")).status_code == 401
            first = await client.get(local)
            assert first.status_code == 303 and "token" not in first.headers["location"]  # out of the address bar
            assert "HttpOnly" in first.headers["set-cookie"] and "samesite=strict" in first.headers["set-cookie"].lower()
            assert (await client.get(bare + "api/runs")).status_code == 200  # the cookie carries it


async def test_the_launch_form_offers_packaged_skills_and_refuses_unknown_equipment(tmp_path: Path) -> None:
    async with viewer(tmp_path) as url, page(url) as client:
        choices = (await client.get("/api/launch")).json()
        bad_skill = await client.post("/api/launch", json={"task": "t", "skills": ["steerin"]})
        bad_library = await client.post("/api/launch", json={"task": "t", "libraries": [str(tmp_path / "no_such.py")]})
        no_budget = await client.post("/api/launch", json={"task": "t", "max_tokens": 0})
    assert {"steering", "probing", "notebook-practice"} <= set(choices["skills"]) and "scripted" in choices["providers"]
    assert bad_skill.status_code == 400 and "no packaged skill 'steerin'" in bad_skill.json()["error"]
    assert bad_library.status_code == 400 and "no_such.py': no such file or folder" in bad_library.json()["error"]
    assert no_budget.status_code == 400 and "max_tokens: Input should be greater than 0" in no_budget.json()["error"]
    assert not (tmp_path / ".launched").exists()  # nothing was started


async def test_only_a_running_run_can_be_stopped_from_the_page(tmp_path: Path) -> None:
    running, _, _ = await make_run(tmp_path, task="running")
    running.update_record(pid=os.getpid())
    finished, _, _ = await make_run(tmp_path, task="finished")
    finished.update_record(status="finished", ended_at="2026-01-01T00:00:00+00:00")
    async with viewer(tmp_path) as url, page(url) as client:
        refused = await client.post(f"/api/runs/{finished.id}/stop", json={})
        accepted = await client.post(f"/api/runs/{running.id}/stop", json={})
    assert refused.status_code == 400 and f"run {finished.id} is not running (status: finished)" in refused.json()["error"]
    assert not (finished.path / "stop.json").exists()
    assert accepted.status_code == 200 and stop_request(running.path) == "stopped from the viewer's page"


def test_tail_events_reads_backwards_in_pages(tmp_path: Path) -> None:
    path = tmp_path / "transcript.jsonl"
    path.write_text("".join(json.dumps({"seq": i, "pad": "x" * (i * 37 % 3000)}) + "\n" for i in range(1000)) + '{"torn')
    newest, start = tail_events(path, limit=200)
    assert [e["seq"] for e in newest] == list(range(800, 1000))
    older, start = tail_events(path, end=start, limit=1000)
    assert [e["seq"] for e in older] == list(range(800)) and start == 0


async def test_seer_run_view_serves_the_viewer_while_the_run_runs(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "basic"
    argv = [sys.executable, "-m", "seer", "run", str(example), "--provider", "scripted", "--plan", str(example / "plan.json"),
            "--runs-dir", str(tmp_path), "--view"]  # fmt: skip
    with anyio.fail_after(120):
        done = await anyio.run_process(argv, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    out = done.stdout.decode()
    assert done.returncode == 0, out + done.stderr.decode()
    assert re.search(r"Seer viewer: http://127\.0\.0\.1:\d+/", out) and "stopped: finished" in out


def test_a_run_killed_during_start_up_is_listed_as_failed(tmp_path: Path) -> None:
    from seer.run import RunDir
    from seer.viewer.runs import summarize

    run = RunDir.create(tmp_path, "dead", {})
    run.update_record(status="starting", pid=2**22 + 1)  # no such process
    assert summarize(run.path)["status"] == "failed"
