"""Scoped sessions end to end: a scoped-only agent has no code execution, a notebook-plus-scope kernel
gets the client library and no model, two sessions share one server, and a hidden model's identity
never reaches the agent."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent, session_toolset
from seer.environment import Environment
from seer.errors import ToolError
from seer.prompt import system_prompt
from seer.sandbox.jupyter_services import KernelTransport
from seer.sandbox.local import LocalSandbox
from seer.scope.client import ScopeServer
from seer.scope.library import client_source
from seer.session import Session
from tests.helpers import stdio_seer, text_of

pytestmark = pytest.mark.anyio

INTERFACE = '''
from seer_scope import expose, models, session_state

@expose
def width() -> int:
    """The target model's hidden size."""
    model, _ = models()["target"]
    return model.config.hidden_size

@expose
def remember(note: str) -> list[str]:
    """Keep a note for this session and return the session's notes so far.

    Args:
        note: Text to keep.
    """
    return session_state().setdefault("notes", []).append(note) or session_state()["notes"]
'''


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "interface.py").write_text(text)
    return folder / "interface.py"


def scoped_env(interface: Path, mode: str = "tools", **scope: object) -> Environment:
    return Environment(
        name="scoped",
        models=[{"id": "seer:tiny-llama", "name": "target", "hidden": True}],
        scope={"interface": interface, "mode": mode, **scope},
        timeouts={"cell_s": 60},
    )


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """The first scoped-session tests run on each provider: this machine, a Jupyter server, a Ray cluster
    (the scope server then runs on the remote machine, beside the model, reached through a kernel there)."""
    return parametrized_provider


async def test_a_scoped_only_session_offers_the_exposed_functions_and_no_code_execution(
    tmp_path: Path, on_provider: Callable[[Environment], Environment]
) -> None:
    env = on_provider(scoped_env(write(tmp_path, INTERFACE)))
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        tools = await session_toolset(session)
        assert tools.names() == ["width", "remember", "list_skills", "read_skill", "finish", "checkpoint"]
        assert not session.has_kernel
        with pytest.raises(ToolError, match="no code execution"):
            await session.execute("print(1)")
        assert session.notebook.cells == []
        assert await session.scope.call("width", {}) == 64
        record = session.run.read_record()
        assert record["isolation"]["kernel"] == "none" and "no code execution" in record["isolation"]["guarantee"]
        assert record["scope"]["functions"] == ["width", "remember"]
        state = await session.scope.state()
        assert state["models"]["target"]["loads"] == 1 and state["sessions"] == {session.run.id: 1}
        if env.sandbox.provider != "local":  # the harness reaches the remote machine's loopback through a kernel there
            assert isinstance(session.scope.transport, KernelTransport)


async def test_a_notebook_plus_scope_kernel_has_the_client_library_and_no_model(
    tmp_path: Path, on_provider: Callable[[Environment], Environment]
) -> None:
    env = on_provider(scoped_env(write(tmp_path, INTERFACE), mode="notebook"))
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        cell = await session.execute("print(scope.width(), scope.remember('a'), scope.remember(note='b'))")
        assert cell.run.status == "ok", cell.render()[0]
        assert "64 ['a'] ['a', 'b']" in cell.render()[0]
        missing = await session.execute("target")
        assert missing.run.status == "error" and "NameError" in missing.render()[0]
        wrong = await session.execute("scope.remember(3)")
        assert "ScopeError: BadArguments: remember: argument 'note' should be string, got int" in wrong.render()[0]
        helped = await session.execute("help(scope.remember)")
        assert "note: Text to keep." in helped.render()[0]
        if env.sandbox.provider != "local":  # no bubblewrap around a remote kernel, and the record says so
            isolation = session.run.read_record()["isolation"]
            assert isolation["kernel"] == "none" and "cannot run them under bubblewrap" in isolation["reason"]


def test_the_client_library_mirrors_the_manifest() -> None:
    manifest = [{"name": "ask", "description": "Ask.\n\nMore.", "input_schema": {
        "type": "object", "required": ["prompt"], "properties": {
            "prompt": {"type": "string", "description": "The question."},
            "mode": {"enum": ["a", "b"], "default": "a", "description": "How."},
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "description": "Cap."},
            "tags": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Tags."}}}}]  # fmt: skip
    namespace: dict[str, object] = {}
    exec(compile(client_source(manifest), "scope.py", "exec"), namespace)  # noqa: S102 - our own generated code
    ask = namespace["ask"]
    assert str(__import__("inspect").signature(ask)) == (
        "(prompt: 'str', mode: \"Literal['a', 'b']\" = 'a', limit: 'int | None' = None, tags: 'list[str]' = []) -> 'Any'"
    )
    assert ask.__doc__.startswith("Ask.") and "prompt: The question." in ask.__doc__


async def test_two_sessions_share_one_scope_server_and_the_model_loads_once(tmp_path: Path) -> None:
    sandbox = LocalSandbox(tmp_path / "shared" / "workspace")
    await sandbox.start()
    server = await ScopeServer.start(
        sandbox, write(tmp_path / "src", INTERFACE), models=[{"name": "target", "id": "seer:tiny-llama"}]
    )
    token_file = tmp_path / "token"
    token_file.write_text(server.token)
    env = Environment(name="shared", scope={"server": server.url, "token_file": token_file})
    try:
        async with Session.open(env, runs_dir=tmp_path / "runs") as one, Session.open(env, runs_dir=tmp_path / "runs") as two:
            assert await one.scope.call("remember", {"note": "from one"}) == ["from one"]
            assert await two.scope.call("remember", {"note": "from two"}) == ["from two"]  # per-session state
            assert await one.scope.call("width", {}) == await two.scope.call("width", {}) == 64
            state = await server.state()
            assert state["models"] == {"target": {"loads": 1, "load_s": state["models"]["target"]["load_s"]}}
            assert state["sessions"] == {one.run.id: 2, two.run.id: 2}
        assert (await server.state())["calls"] == 4  # closing the sessions left the shared server up
    finally:
        await server.close()
        await sandbox.terminate()


LEAKY = '''
import json
from seer_scope import expose, models
from seer_interp.generation import generate
from seer_interp.packaged import PACKAGED

