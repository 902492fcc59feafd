"""Compaction when the context overflows; the system prompt and what it may reveal."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.agent.budget import Budget
from seer.agent.messages import Message, Text, ToolCall, TurnRequest, TurnResponse
from seer.agent.runner import run_agent
from seer.cli import app
from seer.environment import Environment
from seer.errors import ContextTooLong
from seer.prompt import system_prompt, toolkit_sheet
from seer.record.transcript import read_events

pytestmark = pytest.mark.anyio


class SmallContext:
    """A model whose context holds 9 messages; it asks for 6 cells, then finishes."""

    name = "test"
    model = "small-context"

    def __init__(self) -> None:
        self.cells = 0
        self.sizes: list[int] = []

    async def aclose(self) -> None: ...

    async def turn(self, request: TurnRequest) -> TurnResponse:
        if not request.tools:  # the loop's summary request
            return TurnResponse(Message("assistant", [Text("Defined x0..x3; all cells ran fine.")]))
        if len(request.messages) > 9:
            raise ContextTooLong("prompt is too long")
        self.sizes.append(len(request.messages))
        if self.cells == 6:
            return TurnResponse(Message("assistant", [ToolCall("f", "finish", {"report": "done"})]))
        self.cells += 1
        return TurnResponse(Message("assistant", [ToolCall(f"c{self.cells}", "execute_code", {"code": f"x{self.cells} = {self.cells}"})]))


async def test_an_overflowing_conversation_is_summarised_and_the_run_goes_on(tmp_path: Path) -> None:
    model = SmallContext()
    run, outcome = await run_agent(Environment(), "Define variables.", model, budget=Budget(cost_usd=None), runs_dir=tmp_path)
    assert outcome.reason == "finished" and max(model.sizes) <= 9
    compactions = [e for e in read_events(run / "transcript.jsonl") if e["kind"] == "compaction"]
    assert compactions and all(c["summary"] == "Defined x0..x3; all cells ran fine." for c in compactions)
    assert all(c["replaced_messages"] >= 2 for c in compactions)


def test_a_hidden_model_is_named_only_by_its_variable() -> None:
    env = Environment.from_dict(
        {"models": [{"id": "secret-org/organism-7b", "name": "target", "hidden": True, "adapter": "secret-org/lora"},
                    {"id": "gpt2", "name": "reference"}]}  # fmt: skip
    )
    prompt = system_prompt(env)
    assert "`target` with `target_tokenizer` (identity hidden)" in prompt and "`reference` with `reference_tokenizer`: gpt2" in prompt
    assert "`seer_interp`" in prompt
    assert "secret-org" not in prompt and "organism" not in prompt


def test_seer_prompt_prints_the_system_prompt_and_its_sections_switch_off(tmp_path: Path) -> None:
    env = tmp_path / "env.toml"
    env.write_text('[[models]]\nid = "gpt2"\nname = "lm"\n')
    full = CliRunner().invoke(app, ["prompt", str(env)])
    bare = CliRunner().invoke(app, ["prompt", str(env), "--no-methodology", "--no-style-guide"])
    assert full.output.strip() == system_prompt(Environment.from_toml(env)).strip()
    assert "## How to work" in full.output and "## Code style" in full.output
    assert "## How to work" not in bare.output and "## Code style" not in bare.output and "`lm` with `lm_tokenizer`: gpt2" in bare.output


def test_skills_libraries_and_the_toolkit_are_equipped_from_the_command_line(tmp_path: Path) -> None:
    env = tmp_path / "env.toml"
    env.write_text('[[models]]\nid = "gpt2"\nname = "lm"\n')
    own = tmp_path / "mine"
    own.mkdir()
    (own / "SKILL.md").write_text("---\nname: mine\ndescription: My own procedure.\n---\nDo it.\n")
    (tmp_path / "helpers.py").write_text('"""Helpers for the probe."""\n')
    args = ["prompt", str(env), "--skill", "steering", "--skill", str(own), "--library", str(tmp_path / "helpers.py")]
    equipped = CliRunner().invoke(app, [*args, "--no-toolkit"])
    assert equipped.exit_code == 0, equipped.output
    assert "`steering`: " in equipped.output and "`mine`: My own procedure." in equipped.output
    assert "`helpers`: Helpers for the probe." in equipped.output and "seer_interp" not in equipped.output
    assert "seer_interp" in CliRunner().invoke(app, args).output
    missing = CliRunner().invoke(app, ["prompt", str(env), "--skill", "steerin"])
    assert missing.exit_code == 2 and "'steerin' is neither a folder with a SKILL.md nor a packaged skill" in missing.output
    twice = CliRunner().invoke(app, ["prompt", str(env), "--skill", "steering", "--skill", "steering"])
    assert twice.exit_code == 2 and "two skills are named 'steering'" in twice.output
    listing = CliRunner().invoke(app, ["skills"])
    assert "steering" in listing.output and "notebook-practice" in listing.output


def test_the_toolkit_cheat_sheet_lists_every_public_name_as_the_code_defines_it() -> None:
    """The sheet is read from the source; checked here against the imported toolkit itself."""
    import inspect

    import seer.interp as toolkit

    sheet = toolkit_sheet().splitlines()
    public = [name for name in toolkit.__all__ if not name.startswith("_")]
    assert len(sheet) == 1 + len(public)
    for name, line in zip(public, sheet[1:], strict=True):
        thing = getattr(toolkit, name)
        if inspect.isclass(thing):
            assert line.startswith(f"- `class {name}`: ")
            continue
        shown = line.split("`")[1]
        assert shown.startswith(f"{name}(")
        parameters = [p.split("=")[0].strip().lstrip("*") for p in shown[len(name) + 1 : -1].split(", ") if p.strip() not in ("*", "/")]
        assert parameters == list(inspect.signature(thing).parameters), (name, shown)
        assert line.split("`: ", 1)[1] == " ".join(inspect.getdoc(thing).split("\n\n")[0].split())[: len(line.split("`: ", 1)[1])]
    assert toolkit_sheet() in system_prompt(Environment(models=[{"name": "model", "id": "seer:tiny-gpt2"}]))
