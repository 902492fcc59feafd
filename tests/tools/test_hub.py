"""`seer mcp` with no environment: a real MCP client starts sessions on a task and on an inline environment,
works in them, finishes, and stops them; progress arrives while the models load."""

import base64
import json
import re
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPDeprecationWarning

from seer.judge import judge_run
from seer.task import find_task
from tests.helpers import http_seer_process, read_valid_notebook, stdio_seer, text_of
from tests.providers import TOKEN_ENV
from tests.tools.test_mcp_http import client_for

pytestmark = pytest.mark.anyio

LOAD_S = 600
"""Loading the task's two SmolLM2 models on a loaded 2-core machine."""


async def test_a_client_starts_a_task_finishes_it_starts_another_and_stops_both(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    task = find_task("hidden-preference")
    assert task is not None
    secret = task.truth(task.variant_index(0))["secret"]  # what seed 0 hides (the test plays a client that found it)
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with stdio_seer(runs, hub=True) as client:
        with anyio.fail_after(LOAD_S):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            catalog = text_of(await client.call_tool("list_tasks", {}))
            early = await client.call_tool("execute_code", {"code": "1"})
            started = await client.call_tool("start_session", {"task": "hidden-preference", "seed": 0}, progress_callback=on_progress)
            briefing = text_of(await client.call_tool("get_task", {}))
            ran = await client.call_tool("execute_code", {"code": "print(type(model).__name__, len(base_tokenizer) > 0)"})
            finished = await client.call_tool("finish", {"report": f"{secret} (cell 0).", "answer": {"topic": secret}})
            after = await client.call_tool("execute_code", {"code": "print('too late')"})
            second = await client.call_tool("start_session", {"environment": {"name": "scratch"}, "question": "Try things."})
            scratch = await client.call_tool("execute_code", {"code": "6 * 7"})
            named = await client.call_tool("execute_code", {"code": "1", "session": "hidden-preference"})
            sessions = text_of(await client.call_tool("list_sessions", {}))
            stopped = [text_of(await client.call_tool("stop_session", {"session": "hidden-preference"})),
                       text_of(await client.call_tool("stop_session", {}))]  # fmt: skip
            left = text_of(await client.call_tool("list_sessions", {}))

    assert {"list_tasks", "list_sessions", "start_session", "attach", "stop_session", "get_task", "execute_code", "finish"} <= tools
    assert "checkpoint" not in tools  # this client cannot answer an elicitation
    assert "hidden-preference" in catalog and "steering" in catalog
    assert early.is_error and "start_session" in text_of(early)

    assert not started.is_error, text_of(started)
    for shown in (text_of(started), briefing):
        assert task.agent_prompt.strip() in shown
        assert "`model` with `model_tokenizer` (identity hidden)" in shown and "`base` with `base_tokenizer`" in shown
        assert "- `steer(model, vectors, *, layers=None" in shown  # the toolkit's cheat-sheet
        assert "finish(report, answer={topic: ...})" in shown
        assert not re.search(r"\bowls?\b", shown.lower()) and "seer:hidden-preference-" not in shown  # the organism stays hidden
    assert any(step.startswith("starting the kernel") for step in progress)
    assert any("loading `model`, `base`" in step for step in progress), progress

    assert text_of(ran).endswith(" True\n") and not ran.is_error, text_of(ran)
    assert not finished.is_error, text_of(finished)
    assert after.is_error and "the investigation is finished" in text_of(after)
    assert not second.is_error and "Try things." in text_of(second)
    assert text_of(scratch).endswith("42\n")
    assert named.is_error and "finished" in text_of(named)
    assert "- hidden-preference: hidden-preference · finished" in sessions and "- scratch (current): scratch · ready" in sessions
    assert "stopped (finished, 1 cells)" in stopped[0] and "scratch" in stopped[1] and "(closed, 1 cells)" in stopped[1]
    assert left.startswith("No sessions")

    records = {json.loads(p.read_text())["environment"]["name"]: json.loads(p.read_text()) for p in runs.glob("*/run.json")}
    graded, free = records["hidden-preference"], records["scratch"]
    assert graded["status"] == "finished" and graded["task_dir"] == str(task.path) and graded["seed"] == 0
    assert graded["answer"] == {"topic": secret} and graded["agent"]["provider"] == "mcp" and graded["graded"]
    assert free["status"] == "closed" and free["task"] == "Try things." and not free["graded"]
    notebook = read_valid_notebook(runs / graded["id"] / "notebook.ipynb")
    assert [cell.source for cell in notebook.cells] == ["print(type(model).__name__, len(base_tokenizer) > 0)"]  # nothing after finish
    score = await judge_run(runs / graded["id"])  # judged like any run: the deterministic checks, no rubric model
    assert (score["outcome"], score["correct"], score["variant"]) == ("graded", True, graded["variant_name"])


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_checkpoint_asks_the_person_behind_the_client_by_elicitation(tmp_path: Path, mode: str) -> None:
    """Before protocol 2026-07-28 the question is a request of its own; from it on (`auto` picks it), it is
    the call's `input_required` answer, and the client calls again with the reply."""
    asked: list[str] = []

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"answer": "use layer 6"})

    async with stdio_seer(tmp_path, elicitation_callback=answer, mode=mode) as client:
        with anyio.fail_after(60):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            reply = await client.call_tool("checkpoint", {"question": "Which layer should I steer?"})
            version = client.session.protocol_version
    assert "checkpoint" in tools and (version >= "2026-07-28") == (mode == "auto"), version
    assert text_of(reply) == "use layer 6" and asked == ["Which layer should I steer?"]


