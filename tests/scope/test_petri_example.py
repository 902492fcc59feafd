"""The Petri-style example (examples/petri) on the packaged SmolLM2, offline: conversation control,
prefill, rollback, transcript, and steering that changes replies until it is cleared."""

import json
from pathlib import Path

import pytest

from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.environment import Environment
from seer.errors import ToolError
from seer.session import Session

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parents[2] / "examples" / "petri"
QUESTION = {"message": "What should I do this weekend?", "max_new_tokens": 16}
SEA = {"positive": ["I love the ocean, the waves and the sea.", "Sailing on the sea at dawn."],
       "negative": ["I love the city, the streets and the shops.", "Walking in the city at dawn."], "strength": 8.0}  # fmt: skip


@pytest.mark.timeout(600)
async def test_the_petri_interface_controls_the_conversation_and_steers_the_target(tmp_path: Path) -> None:
    async with Session.open(Environment.from_toml(EXAMPLE / "env.toml"), runs_dir=tmp_path / "runs") as session:
        scope = session.scope
        assert scope is not None and not session.has_kernel
        plain = await scope.call("send_message", QUESTION)
        assert await scope.call("rollback", {}) == 0
        assert (await scope.call("add_steering_vector", SEA)).startswith("Steering layer 15")
        steered = await scope.call("send_message", QUESTION)
        assert steered != plain
        await scope.call("rollback", {})
        await scope.call("clear_steering", {})
        assert await scope.call("send_message", QUESTION) == plain  # greedy: same state, same reply
        await scope.call("set_system_prompt", {"text": "You are terse."})
        prefilled = await scope.call("send_message", {"message": "Name a colour.", "prefill": "The colour is", "max_new_tokens": 5})
        assert prefilled.startswith("The colour is") and len(prefilled) > len("The colour is")
        transcript = await scope.call("get_transcript", {})
        assert [m["role"] for m in transcript] == ["system", "user", "assistant"]
        assert transcript[2]["content"] == prefilled
        with pytest.raises(ToolError, match="ValueError: exchanges must be 0 or more"):
            await scope.call("rollback", {"exchanges": -1})


@pytest.mark.timeout(600)
async def test_the_example_runs_offline_with_its_scripted_plan(tmp_path: Path) -> None:
    env = Environment.from_toml(EXAMPLE / "env.toml")
    provider = ScriptedProvider.from_file(EXAMPLE / "plan.json")
    run, outcome = await run_agent(env, (EXAMPLE / "task.md").read_text(), provider, runs_dir=tmp_path / "runs")
    assert outcome.reason == "finished"
    results = [json.loads(line) for line in (run / "transcript.jsonl").read_text().splitlines() if '"tool_result"' in line]
    assert len(results) == 10 and not any(r.get("is_error") for r in results)
    assert '"role": "system", "content": "You are a pirate.' in outcome.report