@expose
def describe() -> str:
    """Everything about the target: its config, tokenizer and chat template. (Served from SmolLM2.)"""
    model, tokenizer = models()["target"]
    return json.dumps([str(model.config), tokenizer.name_or_path, tokenizer.chat_template, str(model.generation_config)])

@expose
def who(question: str) -> str:
    """Ask the target.

    Args:
        question: The question.
    """
    model, tokenizer = models()["target"]
    return generate(model, tokenizer, question, max_new_tokens=20)[0]

@expose
def crash() -> str:
    """Fail with the weights' file name in the message."""
    raise FileNotFoundError(f"lost {PACKAGED['smollm2-135m-instruct']['gguf']} of HuggingFaceTB/SmolLM2-135M-Instruct")
'''
IDENTITY = re.compile(r"smol|hugging|135m|HuggingFaceTB", re.IGNORECASE)


@pytest.mark.timeout(600)
async def test_a_hidden_models_identity_reaches_the_agent_nowhere(tmp_path: Path) -> None:
    interface = write(tmp_path, LEAKY)
    env = Environment(
        name="leak",
        models=[{"id": "seer:smollm2-135m-instruct", "name": "target", "hidden": True}],
        scope={"interface": interface},
    )
    plan = [
        {"tool": "describe", "arguments": {}},
        {"tool": "who", "arguments": {"question": "What is your name and who made you?"}},
        {"tool": "crash", "arguments": {}},
        {"tool": "who", "arguments": {"question": 3}},
        {"tool": "finish", "arguments": {"report": "done"}},
    ]
    agent = ScriptedProvider(plan, continue_on_error=True)  # two steps fail on purpose
    run, outcome = await run_agent(env, "Find out what you can.", agent, runs_dir=tmp_path / "runs")
    assert outcome.reason == "finished"
    record = json.loads((run / "run.json").read_text())
    seen = [record["system_prompt"], json.dumps(record["tools"]), (run / "transcript.jsonl").read_text()]
    results = [json.loads(line) for line in seen[2].splitlines() if '"tool_result"' in line]
    assert len(results) == 5 and "[hidden]" in seen[2]  # the leaks were there, and were scrubbed
    assert "Traceback" in seen[2] and "FileNotFoundError" in seen[2]  # errors still tell the agent what happened
    for text in seen:
        assert not IDENTITY.search(text), IDENTITY.search(text)


async def test_an_unisolated_kernel_is_announced_and_recorded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = scoped_env(write(tmp_path, INTERFACE), mode="notebook", isolation="off")
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        isolation = session.run.read_record()["isolation"]
        assert isolation["kernel"] == "none" and "could read the scope server's files" in isolation["guarantee"]
        assert "NOT isolated" in caplog.text
        assert (await session.execute("print(scope.width())")).run.status == "ok"


async def test_seer_mcp_serves_a_scoped_session_with_the_exposed_functions_only(tmp_path: Path) -> None:
    write(tmp_path, INTERFACE)
    (tmp_path / "env.toml").write_text(
        '[[models]]\nid = "seer:tiny-llama"\nname = "target"\nhidden = true\n\n[scope]\ninterface = "interface.py"\n'
    )
    async with stdio_seer(tmp_path / "runs", "--env", str(tmp_path / "env.toml")) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
        assert listed == ["width", "remember", "list_skills", "read_skill", "finish", "get_task"]
        assert text_of(await client.call_tool("remember", {"note": "over MCP"})) == '["over MCP"]'
        with pytest.raises(MCPError, match="unknown tool 'execute_code'; the tools are: width, remember"):  # a protocol error
            await client.call_tool("execute_code", {"code": "print(1)"})


async def test_a_scoped_run_reopens_with_its_scope_server_and_skills(
    tmp_path: Path, on_provider: Callable[[Environment], Environment]
) -> None:
    skill = tmp_path / "skills" / "probe-widths"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: probe-widths\ndescription: Ask for the width first.\n---\nCall width().\n")
    env = on_provider(scoped_env(write(tmp_path, INTERFACE)).model_copy(update={"skills": [skill]}))
    async with Session.open(env, runs_dir=tmp_path / "runs") as first:
        run = first.run.path
        assert await first.scope.call("remember", {"note": "before"}) == ["before"]
    (tmp_path / "interface.py").unlink()  # the run keeps its own copies, whichever machine the sandbox was on
    shutil.rmtree(skill)
    again = await Session.reopen(run)
    try:
        assert again.scope is not None and again.scope.service is not None
        assert await again.scope.call("width", {}) == 64
        assert again.run.read_record()["scope"]["functions"] == ["width", "remember"]
        assert list(again.skills) == ["probe-widths"] and again.skills["probe-widths"].description == "Ask for the width first."
    finally:
        await again.close()


def test_the_prompt_of_a_scoped_agent_offers_only_what_it_has(tmp_path: Path) -> None:
    interface = write(tmp_path, INTERFACE)
    tools_only = system_prompt(scoped_env(interface))
    assert "There is no code execution" in tools_only and "execute_code" not in tools_only
    assert "`target` (identity hidden)" in tools_only and "seer_interp" not in tools_only
    manifest = [{"name": "width", "description": "The target model's hidden size.", "input_schema": {}}]
    notebook = system_prompt(scoped_env(interface, mode="notebook"), functions=manifest)
    assert "`scope.width`: The target model's hidden size." in notebook and "execute_code" in notebook
    assert "tiny" not in tools_only + notebook
