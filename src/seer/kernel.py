"""A Jupyter kernel driven by one long-lived client, with outputs routed by message id.

One client per kernel, kept open: every execute request has a unique `msg_id`, and one reader task
per channel hands each message to the execution it belongs to. Executions are serialised by a lock,
so concurrent callers never see each other's outputs (opening a client per request, as the
prototype did, reuses message ids and crosses outputs).

A cell that runs past its timeout is interrupted; one that ignores the interrupt gets the kernel
restarted. A kernel that dies (``os._exit``, a segfault) is noticed within half a second, restarted,
and the `on_restart` hook re-runs the workspace set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from seer.errors import KernelDied, SandboxError
from seer.spill import OutputCap, append_stream

__all__ = ["CellRun", "Handler", "Kernel", "KernelLink", "LocalKernelLink", "Status"]

Status = Literal["running", "ok", "error", "timeout", "interrupted", "died"]
OutputHook = Callable[["CellRun"], None]

_LIVENESS_TICK_S = 0.5
_INTERRUPT_GRACE_S = 5.0


@dataclass
class CellRun:
    """One execution: its outputs (nbformat-shaped dicts) as they arrive, then its outcome."""

    code: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    status: Status = "running"
    execution_count: int | None = None
    started: float = field(default_factory=time.time)
    duration_s: float = 0.0
    note: str | None = None
    """What the harness did that the agent must know (timeout, restart); `None` when nothing."""
    on_output: OutputHook | None = None
    cap: OutputCap | None = None
    """Bounds the outputs kept (and spills the rest); `None` keeps everything."""
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _replied: asyncio.Event = field(default_factory=asyncio.Event)
    _reply_status: str = "ok"
    _clear_on_next: bool = False
    _displays: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self._idle.is_set() and self._replied.is_set()

    def _clear(self) -> None:
        self.outputs.clear()
        self._clear_on_next = False
        if self.cap is not None:
            self.cap.clear()

    def _fit(self, content: dict[str, Any], kind: str, replacing: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        data, metadata = content["data"], content.get("metadata", {})
        return self.cap.fit(data, metadata, kind=kind, replacing=replacing) if self.cap is not None else (data, metadata)

    def _add(self, msg_type: str, content: dict[str, Any]) -> None:
        if self._clear_on_next and msg_type != "clear_output":
            self._clear()
        if msg_type == "stream":
            if self.cap is not None:
                self.cap.stream(self.outputs, content["name"], content["text"])
            else:
                append_stream(self.outputs, content["name"], content["text"])
        elif msg_type in ("display_data", "execute_result"):
            data, metadata = self._fit(content, msg_type)
            output = {"output_type": msg_type, "data": data, "metadata": metadata}
            if msg_type == "execute_result":
                output["execution_count"] = content.get("execution_count")
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                self._displays[display_id] = output
            self.outputs.append(output)
        elif msg_type == "update_display_data":
            display_id = (content.get("transient") or {}).get("display_id")
            shown = self._displays.get(display_id)
            if shown is not None:
                shown["data"], shown["metadata"] = self._fit(content, shown["output_type"], shown["data"])
        elif msg_type == "error":
            error = {
                "output_type": "error",
                "ename": content.get("ename", "Error"),
                "evalue": content.get("evalue", ""),
                "traceback": content.get("traceback", []),
            }
            self.outputs.append(self.cap.error(error) if self.cap is not None else error)
        elif msg_type == "clear_output":
            if content.get("wait"):
                self._clear_on_next = True
            else:
                self._clear()
        else:
            return
        if self.on_output is not None:
            self.on_output(self)


Handler = Callable[[dict[str, Any]], None]


class KernelLink(Protocol):
    """How a `Kernel` reaches its kernel process: a local process over ZeroMQ, or a kernel on a Jupyter
    server over its REST and websocket API."""

    pid: int | None

    async def start(self) -> None:
        """Launch the kernel process."""
        ...

    async def connect(self, on_iopub: Handler, on_shell: Handler, *, timeout_s: float) -> None:
        """Open the channels, hand every iopub and shell message to the handlers, and wait until the
        kernel answers; raises KernelDied if it does not within `timeout_s`."""
        ...

    async def disconnect(self) -> None:
        """Close the channels (the kernel keeps running)."""
        ...

    async def execute(self, code: str, *, store_history: bool) -> str:
        """Send an execute request; returns its message id."""
        ...

    async def interrupt(self) -> None: ...

    async def restart(self) -> None:
        """Restart the kernel process (channels are reconnected by the caller)."""
        ...

    async def is_alive(self) -> bool: ...

    async def exit_code(self) -> int | None:
        """The dead kernel's exit code, where the link can know it."""
        ...

    async def shutdown(self) -> None:
        """Stop the kernel process; safe to call twice."""
        ...


