import asyncio
from pathlib import Path

import pytest

from seer.errors import SandboxError
from seer.sandbox.local import LocalSandbox

pytestmark = pytest.mark.anyio


async def test_files_round_trip_and_folders_upload(tmp_path: Path) -> None:
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    await sandbox.write_file("a/b.bin", b"\x00\x01")
    assert await sandbox.read_file("a/b.bin") == b"\x00\x01"
    source = tmp_path / "folder"
    (source / "inner").mkdir(parents=True)
    (source / "inner" / "f.txt").write_text("hi")
    await sandbox.upload(source, "copied")
    assert (tmp_path / "ws" / "copied" / "inner" / "f.txt").read_text() == "hi"
    with pytest.raises(SandboxError, match="could not read 'absent.txt' in the workspace"):
        await sandbox.read_file("absent.txt")


async def test_exec_runs_in_the_workspace_and_a_timeout_kills_the_children_too(tmp_path: Path) -> None:
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    done = await sandbox.exec(["sh", "-c", "pwd; echo err >&2; exit 3"])
    assert (done.exit_code, done.stdout.strip(), done.stderr.strip()) == (3, str(tmp_path / "ws"), "err")
    slow = await sandbox.exec(["sh", "-c", "sleep 30 & echo $! > child.pid; wait"], timeout_s=0.5)
    assert slow.timed_out
    child = int((tmp_path / "ws" / "child.pid").read_text())
    await asyncio.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    with pytest.raises(SandboxError, match="could not run 'no-such-program'"):
        await sandbox.exec(["no-such-program"])


async def test_the_kernel_gets_only_harmless_host_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    kernel = await sandbox.start_kernel(env={"EXTRA": "1"}, start_timeout_s=30)
    try:
        run = await kernel.execute("import os\nprint(os.environ.get('OPENAI_API_KEY'), os.environ['EXTRA'])", timeout_s=10)
    finally:
        await sandbox.terminate()
        await sandbox.terminate()  # twice is harmless
    assert run.outputs[0]["text"] == "None 1\n"
