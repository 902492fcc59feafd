"""The notebook tools called in-process, as our own agent loop calls them."""

from collections.abc import Callable
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.session import Session
from seer.tools.base import ToolContext
from seer.tools.notebook import notebook_tools
from tests.helpers import cell_text, read_valid_notebook

pytestmark = pytest.mark.anyio
OnProvider = Callable[[Environment], Environment]


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """Every test here runs on each provider: this machine, a Jupyter server, a Ray cluster."""
    return parametrized_provider


async def call(session: Session, tool: str, **arguments: object):  # type: ignore[no-untyped-def]
    return await notebook_tools.call(tool, arguments, ToolContext(session, call_id=f"call-{tool}"))


async def test_edit_cell_reruns_in_place_and_replaces_the_outputs(session: Session) -> None:
    await call(session, "execute_code", code="print('v1')")
    await call(session, "execute_code", code="print('after')")
    edited = await call(session, "edit_cell", index=0, source="print('v2')")
    assert edited.text.startswith("[cell 0 · ok") and edited.text.endswith("v2\n")
    notebook = read_valid_notebook(session.run.notebook_path)
    assert [cell_text(c) for c in notebook.cells] == ["v2\n", "after\n"]
    assert notebook.cells[0].metadata.seer.edited is True
    assert notebook.cells[0].metadata.seer.tool_call_id == "call-edit_cell"


async def test_markdown_cells_are_inserted_edited_and_shown(session: Session) -> None:
    await call(session, "execute_code", code="1 + 1")
    assert (await call(session, "add_markdown", source="# Plan")).text == "Markdown cell 1 added."
    assert (await call(session, "add_markdown", source="Intro", index=0)).text == "Markdown cell 0 added."
    await call(session, "edit_cell", index=2, source="# Better plan")
    refused = await call(session, "edit_cell", index=1, source="2", run=False)
    assert refused.is_error and "pass run=true" in refused.text
    shown = (await call(session, "read_notebook")).text
    assert shown.splitlines()[0] == "3 cell(s). Showing 0 to 2."
    assert "--- [0] markdown\nIntro" in shown and "--- [1] code · ok · exec 1\n1 + 1\n→ 2" in shown
    assert "--- [2] markdown\n# Better plan" in shown
    notebook = read_valid_notebook(session.run.notebook_path)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code", "markdown"]


async def test_an_edit_that_lands_on_a_moved_cell_still_finds_it(session: Session) -> None:
    await call(session, "execute_code", code="print('x')")
    await call(session, "add_markdown", source="before", index=0)
    rerun = await call(session, "edit_cell", index=1, source="print('y')")
    assert rerun.text.endswith("y\n")
    assert cell_text(read_valid_notebook(session.run.notebook_path).cells[1]) == "y\n"


async def test_skills_are_listed_and_read_and_unknown_ones_are_named(tmp_path: Path, on_provider: OnProvider) -> None:
    skill = tmp_path / "steer"
    skill.mkdir()
    (skill / "SKILL.md").write_text("# Steering\nAdd a vector to the residual stream.\n")
    (skill / "recipe.py").write_text("STRENGTH = 4\n")
    async with Session.open(on_provider(Environment(skills=[skill])), runs_dir=tmp_path / "runs") as session:
        listed = await call(session, "list_skills")
        body = await call(session, "read_skill", name="steer")
        extra = await call(session, "read_skill", name="steer", file="recipe.py")
        unknown = await call(session, "read_skill", name="stear")
        escape = await call(session, "read_skill", name="steer", file="../../run.json")
    assert listed.text.endswith("- steer: Add a vector to the residual stream.")
    assert body.text.startswith("# Steering") and extra.text == "STRENGTH = 4\n"
    assert unknown.is_error and "there is no skill 'stear'; the skills are: steer" in unknown.text
    assert escape.is_error and "its files are: SKILL.md, recipe.py" in escape.text


async def test_finish_records_the_report_and_refuses_an_empty_one(session: Session) -> None:
    empty = await call(session, "finish", report="  ")
    assert empty.is_error and "the report is empty" in empty.text
    done = await call(session, "finish", report="# Found\nIt is 42 (cell 0).")
    assert done.text == "Report recorded. The investigation is finished."
    assert (session.run.path / "report.md").read_text() == "# Found\nIt is 42 (cell 0)."
    assert session.run.read_record()["status"] == "finished"


async def test_a_timeout_that_is_not_a_finite_positive_number_is_refused_before_anything_runs(session: Session) -> None:
    for bad in (0, -1, float("nan"), float("inf"), 1e308):
        refused = await call(session, "execute_code", code="print(1)", timeout_s=bad)
        assert refused.is_error and "timeout_s must be a number of seconds above 0 and at most 604800" in refused.text, bad
    assert session.notebook.cells == []


async def test_interrupt_with_nothing_running_says_so(session: Session) -> None:
    assert (await call(session, "interrupt_kernel")).text == "No cell was running; nothing to interrupt."
    assert (await call(session, "list_skills")).text == "This session has no skills."


async def test_restart_kernel_loses_variables_and_keeps_the_notebook(session: Session) -> None:
    await call(session, "execute_code", code="z = 3")
    assert (await call(session, "restart_kernel")).text.startswith("The kernel restarted")
    after = await call(session, "execute_code", code="z")
    assert after.is_error and "NameError" in after.text
    assert len(read_valid_notebook(session.run.notebook_path).cells) == 2
