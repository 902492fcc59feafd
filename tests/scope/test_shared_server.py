"""`seer scope serve` as a real process: sessions join it from their environment, and it stops cleanly."""

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.session import Session

pytestmark = pytest.mark.anyio

INTERFACE = '''
from seer_scope import expose, models

@expose
def layers() -> int:
    """How many decoder layers the target has."""
    return models()["target"][0].config.num_hidden_layers
'''


async def test_seer_scope_serve_is_joined_by_sessions_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "interface.py").write_text(INTERFACE)
    (tmp_path / "env.toml").write_text(
        '[[models]]\nid = "seer:tiny-llama"\nname = "target"\n\n[scope]\ninterface = "interface.py"\n'
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "seer", "scope", "serve", "--env", str(tmp_path / "env.toml"), "--dir", str(tmp_path / "shared"),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        printed = ""
        async with asyncio.timeout(120):
            while "token_file" not in printed:
                line = await process.stderr.readline()
                assert line, f"seer scope serve exited early:\n{printed}"
                printed += line.decode()
        url = re.search(r'server = "(.+?)"', printed).group(1)
        token_file = Path(re.search(r'token_file = "(.+?)"', printed).group(1))
        env = Environment(name="joins", scope={"server": url, "token_file": token_file})
        async with Session.open(env, runs_dir=tmp_path / "runs") as session:
            assert await session.scope.call("layers", {}) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await process.wait() == 0