async def test_a_bad_start_names_the_problem_and_holds_nothing(tmp_path: Path) -> None:
    async with stdio_seer(tmp_path, hub=True) as client:
        with anyio.fail_after(60):
            unknown = await client.call_tool("start_session", {"task": "no-such-task"})
            both = await client.call_tool("start_session", {"task": "steering", "env_file": "x.toml"})
            invalid = await client.call_tool("start_session", {"environment": {"name": "x", "modles": []}})
            sessions = text_of(await client.call_tool("list_sessions", {}))
    assert unknown.is_error and "hidden-preference" in text_of(unknown)  # the list of tasks
    assert both.is_error and "exactly one of" in text_of(both)
    assert invalid.is_error and "modles" in text_of(invalid)
    assert sessions.startswith("No sessions") and not list(tmp_path.glob("*/run.json"))


async def test_resources_prompts_completions_and_logging(tmp_path: Path) -> None:
    """What a client reads besides tools: the session's task, notebook, cells (figures as PNG) and files, the
    packaged tasks and skills, never run.json; prompts and completions for task names; log messages that
    honour `logging/setLevel`."""
    logged: list[tuple[str, str]] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logged.append((params.level, str(params.data)))

    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\nopen('notes.txt', 'w').write('kept')"
    async with stdio_seer(tmp_path, hub=True, logging_callback=on_log, mode="legacy") as client:
        with anyio.fail_after(120):
            await client.call_tool("start_session", {"environment": {"name": "lab"}, "question": "Plot a line."})
            quiet_from = len(logged)
            with pytest.warns(MCPDeprecationWarning):  # deprecated in the newest spec; the clients of today speak it
                await client.set_logging_level("warning")
            await client.call_tool("start_session", {"environment": {"name": "quiet"}, "name": "quiet"})
            await client.call_tool("execute_code", {"code": plot, "session": "lab"})
            listed = [r.uri for r in (await client.list_resources()).resources]
            templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
            cell = (await client.read_resource("seer://sessions/lab/cells/0")).contents
            task = (await client.read_resource("seer://sessions/lab/task")).contents[0]
            notebook = (await client.read_resource("seer://sessions/lab/notebook")).contents[0]
            notes = (await client.read_resource("seer://sessions/lab/files/workspace/notes.txt")).contents[0]
            steering = (await client.read_resource("seer://tasks/steering")).contents[0]
            refused = []
            for uri in ("seer://sessions/lab/files/run.json", "seer://sessions/lab/files/workspace/../run.json", "seer://nothing"):
                try:
                    await client.read_resource(uri)
                except Exception as exc:  # the SDK raises the server's JSON-RPC error
                    refused.append(str(exc))
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            investigate = await client.get_prompt("investigate", {"task": "steering"})
            tasks = await client.complete(types.PromptReference(type="ref/prompt", name="investigate"), {"name": "task", "value": "hid"})
            sessions = await client.complete(types.ResourceTemplateReference(type="ref/resource", uri="seer://sessions/{session}/cells/{index}"),
                                             {"name": "session", "value": "q"})  # fmt: skip

    steering_task = find_task("steering")
    assert steering_task is not None
    assert {"seer://tasks/hidden-preference", "seer://skills/steering", "seer://sessions/lab/notebook", "seer://sessions/lab/task"} <= set(listed)
    assert "seer://sessions/lab/files/workspace/notes.txt" in listed and not any(u.endswith("run.json") for u in listed)
    assert "seer://sessions/{session}/cells/{index}" in templates
    assert cell[0].text.startswith("[cell 0 · ok]\nimport matplotlib") and base64.b64decode(cell[1].blob).startswith(b"\x89PNG")
    assert "Plot a line." in task.text and json.loads(notebook.text)["cells"][0]["source"].startswith("import matplotlib")
    assert notes.text == "kept" and steering.text == steering_task.agent_prompt
    assert len(refused) == 3 and all("no file" in r or "no resource" in r for r in refused), refused
    assert prompts == {"investigate", "task"}
    assert 'start_session(task="steering")' in investigate.messages[0].content.text
    assert tasks.completion.values == ["hidden-preference"] and sessions.completion.values == ["quiet"]
    assert any(level == "info" and message.startswith("starting the local sandbox") for level, message in logged[:quiet_from])
    assert not logged[quiet_from:]  # info messages are below the level asked for


