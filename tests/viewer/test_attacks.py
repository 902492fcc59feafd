"""Attacks on the loopback viewer, each as a web page or a rebinding DNS name would make it; none may
start a run, stop one, answer for the researcher, or run script in the viewer's origin."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import httpx2
import pytest

from seer.record.requests import stop_request
from tests.viewer.runs import make_run
from tests.viewer.test_app import api, page, split, viewer
from tests.viewer.test_bench_page import make_bench, write_run

pytestmark = pytest.mark.anyio

EVIL = "http://127.0.0.1:9"  # a page on another port of this machine: same-site, so it holds the cookie too


def launched(runs_dir: Path) -> list[str]:
    folder = runs_dir / ".launched"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_foreign_page_cannot_launch_with_a_simple_request_or_a_form(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("[]")
    body = json.dumps({"task": "t", "plan": str(plan)})
    async with viewer(tmp_path) as url, page(url) as client:
        attempts = {
            "text/plain from another origin": await client.post("/api/launch", content=body,
                                                                 headers={"Origin": EVIL, "Content-Type": "text/plain"}),
            "JSON from another origin": await client.post("/api/launch", content=body,
                                                          headers={"Origin": EVIL, "Content-Type": "application/json"}),
            "a form post": await client.post("/api/launch", data={"task": "t"}, headers={"Origin": EVIL}),
            "cross-site fetch": await client.post("/api/launch", content=body,
                                                  headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}),
            "no Origin, cookie only": await client.post("/api/launch", content=body,
                                                        headers={"Origin": "", "Content-Type": "application/json"}),
        }  # fmt: skip
        same_origin_form = await client.post("/api/launch", data={"task": "t"})  # even from the page: JSON only
    async with viewer(tmp_path) as url, httpx2.AsyncClient() as stranger:  # no cookie at all
        bare = await stranger.post(split(url)[0] + "api/launch", content=body, headers={"Content-Type": "text/plain"})
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert "cross-origin request from 'http://127.0.0.1:9' refused" in attempts["text/plain from another origin"].json()["error"]
    assert same_origin_form.status_code == 415 and "application/json" in same_origin_form.json()["error"]
    assert bare.status_code == 403 and "needs the viewer's secret" in bare.json()["error"]
    assert launched(tmp_path) == []


async def test_a_rebound_host_is_refused_for_reads_and_writes(tmp_path: Path) -> None:
    run, _, _ = await make_run(tmp_path)
    async with viewer(tmp_path) as url, api(url) as client:
        port = split(url)[0].rsplit(":", 1)[1].rstrip("/")
        rebound = {"Host": f"attacker.example:{port}"}
        read = await client.get(f"/api/runs/{run.id}/cells", headers=rebound)
        write = await client.post(f"/api/runs/{run.id}/answer", json={"id": 1, "answer": "x"}, headers=rebound)
        by_name = await client.get("/api/runs", headers={"Host": f"localhost:{port}"})
    assert read.status_code == write.status_code == 421 and "attacker.example" in read.json()["error"]
    assert by_name.status_code == 200


async def test_launch_values_are_never_options_and_paths_stay_inside_the_allowed_folders(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    runs = tmp_path / "runs"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "task.md").write_text("Read the secrets.")
    (elsewhere / "plan.json").write_text("[]")
    async with viewer(runs) as url, api(url) as client:
        answers = [
            await client.post("/api/launch", json={"target": "--base-url=https://attacker.example/v1", "provider": "openai"}),
            await client.post("/api/launch", json={"target": "-h"}),
            await client.post("/api/launch", json={"task": "t", "model": "--base-url=http://x"}),
            await client.post("/api/launch", json={"target": str(elsewhere)}),
            await client.post("/api/launch", json={"task": "t", "plan": str(elsewhere / "plan.json")}),
            await client.post("/api/launch", json={"task": "t", "libraries": ["/etc"]}),
            await client.post("/api/launch", json={"task": "t", "skills": [str(elsewhere)]}),
            await client.post("/api/launch", json={"task": "t", "provider": "openai", "max_cost": None}),
            await client.post("/api/launch", content='{"task": "t", "max_cost": NaN}', headers={"Content-Type": "application/json"}),
            await client.post("/api/launch", content="[1, 2]", headers={"Content-Type": "application/json"}),
        ]
    problems = [(a.status_code, a.json()["error"]) for a in answers]
    assert [code for code, _ in problems] == [400] * len(answers), problems
    assert "starts with '-': a value here is never a command-line option" in problems[0][1]
    assert all("is outside the folders launches may use" in problem for _, problem in problems[3:7])
    assert "provider 'openai' spends money: set max_cost" in problems[7][1]
    assert "max_cost" in problems[8][1] and "the body must be a JSON object" in problems[9][1]
    assert launched(runs) == []


async def test_a_foreign_page_cannot_stop_a_run_or_answer_for_the_researcher(tmp_path: Path) -> None:
    run, _, _ = await make_run(tmp_path)
    run.update_record(pid=os.getpid())
    async with viewer(tmp_path) as url, page(url) as client:
        stop = await client.post(f"/api/runs/{run.id}/stop", json={}, headers={"Origin": EVIL})
        answer = await client.post(f"/api/runs/{run.id}/answer", json={"id": 1, "answer": "the attacker's text"},
                                   headers={"Origin": EVIL})  # fmt: skip
        plain = await client.post(f"/api/runs/{run.id}/answer", content='{"id": 1, "answer": "x"}', headers={"Content-Type": "text/plain"})
    assert stop.status_code == answer.status_code == 403 and plain.status_code == 415
    assert stop_request(run.path) is None and not list(run.path.glob("answer*"))


async def test_an_agent_made_svg_is_never_a_document_of_the_viewer(tmp_path: Path) -> None:
    run, notebook, _ = await make_run(tmp_path)
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/launch", {method: "POST"})</script></svg>'
    index = notebook.append_code("display(svg)", status="ok")
    notebook.cells[index]["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}}]
    await notebook.save()
    async with viewer(tmp_path) as url, page(url) as client:
        got = await client.get(f"/api/runs/{run.id}/cells/{index}/outputs/0")
        home = await client.get("/")
        async with httpx2.AsyncClient(base_url=split(url)[0].rstrip("/")) as stranger:  # a kernel on loopback, say
            unread = [await stranger.get(path) for path in ("/api/runs", f"/api/runs/{run.id}/cells", "/")]
    assert [r.status_code for r in unread] == [401] * 3
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/svg+xml")
    assert got.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in got.headers["content-security-policy"] and "default-src 'none'" in got.headers["content-security-policy"]
    for answer in (got, home):
        assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["x-frame-options"] == "DENY"
    assert "script-src" not in home.headers["content-security-policy"] and "default-src 'self'" in home.headers["content-security-policy"]


async def test_a_launch_through_the_api_answers_with_the_new_runs_id(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"tool": "finish", "arguments": {"report": "done"}}]))
    async with viewer(tmp_path) as url, api(url) as client:
        spec = (await client.get("/api/openapi.json")).json()
        started = await client.post("/api/launch", json={"task": "Finish at once.", "plan": str(plan), "toolkit": False})
        assert started.status_code == 201, started.text
        new = started.json()
        with anyio.fail_after(120):
            while (await client.get(f"/api/runs/{new['id']}")).json().get("status") != "finished":
                await anyio.sleep(0.5)
    assert new["url"] == f"/run/{new['id']}" and (tmp_path / new["id"] / "report.md").read_text().strip() == "done"
    assert all(arg.startswith("--") for arg in new["argv"][4:])  # every value behind its own --name=
    assert {"/api/launch", "/api/runs/{run}/stop", "/api/runs/{run}/answer"} <= set(spec["paths"])
    assert spec["components"]["schemas"]["LaunchRequest"]["properties"]["max_cost"]


async def test_the_bench_routes_check_the_host_keep_to_the_bench_folders_and_a_foreign_page_cannot_stop_a_bench_run(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    (tmp_path / "secret.txt").write_text("not for the web")
    write_run(bench, "alpha.baseline.base.1", status="running")
    running = bench / "runs" / "alpha.baseline.base.1"
    async with viewer(tmp_path / "runs") as url, api(url) as client, page(url) as browser_page, httpx2.AsyncClient() as stranger:
        port = split(url)[0].rsplit(":", 1)[1].rstrip("/")
        rebound = {"Host": f"attacker.example:{port}"}
        refused = [await client.get(path, headers=rebound) for path in ("/api/benches", "/api/benches/page", "/api/benches/page/plots/solve_rate.png")]
        escapes = [
            await client.get("/api/benches/..%2F..%2Fsecret.txt"),
            await client.get("/api/benches/page/plots/bench.json"),
            await client.get("/api/benches/page/plots/..%2F..%2F..%2Fsecret.txt"),
            await client.get("/api/runs/page@..%2F..%2F..%2Fsecret.txt"),
            await client.get("/api/runs/..%2Fbenches@alpha.baseline.base.0"),
        ]
        foreign_stop = await browser_page.post("/api/runs/page@alpha.baseline.base.1/stop", content="{}",
                                               headers={"Origin": EVIL, "Content-Type": "application/json"})  # fmt: skip
        bare_stop = await stranger.post(split(url)[0] + "api/runs/page@alpha.baseline.base.1/stop", json={})
        assert stop_request(running) is None
        own_stop = await client.post("/api/runs/page@alpha.baseline.base.1/stop", json={})
        listed = (await client.get("/api/benches")).json()
    assert [r.status_code for r in refused] == [421, 421, 421]
    assert [r.status_code for r in escapes] == [404] * len(escapes) and all("not for the web" not in r.text for r in escapes)
    assert foreign_stop.status_code == bare_stop.status_code == 403
    assert own_stop.status_code == 200 and stop_request(running) == "stopped from the viewer's page"
    assert [b["name"] for b in listed] == ["page"]


async def test_continue_needs_the_secret_and_the_page_and_takes_only_numbers(tmp_path: Path) -> None:
    run, _, _ = await make_run(tmp_path)
    run.update_record(status="stopped", stop={"reason": "budget", "limit": "turns", "detail": "turns 1 >= 1"})
    continue_ = f"/api/runs/{run.id}/continue"
    async with viewer(tmp_path) as url, page(url) as client:
        base, _ = split(url)
        async with httpx2.AsyncClient(base_url=base.rstrip("/")) as stranger:
            no_secret = await stranger.post(continue_, json={"max_turns": 10})
        foreign = await client.post(continue_, json={"max_turns": 10}, headers={"Origin": EVIL})
        plain = await client.post(continue_, content='{"max_turns": 10}', headers={"Content-Type": "text/plain"})
        option = await client.post(continue_, json={"max_turns": "--base-url=http://attacker.example"})
        unknown = await client.post(continue_, json={"max_turns": 10, "provider": "-h"})
        negative = await client.post(continue_, json={"max_cost": -1})
    assert no_secret.status_code in (401, 403) and foreign.status_code == 403 and plain.status_code == 415
    assert option.status_code == unknown.status_code == negative.status_code == 400
    assert launched(tmp_path) == []  # nothing was started
