"""Scoped sessions: schemas from hints, a real scope server process on loopback, tools built from it."""

import time
from pathlib import Path
from typing import Literal

import httpx2
import pytest
from pydantic import BaseModel

from seer.errors import SandboxError
from seer.sandbox.local import LocalSandbox
from seer.scope.client import ScopeServer
from seer.scope.schema import function_schema, type_schema
from seer.tools.base import ToolContext
from seer.tools.scoped import scoped_tools

pytestmark = pytest.mark.anyio

INTERFACE = '''
import torch
from seer_scope import expose

@expose
def scale(values: list[float], factor: float = 2.0) -> torch.Tensor:
    """Multiply numbers.

    Args:
        values: The numbers.
        factor: What to multiply by.
    """
    return torch.tensor(values) * factor

@expose
def fail(reason: str) -> str:
    """Raise an error.

    Args:
        reason: The message.
    """
    raise ValueError(reason)

@expose
def opaque() -> object:
    """Return something with no JSON form."""
    return object()
'''


class Point(BaseModel):
    x: int
    y: int


def test_schemas_cover_every_supported_type() -> None:
    def probe(a: str, b: int | None, c: list[float], d: dict[str, int], e: Literal["x", "y"], f: Point, g: bool = True) -> None:
        """Probe.

        Args:
            a: A.
            b: B.
            c: C.
            d: D.
            e: E.
            f: F.
            g: G.
        """

    props = function_schema(probe)["input_schema"]["properties"]
    assert props["a"]["type"] == "string" and props["b"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert props["c"]["items"] == {"type": "number"} and props["d"]["additionalProperties"] == {"type": "integer"}
    assert props["e"]["enum"] == ["x", "y"] and props["f"]["properties"]["x"]["type"] == "integer"
    assert props["g"]["default"] is True and function_schema(probe)["input_schema"]["required"] == list("abcdef")
    with pytest.raises(TypeError, match="has no JSON form"):
        type_schema(set[complex])


async def test_a_scope_server_serves_exposed_functions_with_clear_errors(tmp_path: Path) -> None:
    interface = tmp_path / "interface.py"
    interface.write_text(INTERFACE)
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    server = await ScopeServer.start(sandbox, interface)
    try:
        assert await server.call("scale", {"values": [1, 2.5]}) == [2.0, 5.0]  # a tensor comes back as a list
        tools = await scoped_tools(server)
        assert tools.names() == ["scale", "fail", "opaque"]
        ctx = ToolContext(session=None)  # type: ignore[arg-type]
        bad = await tools.call("scale", {"values": "nope", "extra": 1}, ctx)
        assert bad.is_error and "unknown argument 'extra'" in bad.text and "'values' should be array" in bad.text
        raised = await tools.call("fail", {"reason": "boom"}, ctx)
        assert raised.is_error and "ValueError: boom" in raised.text and "Traceback" in raised.text
        opaque = await tools.call("opaque", {}, ctx)
        assert opaque.is_error and "opaque returned something with no JSON form" in opaque.text
        assert (await tools.call("scale", {"values": [1.5], "factor": 3}, ctx)).text == "[4.5]"  # still up
        async with httpx2.AsyncClient() as anonymous:
            assert (await anonymous.get(f"{server.url}/manifest")).status_code == 401
        assert (await server.state())["calls"] == 4  # the call with bad arguments never ran
    finally:
        await server.close()
        await sandbox.terminate()


async def test_an_interface_that_fails_at_import_fails_start_at_once_with_its_traceback(tmp_path: Path) -> None:
    interface = tmp_path / "interface.py"
    interface.write_text("raise RuntimeError('interface is broken')\n")
    sandbox = LocalSandbox(tmp_path / "ws")
    await sandbox.start()
    began = time.monotonic()
    with pytest.raises(SandboxError, match="(?s)stopped during start-up.*RuntimeError: interface is broken"):
        await ScopeServer.start(sandbox, interface)
    assert time.monotonic() - began < 30
    await sandbox.terminate()
