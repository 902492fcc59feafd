"""The anthropic and openai adapters, each with its real SDK client, against a fake server on loopback.

The fake speaks the real wire format; a brain plays the model: it plots, reads the image it gets back,
writes a bug, reads the error, fixes it and finishes.
"""

import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from seer.agent.budget import Budget
from seer.agent.loop import LoopOptions
from seer.agent.providers import make_provider
from seer.agent.runner import run_agent
from seer.record.transcript import read_events
from seer.environment import Environment
from seer.errors import SpecError
from tests.agent.fake_llm import FakeLLM, Reply
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio

ENV = Environment(name="providers", timeouts={"cell_s": 30})
PLOT = "import matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nplt.title('probe')\nplt.show()"


def assistant_turns(api: str, body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


def last_tool_result(api: str, body: dict[str, Any]) -> tuple[str, bool, bool]:
    """(text, is_error, carries an image) of the newest tool result, as the API shapes it."""
    if api == "anthropic":
        block = [b for b in body["messages"][-1]["content"] if b["type"] == "tool_result"][-1]
        text = "".join(part.get("text", "") for part in block["content"])
        return text, block["is_error"], any(part["type"] == "image" for part in block["content"])
    tool = [m for m in body["messages"] if m["role"] == "tool"][-1]
    after = body["messages"][body["messages"].index(tool) + 1 :]
    image = any(p["type"] == "image_url" for m in after for p in m["content"] if isinstance(m["content"], list))
    return tool["content"], tool["content"].startswith("[error]"), image


class Researcher:
    """Plays a model that plots, reads its plot, makes a mistake, fixes it and finishes."""

    def __init__(self) -> None:
        self.saw: dict[str, Any] = {}

    def __call__(self, api: str, body: dict[str, Any]) -> Reply:
        turn = assistant_turns(api, body)
        if turn == 0:
            return Reply("Plotting first.", [("c0", "execute_code", {"code": PLOT})])
        text, is_error, image = last_tool_result(api, body)
        if turn == 1:
            self.saw["image"] = image
            return Reply(tool_calls=[("c1", "execute_code", {"code": "print(total)"})])
        if turn == 2:
            self.saw["error"] = (is_error, "NameError" in text)
            return Reply(tool_calls=[("c2", "execute_code", {"code": "total = 6\nprint(total * 7)"})])
        self.saw["fixed"] = text.rstrip().endswith("42")
        return Reply(tool_calls=[("c3", "finish", {"report": "The total times 7 is 42 (cell 2)."})])


def provider_for(api: str, llm: FakeLLM, model: str = "claude-sonnet-4-6"):  # type: ignore[no-untyped-def]
    if api == "anthropic":
        return make_provider("anthropic", model, base_url=llm.url, api_key_env="SEER_TEST_KEY")
    return make_provider("openai", "gpt-4o", base_url=llm.url + "/v1", api_key_env="SEER_TEST_KEY")


@pytest.fixture(autouse=True)
def test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEER_TEST_KEY", "sk-test-not-a-secret")


@pytest.mark.parametrize("api", ["anthropic", "openai"])
async def test_a_model_plots_sees_the_image_fixes_an_error_and_finishes(tmp_path: Path, api: str) -> None:
    brain = Researcher()
    async with FakeLLM(brain) as llm, aclosing(provider_for(api, llm)) as provider:
        run, outcome = await run_agent(ENV, "Find the total.", provider, runs_dir=tmp_path)
    assert outcome.reason == "finished" and outcome.report == "The total times 7 is 42 (cell 2)."
    assert brain.saw == {"image": True, "error": (True, True), "fixed": True}

    notebook = read_valid_notebook(run / "notebook.ipynb")
    assert [c.metadata.seer.status for c in notebook.cells] == ["ok", "error", "ok"]
    assert "image/png" in notebook.cells[0].outputs[0].data and cell_text(notebook.cells[2]) == "42\n"
    assert [c.metadata.seer.tool_call_id for c in notebook.cells] == ["c0", "c1", "c2"]

    events = read_events(run / "transcript.jsonl")
    results = [e for e in events if e["kind"] == "tool_result"]
    assert (run / results[0]["images"][0]).read_bytes().startswith(b"\x89PNG")
    assert results[1]["is_error"] and "NameError" in results[1]["text"]
    turns = [e for e in events if e["kind"] == "model_turn"]
    assert [t["tool_calls"][0]["name"] for t in turns] == ["execute_code"] * 3 + ["finish"]
    assert turns[-1]["spent"]["turns"] == 4 and turns[-1]["usage"]["output_tokens"] == 20


@pytest.mark.parametrize("api", ["anthropic", "openai"])
async def test_the_recorded_manifest_and_prompt_are_what_the_provider_was_sent(tmp_path: Path, api: str) -> None:
    finish = Reply(tool_calls=[("f", "finish", {"report": "r"})])
    async with FakeLLM(lambda api, body: finish) as llm, aclosing(provider_for(api, llm)) as provider:
        run, _ = await run_agent(ENV, "Task text.", provider, runs_dir=tmp_path)
    record = json.loads((run / "run.json").read_text())
    _, body = llm.requests[0]
    if api == "anthropic":
        sent_tools = [{k: v for k, v in t.items() if k != "cache_control"} for t in body["tools"]]
        sent_system = body["system"][0]["text"]
        assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}  # prompt caching
    else:
        sent_tools = [
            {"name": t["function"]["name"], "description": t["function"]["description"], "input_schema": t["function"]["parameters"]}
            for t in body["tools"]
        ]
        sent_system = body["messages"][0]["content"]
    assert sent_tools == record["tools"] and sent_system == record["system_prompt"]
    assert record["agent"] == {**record["agent"], "provider": api}


