import subprocess
import sys
from types import ModuleType

import seer


def test_all_lists_every_public_name_and_nothing_else() -> None:
    names = {n for n, v in vars(seer).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert set(seer.__all__) == names
    assert seer.__all__ == sorted(seer.__all__, key=str.casefold)


def test_importing_seer_does_not_load_the_mcp_server_or_the_web_stack() -> None:
    code = "import sys, seer; print(sorted(m for m in ('mcp', 'uvicorn', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
