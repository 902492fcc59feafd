"""`seer skills` lists the packaged skills; `seer skills export DIR` writes them as Claude Code reads skills."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

from seer.cli import app
from seer.skills import packaged_skills

runner = CliRunner()


def front_matter(skill_md: Path) -> dict[str, str]:
    head, sep, _ = skill_md.read_text().removeprefix("---\n").partition("\n---\n")
    assert skill_md.read_text().startswith("---\n") and sep, f"{skill_md}: no front matter"
    return yaml.safe_load(head)


def test_every_packaged_skill_is_exported_with_claude_code_front_matter(tmp_path: Path) -> None:
    result = runner.invoke(app, ["skills", "export", str(tmp_path / "skills")])
    assert result.exit_code == 0, result.output
    for name, skill in packaged_skills().items():
        exported = tmp_path / "skills" / name / "SKILL.md"
        assert front_matter(exported) == {"name": name, "description": skill.description}
        body = exported.read_text().partition("\n---\n")[2]
        assert body.strip() and (skill.path / "SKILL.md").read_text().endswith(body)


def test_a_skill_without_front_matter_gets_one_and_keeps_its_files(tmp_path: Path) -> None:
    own = tmp_path / "my-probe"
    (own / "data").mkdir(parents=True)
    (own / "SKILL.md").write_text("# Probe\n\nFit a probe: then test it.\n")
    (own / "data" / "prompts.txt").write_text("hello\n")
    result = runner.invoke(app, ["skills", "export", str(tmp_path / "out"), "--skill", str(own), "--skill", "steering"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["my-probe", "steering"]
    assert front_matter(tmp_path / "out" / "my-probe" / "SKILL.md") == {"name": "my-probe", "description": "Fit a probe: then test it."}
    assert (tmp_path / "out" / "my-probe" / "SKILL.md").read_text().endswith("\n---\n# Probe\n\nFit a probe: then test it.\n")
    assert (tmp_path / "out" / "my-probe" / "data" / "prompts.txt").read_text() == "hello\n"


def test_an_existing_skill_folder_is_replaced_only_with_force(tmp_path: Path) -> None:
    (tmp_path / "steering").mkdir()
    (tmp_path / "steering" / "stale.md").write_text("old")
    refused = runner.invoke(app, ["skills", "export", str(tmp_path), "--skill", "steering"])
    assert refused.exit_code != 0 and "exists; replace it with --force" in refused.output
    forced = runner.invoke(app, ["skills", "export", str(tmp_path), "--skill", "steering", "--force"])
    assert forced.exit_code == 0, forced.output
    assert sorted(p.name for p in (tmp_path / "steering").iterdir()) == ["SKILL.md"]


def test_an_unknown_skill_or_a_name_claude_code_refuses_is_an_error(tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["skills", "export", str(tmp_path), "--skill", "steerin"])
    assert unknown.exit_code != 0 and "'steerin' is neither a folder with a SKILL.md nor a packaged skill" in unknown.output
    odd = tmp_path / "Odd_Name"
    odd.mkdir()
    (odd / "SKILL.md").write_text("Do it.\n")
    refused = runner.invoke(app, ["skills", "export", str(tmp_path / "out"), "--skill", str(odd)])
    assert refused.exit_code != 0 and "Claude Code takes lowercase letters, digits and '-'" in refused.output


def test_bare_seer_skills_still_lists_them() -> None:
    listing = runner.invoke(app, ["skills"])
    assert listing.exit_code == 0 and all(name in listing.output for name in packaged_skills())