async def test_rate_limits_and_overload_are_retried_and_recorded(tmp_path: Path) -> None:
    brain = lambda api, body: Reply(tool_calls=[("f", "finish", {"report": "r"})])  # noqa: E731
    async with FakeLLM(brain, failures=[429, 529, 500]) as llm, aclosing(provider_for("anthropic", llm)) as provider:
        run, outcome = await run_agent(ENV, "Task.", provider, options=LoopOptions(backoff_s=0.01), runs_dir=tmp_path)
    assert outcome.reason == "finished"
    retries = [e for e in read_events(run / "transcript.jsonl") if e["kind"] == "retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3]
    assert "rate limited" in retries[0]["error"] and "HTTP 529" in retries[1]["error"]


async def test_a_non_retryable_error_stops_the_run_with_the_reason(tmp_path: Path) -> None:
    async with FakeLLM(lambda api, body: Reply(), failures=[401]) as llm, aclosing(provider_for("openai", llm)) as provider:
        run, outcome = await run_agent(ENV, "Task.", provider, runs_dir=tmp_path)
    assert outcome.reason == "error" and "HTTP 401" in outcome.detail
    assert json.loads((run / "run.json").read_text())["stop"]["reason"] == "error"


def budget_brain(api: str, body: dict[str, Any]) -> Reply:
    last = body["messages"][-1]
    content = last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])
    if "budget is exhausted" in content:
        return Reply(tool_calls=[("fin", "finish", {"report": "final report under budget"})], input_tokens=1000, output_tokens=100)
    turn = assistant_turns(api, body)
    return Reply(tool_calls=[(f"c{turn}", "execute_code", {"code": f"print({turn})"})], input_tokens=1000, output_tokens=100)


@pytest.mark.parametrize(
    ("budget", "limit", "turns_before_limit"),
    [(Budget(tokens=2500, cost_usd=None), "tokens", 3), (Budget(cost_usd=0.01), "cost_usd", 3)],
    ids=["tokens", "cost"],
)
async def test_token_and_cost_budgets_stop_the_run_with_a_final_report(
    tmp_path: Path, budget: Budget, limit: str, turns_before_limit: int
) -> None:
    async with FakeLLM(budget_brain) as llm, aclosing(provider_for("anthropic", llm)) as provider:
        run, outcome = await run_agent(ENV, "Work.", provider, budget=budget, runs_dir=tmp_path)
    assert (outcome.reason, outcome.limit, outcome.report) == ("budget", limit, "final report under budget")
    events = read_events(run / "transcript.jsonl")
    turns = [e for e in events if e["kind"] == "model_turn"]
    assert len(turns) == turns_before_limit + 1
    assert turns[0]["cost_usd"] == pytest.approx(0.0045)  # 1000 in at $3/M + 100 out at $15/M, from genai-prices
    record = json.loads((run / "run.json").read_text())
    assert record["stop"]["limit"] == limit and record["spent"]["tokens"] == 4400


async def test_a_cost_budget_on_an_unpriced_model_is_refused_before_anything_starts(tmp_path: Path) -> None:
    async with FakeLLM(lambda api, body: Reply()) as llm:
        provider = make_provider("openai", "my-local-model", base_url=llm.url + "/v1", api_key_env=None)
        async with aclosing(provider):
            with pytest.raises(SpecError, match="no price is known for openai model 'my-local-model'"):
                await run_agent(ENV, "Work.", provider, budget=Budget(cost_usd=1.0), runs_dir=tmp_path)
    assert not any(tmp_path.iterdir())


async def test_the_harness_api_key_never_reaches_the_kernel_notebook_or_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-ant-api03-SEER-SECRET-9f8e7d"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    probe = "import os\nprint(sorted(os.environ))\nprint({k: v for k, v in os.environ.items() if 'KEY' in k})"
    steps = iter([Reply(tool_calls=[("p", "execute_code", {"code": probe})]), Reply(tool_calls=[("f", "finish", {"report": "r"})])])
    async with FakeLLM(lambda api, body: next(steps)) as llm:
        async with aclosing(make_provider("anthropic", "claude-sonnet-4-6", base_url=llm.url)) as provider:
            run, _ = await run_agent(ENV, "Look around.", provider, runs_dir=tmp_path)
    assert "ANTHROPIC_API_KEY" not in cell_text(read_valid_notebook(run / "notebook.ipynb").cells[0])
    for path in run.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="ignore"), path
