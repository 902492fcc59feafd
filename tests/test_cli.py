"""The `seer` command as a user runs it: help, errors without tracebacks, doctor, demo."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seer.cli import app

runner = CliRunner()


def test_help_explains_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("mcp", "demo", "doctor"):
        assert command in result.output
    assert "--transport" in runner.invoke(app, ["mcp", "--help"]).output


def test_a_bad_environment_file_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "env.toml"
    bad.write_text('nmae = "x"\n')
    result = runner.invoke(app, ["mcp", "--env", str(bad)])
    assert result.exit_code == 2
    assert "unknown field; did you mean 'name'?" in result.output and "Traceback" not in result.output
    wrong = runner.invoke(app, ["mcp", "--transport", "carrier-pigeon"])
    assert wrong.exit_code == 2 and "use `stdio` or `http`" in wrong.output


def test_print_config_names_the_environment_file(tmp_path: Path) -> None:
    env = tmp_path / "env.toml"
    env.write_text('name = "probe"\n')
    result = runner.invoke(app, ["mcp", "--env", str(env), "--print-config"])
    entry = json.loads(result.output)["mcpServers"]["seer"]
    assert entry["args"][-2:] == ["--env", str(env.resolve())]


def test_doctor_checks_a_real_kernel_and_an_mcp_round_trip() -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "✓ MCP round trip: execute_code('1 + 1') returned 2" in result.output
    assert "✓ kernels are confined by bubblewrap" in result.output


def test_resume_says_why_a_run_without_an_agent_cannot_continue(tmp_path: Path) -> None:
    from seer.run import RunDir

    mcp = RunDir.create(tmp_path, "mcp", {})
    mcp.update_record(argv=["seer", "mcp"], status="closed")
    started = RunDir.create(tmp_path, "dead", {})
    started.update_record(status="starting", pid=2**22 + 1)
    said = [runner.invoke(app, ["resume", str(run.path)]) for run in (mcp, started)]
    assert [r.exit_code for r in said] == [2, 2] and "needs a model" not in "".join(r.output for r in said)
    assert "was a `seer mcp` session: its agent was the MCP client" in said[0].output.replace("\n", " ")
    assert "stopped during start-up (status 'starting')" in said[1].output.replace("\n", " ")


def test_doctor_checks_a_provider_and_says_what_to_fix_within_seconds(monkeypatch: pytest.MonkeyPatch, jupyter_server: tuple[str, str]) -> None:
    url, token = jupyter_server
    monkeypatch.setenv("SEER_DOCTOR_TOKEN", token)
    good = runner.invoke(app, ["doctor", "--provider", "jupyter", "--url", url, "--token-env", "SEER_DOCTOR_TOKEN"])
    assert good.exit_code == 0 and "✓ jupyter is reachable and accepts the credentials" in good.output
    monkeypatch.setenv("SEER_DOCTOR_TOKEN", "wrong")
    wrong = runner.invoke(app, ["doctor", "--provider", "jupyter", "--url", url, "--token-env", "SEER_DOCTOR_TOKEN"])
    assert wrong.exit_code == 1 and "refused the token" in wrong.output
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    unset = runner.invoke(app, ["doctor", "--provider", "jupyter", "--url", url])
    assert unset.exit_code == 1 and "$JUPYTER_TOKEN is not set" in unset.output
    no_url = runner.invoke(app, ["doctor", "--provider", "jupyter"])
    assert no_url.exit_code == 2 and "needs `url`" in no_url.output
    for name in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "MODAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")  # no ~/.modal.toml
    modal = runner.invoke(app, ["doctor", "--provider", "modal"])
    assert modal.exit_code == 1 and "modal token new" in modal.output
    leftovers = runner.invoke(app, ["sandboxes"])
    assert leftovers.exit_code == 2 and "modal token new" in leftovers.output