async def test_a_second_http_client_attaches_to_the_session_the_first_started(tmp_path: Path) -> None:
    """One hub over HTTP, two clients: each works in its own current session; `attach` moves the second
    into the first's, where the kernel state is shared."""
    async with http_seer_process(tmp_path) as (url, token), client_for(url, token) as first, client_for(url, token) as second:
        with anyio.fail_after(120):
            await first.call_tool("start_session", {"environment": {"name": "shared"}})
            await first.call_tool("execute_code", {"code": "secret = 41"})
            await second.call_tool("start_session", {"environment": {"name": "own"}})
            own = text_of(await second.call_tool("execute_code", {"code": "'secret' in dir()"}))
            attached = text_of(await second.call_tool("attach", {"session": "shared"}))
            shared = text_of(await second.call_tool("execute_code", {"code": "secret + 1"}))
            sessions = text_of(await first.call_tool("list_sessions", {}))
    assert own.endswith("False\n") and attached.startswith("Your current session is now `shared`") and shared.endswith("42\n")
    assert "- shared (current): shared · ready" in sessions and "- own: own · ready" in sessions
    statuses = sorted(json.loads(p.read_text())["status"] for p in tmp_path.glob("*/run.json"))
    assert statuses == ["closed", "closed"]


async def test_a_session_starts_on_the_sandbox_provider_the_client_picks(tmp_path: Path, jupyter_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`sandbox` picks the provider (here the suite's Jupyter server); a provider's unknown field is refused by name."""
    url, token = jupyter_server
    monkeypatch.setenv(TOKEN_ENV, token)
    async with stdio_seer(tmp_path, hub=True) as client:
        with anyio.fail_after(120):
            wrong = await client.call_tool("start_session", {"environment": {"name": "x"}, "sandbox": {"provider": "ray", "gpu": "H100"}})
            started = await client.call_tool("start_session", {"environment": {"name": "remote"}, "sandbox": {"provider": "jupyter", "url": url, "token_env": TOKEN_ENV}})
            ran = await client.call_tool("execute_code", {"code": "6 * 7"})
    assert wrong.is_error and "gpu: unknown field; did you mean 'gpus'?" in text_of(wrong)
    assert not started.is_error, text_of(started)
    assert text_of(ran).endswith("42\n")
    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("*/run.json")]
    assert record["environment"]["sandbox"]["provider"] == "jupyter" and record["status"] == "closed"


async def test_the_fixed_mode_serves_one_task_with_its_briefing(tmp_path: Path) -> None:
    """`seer mcp --task NAME --skill NAME`: the instructions and get_task give the task, the models by variable,
    the toolkit and the skill; finish shows the task's answer; there are no lifecycle tools."""
    task = find_task("hidden-preference")
    assert task is not None
    async with stdio_seer(tmp_path, "--task", "hidden-preference", "--skill", "steering") as client:
        with anyio.fail_after(LOAD_S):
            instructions = client.instructions or ""
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            briefing = text_of(await client.call_tool("get_task", {}))
            finished = await client.call_tool("finish", {"report": "Owls (no evidence)."})
    for shown in (instructions, briefing):
        assert task.agent_prompt.strip() in shown and "`model` with `model_tokenizer` (identity hidden)" in shown
        assert "`seer_interp`" in shown and "`steering`:" in shown
        assert "seer:hidden-preference-" not in shown
    assert "start_session" not in tools and "get_task" in tools
    assert tools["finish"].input_schema["properties"]["answer"]["required"] == ["topic"]
    assert finished.is_error and "needs a structured answer" in text_of(finished)
    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("*/run.json")]
    assert record["task_dir"] == str(task.path) and record["graded"] and record["status"] == "closed"


async def test_attacks_on_the_hub_over_http_are_refused(tmp_path: Path) -> None:
    """Starting sessions changes state: a page on another origin, a rebound Host or a caller without the token
    is refused before any tool runs; inputs that would read as command-line options are refused as data."""
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    async with http_seer_process(tmp_path / "runs") as (url, token):
        accept = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(timeout=30) as http:
            foreign_origin = await http.post(url, json=init, headers={**accept, "Origin": "http://evil.example"})
            rebound_host = await http.post(url, json=init, headers={**accept, "Host": "evil.example:80"})
            no_token = await http.post(url, json=init, headers={"Accept": accept["Accept"]})
        async with client_for(url, token) as client:
            with anyio.fail_after(60):
                option = await client.call_tool("start_session", {"environment": {"name": "x", "packages": ["--index-url=http://evil.example/simple"]}})
                dashed = await client.call_tool("start_session", {"env_file": "--help"})
                task = await client.call_tool("start_session", {"task": "-rf"})
    assert foreign_origin.status_code == 403 and rebound_host.status_code in (400, 421) and no_token.status_code == 401
    assert option.is_error and "is not a requirement" in text_of(option)
    assert dashed.is_error and "no such file" in text_of(dashed)
    assert task.is_error and "is not a packaged task" in text_of(task)
    assert not list((tmp_path / "runs").glob("*/run.json"))
