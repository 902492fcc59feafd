"""The `seer` command as a user runs it: help, errors without tracebacks, doctor, demo."""

import json
from pathlib import Path

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