class _PinnedKernelManager(AsyncKernelManager):
    """A kernel manager that launches exactly the given command, whatever kernelspecs are installed."""

    def __init__(self, argv: list[str], interrupt_mode: str = "signal", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pinned = KernelSpec(argv=argv, display_name="Python 3 (seer)", language="python", interrupt_mode=interrupt_mode)

    @property
    def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
        return self._pinned


class LocalKernelLink:
    """A kernel process on this machine, launched by jupyter_client and reached over ZeroMQ.

    Args:
        argv: The kernel command; `{connection_file}` is filled in by jupyter_client.
        cwd: Working directory of the kernel process.
        env: The kernel's complete environment (nothing else of the host's is passed).
        log: Where the kernel process's own stdout and stderr go (never our stdout: that may be MCP).
        connection_file: Where to write the connection file (default: Jupyter's runtime folder).
        interrupt_mode: `message` when `argv` wraps the kernel in another process (bubblewrap), which a
            signal would hit instead of the kernel.
        reap: Called after the kernel process is stopped, to end whatever it left behind.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        cwd: str,
        env: dict[str, str],
        log: IO[bytes] | None = None,
        connection_file: str | None = None,
        interrupt_mode: Literal["signal", "message"] = "signal",
        reap: Callable[[], object] | None = None,
    ) -> None:
        self._spec = (argv, interrupt_mode, connection_file)
        self._manager = self._new_manager()
        self._reap = reap
        self._launch = {"cwd": cwd, "env": env, "stdout": log, "stderr": log}
        self._client: AsyncKernelClient | None = None
        self._readers: list[asyncio.Task[None]] = []

    def _new_manager(self) -> _PinnedKernelManager:
        argv, interrupt_mode, connection_file = self._spec
        manager = _PinnedKernelManager(argv, interrupt_mode)
        if connection_file:
            manager.connection_file = connection_file
        return manager

    @property
    def pid(self) -> int | None:  # type: ignore[override]
        process = getattr(self._manager.provisioner, "process", None)
        return process.pid if process is not None else None

    async def start(self) -> None:
        await self._manager.start_kernel(**self._launch)

    async def connect(self, on_iopub: Handler, on_shell: Handler, *, timeout_s: float) -> None:
        client = self._manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=timeout_s)
        except RuntimeError as exc:
            client.stop_channels()
            raise KernelDied(f"the kernel did not answer within {timeout_s:g} s: {exc}") from None
        self._client = client
        self._readers = [
            asyncio.create_task(self._read(client.get_iopub_msg, on_iopub)),
            asyncio.create_task(self._read(client.get_shell_msg, on_shell)),
        ]

    @staticmethod
    async def _read(get: Callable[[], Awaitable[dict[str, Any]]], handle: Handler) -> None:
        while True:
            handle(await get())

    async def disconnect(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._readers = []
        if self._client is not None:
            self._client.stop_channels()
            self._client = None

    async def execute(self, code: str, *, store_history: bool) -> str:
        if self._client is None:
            raise KernelDied("the kernel is not connected")
        return self._client.execute(code, store_history=store_history, allow_stdin=False)

    async def interrupt(self) -> None:
        await self._manager.interrupt_kernel()

    async def restart(self) -> None:
        """Stop the kernel and all it left behind, then start it afresh on new ports (a stray child may
        still hold the old ones for an instant)."""
        await self.shutdown()
        self._manager = self._new_manager()
        await self._manager.start_kernel(**self._launch)

    async def is_alive(self) -> bool:
        return await self._manager.is_alive()

    async def exit_code(self) -> int | None:
        return await self._manager.provisioner.poll() if self._manager.provisioner else None

    async def shutdown(self) -> None:
        if self._manager.has_kernel:
            await self._manager.shutdown_kernel(now=True)
        if self._reap is not None:
            await asyncio.to_thread(self._reap)


class Kernel:
    """A running Jupyter kernel, reached through a `KernelLink`.

    Args:
        link: How to reach the kernel process.
        start_timeout_s: How long the kernel may take to answer after launch.
        prelude: Code run hidden after every start and restart, before anything else (a remote kernel's
            environment variables and import path, which its server cannot pass at launch).
    """

    def __init__(self, link: KernelLink, *, start_timeout_s: float = 60.0, prelude: str = "") -> None:
        self._link = link
        self._start_timeout_s = start_timeout_s
        self._prelude = prelude
        self._connected = False
        self._pending: dict[str, CellRun] = {}
        self._lock = asyncio.Lock()
        self._interrupted: set[str] = set()
        self.on_restart: Callable[[], Awaitable[None]] | None = None
        """Called after every restart, holding the execution lock: re-runs the hidden set-up."""
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._link.pid

    async def start(self) -> None:
        """Launch the kernel and wait until it answers.

        Raises:
            KernelDied: The kernel did not start or answer within the start timeout.
        """
        await self._link.start()
        await self._connect()

    @classmethod
    async def launch(cls, link: KernelLink, where: Callable[[Exception], str], *, start_timeout_s: float, prelude: str = "") -> Kernel:
        """A started kernel; if it does not start, it is shut down and `SandboxError(where(exc))` raised."""
        kernel = cls(link, start_timeout_s=start_timeout_s, prelude=prelude)
        try:
            await kernel.start()
        except Exception as exc:
            await kernel.shutdown()
            raise SandboxError(where(exc)) from None
        return kernel

    async def _connect(self) -> None:
        await self._link.connect(self._on_iopub, self._on_shell, timeout_s=self._start_timeout_s)
        self._connected = True
        if self._prelude:
            run = await self._execute(self._prelude, timeout_s=self._start_timeout_s, on_output=None, store_history=False)
            if run.status != "ok":
                raise KernelDied(f"the kernel's prelude failed: {run.outputs[-1:] or run.note}")

    async def _disconnect(self) -> None:
        self._connected = False
        await self._link.disconnect()

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        run = self._pending.get(msg["parent_header"].get("msg_id", ""))
        if run is None:
            return
        if msg["msg_type"] == "status":
            if msg["content"].get("execution_state") == "idle":
                run._idle.set()
        else:
            run._add(msg["msg_type"], msg["content"])

    def _on_shell(self, msg: dict[str, Any]) -> None:
        run = self._pending.get(msg["parent_header"].get("msg_id", ""))
        if run is None or msg["msg_type"] != "execute_reply":
            return
        run.execution_count = msg["content"].get("execution_count")
        run._reply_status = msg["content"].get("status", "ok")
        run._replied.set()

    async def execute(
        self,
        code: str,
        *,
        timeout_s: float,
        on_output: OutputHook | None = None,
        store_history: bool = True,
        cap: OutputCap | None = None,
    ) -> CellRun:
        """Run `code` and return when it is done, timed out, or the kernel died; `cap` bounds the outputs kept.

        Never raises for what the code does; the outcome is in `CellRun.status` and `CellRun.note`.

        Raises:
            KernelDied: The kernel died and could not be restarted.
        """
        async with self._lock:
            return await self._execute(code, timeout_s=timeout_s, on_output=on_output, store_history=store_history, cap=cap)

    async def _execute(
        self, code: str, *, timeout_s: float, on_output: OutputHook | None, store_history: bool, cap: OutputCap | None = None
    ) -> CellRun:
        if not self._connected:
            raise KernelDied("the kernel is not running; start or restart the session")
        run = CellRun(code=code, on_output=on_output, cap=cap)
        msg_id = await self._link.execute(code, store_history=store_history)
        self._pending[msg_id] = run
        try:
            await self._wait(run, msg_id, timeout_s)
        finally:
            self._pending.pop(msg_id, None)
            self._interrupted.discard(msg_id)
            run.duration_s = time.time() - run.started
            if cap is not None:
                cap.close()
        return run

    async def _wait(self, run: CellRun, msg_id: str, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not run.done:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._on_timeout(run, timeout_s)
                return
            if not await self._tick(run, min(_LIVENESS_TICK_S, remaining)):
                await self._on_death(run)
                return
        failed = run._reply_status != "ok"
        if failed and msg_id in self._interrupted:
            run.status = "interrupted"
        else:
            run.status = "error" if failed else "ok"

    async def _tick(self, run: CellRun, wait_s: float) -> bool:
        """Wait up to `wait_s` for the run to finish; False if the kernel process is gone."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await run._idle.wait()
                await run._replied.wait()
                return True
        return await self._link.is_alive()

    async def _on_timeout(self, run: CellRun, timeout_s: float) -> None:
        await self._link.interrupt()
        loop = asyncio.get_running_loop()
        grace_end = loop.time() + _INTERRUPT_GRACE_S
        while not run.done and loop.time() < grace_end:
            if not await self._tick(run, _LIVENESS_TICK_S):
                break
        run.status = "timeout"
        if run.done:
            run.note = (
                f"The cell ran past its {timeout_s:g} s timeout and was interrupted. "
                "The kernel is alive and keeps its variables."
            )
        else:
            await self._restart()
            run.note = (
                f"The cell ran past its {timeout_s:g} s timeout and ignored the interrupt, so the kernel was "
                "restarted and the workspace set-up re-run. Variables from earlier cells are gone."
            )

    async def _on_death(self, run: CellRun) -> None:
        code = await self._link.exit_code()
        run.status = "died"
        await self._restart()
        run.note = (
            f"The kernel process died while running this cell ({'exit code ' + str(code) if code is not None else 'it was gone'}). Seer restarted it and "
            "re-ran the workspace set-up. Variables from earlier cells are gone; re-run what you need."
        )

    async def _restart(self) -> None:
        await self._disconnect()
        try:
            await self._link.restart()
            await self._connect()
        except Exception as exc:
            raise KernelDied(f"the kernel could not be restarted: {exc}") from exc
        self.restarts += 1
        if self.on_restart is not None:
            await self.on_restart()

    async def execute_hidden(self, code: str, *, timeout_s: float, cap: OutputCap | None = None) -> CellRun:
        """Run set-up code without touching the execution count; for use inside `on_restart`."""
        return await self._execute(code, timeout_s=timeout_s, on_output=None, store_history=False, cap=cap)

    async def interrupt(self) -> bool:
        """Interrupt the running cell, if any.

        Returns:
            True if a cell was running and got the interrupt.
        """
        if not self._pending:
            return False
        self._interrupted.update(self._pending)
        await self._link.interrupt()
        return True

    async def restart(self) -> None:
        """Restart the kernel (variables are lost) and re-run the set-up hook.

        Raises:
            KernelDied: The kernel could not be restarted.
        """
        if self._pending:
            await self._link.interrupt()
        async with self._lock:
            await self._restart()

    async def is_alive(self) -> bool:
        return await self._link.is_alive()

    async def shutdown(self) -> None:
        """Stop the kernel process; safe to call twice."""
        await self._disconnect()
        await self._link.shutdown()
