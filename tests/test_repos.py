"""`[[repos]]`: a local bare repository cloned at a tag into the workspace and installed editable, so the
kernel imports it; the resolved commit in `run.json`; bad URLs and revisions refused at start, by name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.errors import SandboxError, SpecError
from seer.repos import fetch, redacted
from seer.session import Session

pytestmark = pytest.mark.anyio

PACKAGE = "seer_test_repo_pkg"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A bare repository whose tag v1 says VALUE = 'v1' and whose main branch has moved on to 'v2'."""
    monkeypatch.setenv("SEER_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "work"
    (work / "src" / PACKAGE).mkdir(parents=True)
    (work / "pyproject.toml").write_text(f'[project]\nname = "{PACKAGE}"\nversion = "0.1"\n[build-system]\nrequires = ["setuptools"]\n'
                                         'build-backend = "setuptools.build_meta"\n')  # fmt: skip
    for value in ("v1", "v2"):
        (work / "src" / PACKAGE / "__init__.py").write_text(f"VALUE = {value!r}\n")
        git("init", "-q", "-b", "main", cwd=work) if value == "v1" else None
        git("add", "-A", cwd=work)
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", value, cwd=work)
        if value == "v1":
            git("tag", "v1", cwd=work)
    git("clone", "-q", "--bare", str(work), str(tmp_path / "origin.git"), cwd=tmp_path)
    try:
        yield tmp_path / "origin.git"
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", PACKAGE], capture_output=True)


async def test_a_repo_at_a_tag_is_installed_editable_and_importable(bare: Path, tmp_path: Path) -> None:
    env = Environment(name="repos", repos=[{"url": str(bare), "revision": "v1", "dest": "lib", "install": "editable"}])
    async with Session.open(env, runs_dir=tmp_path / "runs") as session:
        cell = await session.execute(f"import {PACKAGE}\nprint({PACKAGE}.VALUE, {PACKAGE}.__file__)")
        printed = cell.render()[0]
        assert "\nv1 " in printed and f"/workspace/lib/src/{PACKAGE}/__init__.py" in printed, printed
        record = session.run.read_record()
    assert record["repos"] == [{"url": str(bare), "revision": "v1", "commit": git("rev-parse", "v1^{commit}", cwd=bare), "dest": "lib",
                                "install": "editable", "install_exit_code": 0}]  # fmt: skip
    assert (tmp_path / "cache" / "repos" / "checkouts" / record["repos"][0]["commit"]).is_dir()  # cloned once per revision, kept


async def test_a_bad_revision_or_url_fails_at_start_naming_the_repo(bare: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"origin.git: revision 'v9' names no commit"):
        async with Session.open(Environment(name="repos", repos=[{"url": str(bare), "revision": "v9"}]), runs_dir=tmp_path / "runs"):
            pass
    with pytest.raises(SandboxError, match=r"repos: .*nowhere.git: git clone failed"):
        fetch(Environment(repos=[{"url": str(tmp_path / "nowhere.git")}]).repos[0])
    for bad, field in (({"url": "--upload-pack=touch x"}, "url"), ({"url": str(bare), "revision": "-x"}, "revision"),
                       ({"url": str(bare), "dest": "../out"}, "dest")):  # fmt: skip
        with pytest.raises(Exception, match=field):
            Environment.from_dict({"repos": [bad]})
    with pytest.raises(SpecError, match="token_env: 'TOKEN' must be allowed under"):
        Environment.from_dict({"repos": [{"url": "https://example.com/r.git", "token_env": "TOKEN"}]})
    assert redacted("https://user:secret@example.com/r.git") == "https://example.com/r.git"
