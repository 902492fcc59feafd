import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from seer.environment import Environment
from seer.kernel import Kernel
from seer.sandbox.providers import make_sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture
def provider(parametrized_provider: str) -> str:
    """Every test here runs on each provider: this machine, a Jupyter server, a Ray cluster."""
    return parametrized_provider


@pytest.fixture
async def kernel(tmp_path: Path, on_provider: Callable[[Environment], Environment]) -> AsyncIterator[Kernel]:
    sandbox = make_sandbox(on_provider(Environment()), tmp_path, "kernel-test")
    await sandbox.start()
    started = await sandbox.start_kernel(env={}, start_timeout_s=30)
    yield started
    await sandbox.terminate()


def texts(run) -> str:  # type: ignore[no-untyped-def]
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in run.outputs)


async def test_state_persists_and_results_come_back(kernel: Kernel) -> None:
    await kernel.execute("x = 20", timeout_s=10)
    run = await kernel.execute("print('x is', x)\nx + 22", timeout_s=10)
    assert run.status == "ok" and texts(run) == "x is 20\n42"
    assert run.outputs[-1]["execution_count"] == run.execution_count == 2


async def test_a_cell_past_its_timeout_is_interrupted_and_the_kernel_keeps_its_state(kernel: Kernel) -> None:
    await kernel.execute("kept = 'yes'", timeout_s=10)
    run = await kernel.execute("import time\nprint('before', flush=True)\ntime.sleep(60)", timeout_s=1)
    assert run.status == "timeout" and run.outputs[0]["text"] == "before\n"
    assert run.outputs[-1]["ename"] == "KeyboardInterrupt"
    assert "interrupted" in (run.note or "") and run.duration_s < 5
    assert texts(await kernel.execute("kept", timeout_s=10)) == "'yes'"


async def test_a_cell_that_ignores_interrupts_gets_the_kernel_restarted(kernel: Kernel) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('stubborn', flush=True)\ntime.sleep(60)"
    run = await kernel.execute(code, timeout_s=0.5)
    assert run.status == "timeout" and "restarted" in (run.note or "")
    assert kernel.restarts == 1
    assert (await kernel.execute("1 + 1", timeout_s=10)).status == "ok"


@pytest.mark.parametrize("code", ["import os\nos._exit(1)", "import ctypes\nctypes.string_at(0)"], ids=["exit", "segfault"])
async def test_a_dead_kernel_is_noticed_within_seconds_and_restarted(kernel: Kernel, code: str) -> None:
    await kernel.execute("lost = 1", timeout_s=10)
    run = await kernel.execute(code, timeout_s=60)
    assert run.status == "died" and run.duration_s < 10
    assert "died" in (run.note or "") and "Variables from earlier cells are gone" in (run.note or "")
    after = await kernel.execute("'lost' in dir()", timeout_s=10)
    assert texts(after) == "False"


async def test_interrupt_stops_a_running_cell(kernel: Kernel) -> None:
    seen = asyncio.Event()
    task = asyncio.create_task(
        kernel.execute("import time\nprint('go', flush=True)\ntime.sleep(60)", timeout_s=60, on_output=lambda run: seen.set())
    )
    async with asyncio.timeout(10):
        await seen.wait()
        assert await kernel.interrupt()
        run = await task
    assert run.status == "interrupted"
    assert not await kernel.interrupt()


async def test_concurrent_callers_each_get_their_own_outputs(kernel: Kernel) -> None:
    codes = [f"import time, random\ntime.sleep(random.random() / 50)\nprint('marker-{i}')" for i in range(20)]
    runs = await asyncio.gather(*(kernel.execute(code, timeout_s=30) for code in codes))
    assert [texts(run) for run in runs] == [f"marker-{i}\n" for i in range(20)]


async def test_clear_output_and_display_updates_are_applied(kernel: Kernel) -> None:
    code = (
        "from IPython.display import display, clear_output\n"
        "print('old')\nclear_output()\nprint('new')\n"
        "h = display('first', display_id=True)\nh.update('second')"
    )
    run = await kernel.execute(code, timeout_s=10)
    assert texts(run) == "new\n'second'"
