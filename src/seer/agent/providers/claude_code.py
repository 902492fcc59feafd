"""Claude Code as the agent, through the Claude Agent SDK, pointed at our own MCP server.

Claude Code runs its own loop, so this adapter is a `seer.agent.driver.Driver`: it drives a whole run
(`drive`) instead of answering turns. The session's toolset is served over streamable HTTP on 127.0.0.1 with a one-run bearer
token; Claude Code gets that server and nothing else: its built-in host tools (Bash, file edits, web
fetch) are removed unless `host_tools=True`, other MCP configurations are ignored, and only our tools
are allowed. Budgets map onto the SDK's `max_turns` and `max_budget_usd`; wall time is enforced
here; a token budget is checked after each response (the SDK cannot stop mid-response on tokens).
"""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path
from typing import Any

import anyio

from seer.agent.budget import Budget, Spent
from seer.agent.loop import BATCH_REPLY, Outcome
from seer.agent.messages import Usage
from seer.errors import MissingExtra
from seer.record.requests import wait_for_stop
from seer.record.transcript import Transcript
from seer.session import Session
from seer.tools.base import ToolContext, Toolset
from seer.tools.mcp import ToolsApp, bind, build_server, serve_http

__all__ = ["ClaudeCodeAgent"]

SERVER = "seer"
FINAL_REQUEST = "The {limit} budget is exhausted. Call the `finish` tool now with your final report."


class ClaudeCodeAgent:
    """Claude Code (via `claude-agent-sdk`) investigating through Seer's MCP tools.

    Args:
        model: Claude model name; `None` takes Claude Code's default.
        host_tools: Give Claude Code its built-in tools (Bash, Read, Edit, WebFetch…) too. Off by
            default: with them the agent can leave the sandbox.
        cli_path: A Claude Code executable; default the one bundled with the SDK.
    """

    name = "claude-code"
    prices_its_turns = False
    """Claude Code reports what the run cost; Seer does not price its turns."""

    def __init__(self, model: str | None = None, *, host_tools: bool = False, cli_path: str | None = None) -> None:
        try:
            import claude_agent_sdk
        except ImportError:
            raise MissingExtra("claude-agent-sdk", "the claude-code provider", "claude-code") from None
        self._sdk = claude_agent_sdk
        self.model = model or "claude-code-default"
        self._model = model
        self.host_tools = host_tools
        self.cli_path = cli_path

    async def aclose(self) -> None:
        """Nothing to release: each run starts and stops its own Claude Code process."""

    def options(self, *, url: str, token: str, system: str, tools: Toolset, budget: Budget, cwd: str) -> Any:
        """The `ClaudeAgentOptions` a run passes: our MCP server only, our tools only."""
        allowed = [f"mcp__{SERVER}__{name}" for name in tools.names()]
        return self._sdk.ClaudeAgentOptions(
            tools={"type": "preset", "preset": "claude_code"} if self.host_tools else [],
            allowed_tools=allowed,
            mcp_servers={SERVER: {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}},
            strict_mcp_config=True,
            permission_mode="dontAsk",
            system_prompt=system,
            model=self._model,
            max_turns=budget.turns,
            max_budget_usd=budget.cost_usd,
            cwd=cwd,
            cli_path=self.cli_path,
            setting_sources=[],
        )

    async def drive(
        self, session: Session, tools: Toolset, *, task: str, system: str, budget: Budget, transcript: Transcript
    ) -> Outcome:
        """Run the whole investigation; record Claude Code's messages as transcript events."""
        token = secrets.token_urlsafe(24)
        sock = bind("127.0.0.1", 0)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"

        async def context() -> ToolContext:
            async def ask(question: str) -> str:
                transcript.append("checkpoint", question=question, answer=BATCH_REPLY, answered_by="batch")
                return BATCH_REPLY

            return ToolContext(session, ask=ask)

        spent = Spent()
        started = time.monotonic()
        ready = anyio.Event()
        outcome: Outcome | None = None
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: serve_http(build_server(ToolsApp(tools, context)), token=token, sock=sock, ready=ready))
            await ready.wait()
            workspace = Path(session.sandbox.workspace)  # on a remote sandbox Claude Code starts in the run folder
            cwd = str(workspace if workspace.is_dir() else session.run.path)
            options = self.options(url=url, token=token, system=system, tools=tools, budget=budget, cwd=cwd)
            stopped: list[str] = []
            with anyio.move_on_after(budget.wall_s) as wall:

                async def watch_stop() -> None:  # the viewer's Stop button
                    stopped.append(await wait_for_stop(session.run.path))
                    wall.cancel()
                    if session.has_kernel:
                        await session.interrupt()

                tasks.start_soon(watch_stop)
                outcome = await self._converse(options, task, budget, transcript, spent)
            spent.wall_s = time.monotonic() - started
            if stopped and wall.cancelled_caught:
                outcome = Outcome("interrupted", stopped[0], report=session.report)
            elif wall.cancelled_caught:
                outcome = Outcome("budget", f"wall_s {spent.wall_s:g} >= {budget.wall_s:g}", "wall_s", session.report, spent)
            tasks.cancel_scope.cancel()
        assert outcome is not None
        outcome.spent = spent
        transcript.append("stopped", reason=outcome.reason, limit=outcome.limit, detail=outcome.detail,
                          report=outcome.report, spent=spent.as_dict())  # fmt: skip
        return outcome

    async def _converse(self, options: Any, task: str, budget: Budget, transcript: Transcript, spent: Spent) -> Outcome:
        sdk = self._sdk
        report: str | None = None
        async with sdk.ClaudeSDKClient(options=options) as client:
            await client.query(task)
            result, report = await self._receive(client, transcript, spent, report)
            limit = _limit_hit(result, budget, spent)
            if limit is None:
                if result is not None and result.is_error:
                    return Outcome("error", f"claude code: {result.subtype} {result.errors or ''}".strip(), report=report)
                return Outcome("finished" if report else "no_action", result.subtype if result else "", report=report)
            transcript.append("user", text=FINAL_REQUEST.format(limit=limit), source="budget")
            await client.query(FINAL_REQUEST.format(limit=limit))
            _, report = await self._receive(client, transcript, spent, report)
            return Outcome("budget", f"{limit} reached", limit, report)

    async def _receive(self, client: Any, transcript: Transcript, spent: Spent, report: str | None) -> tuple[Any, str | None]:
        sdk = self._sdk
        result = None
        names: dict[str, str] = {}
        async for message in client.receive_response():
            if isinstance(message, sdk.AssistantMessage):
                calls = [b for b in message.content if isinstance(b, sdk.ToolUseBlock)]
                text = "".join(b.text for b in message.content if isinstance(b, sdk.TextBlock))
                for call in calls:
                    names[call.id] = call.name.removeprefix(f"mcp__{SERVER}__")
                    if call.name == f"mcp__{SERVER}__finish":
                        report = call.input.get("report", report)
                spent.turns += 1
                transcript.append(
                    "model_turn", turn=spent.turns, text=text,
                    tool_calls=[{"id": c.id, "name": c.name.removeprefix(f"mcp__{SERVER}__"), "arguments": c.input} for c in calls],
                    usage=message.usage or {}, cost_usd=None, duration_s=None, stop_reason=message.stop_reason or "",
                    attempts=1, spent=spent.as_dict(),
                )  # fmt: skip
            elif isinstance(message, sdk.UserMessage) and isinstance(message.content, list):
                for block in message.content:
                    if isinstance(block, sdk.ToolResultBlock):
                        text, images = _result_content(block.content)
                        transcript.append(
                            "tool_result", call_id=block.tool_use_id, name=names.get(block.tool_use_id, ""), text=text,
                            images=[transcript.save_image(png) for png in images], is_error=bool(block.is_error), duration_s=None,
                        )  # fmt: skip
            elif isinstance(message, sdk.ResultMessage):
                result = message
                usage = message.usage or {}
                spent.usage = spent.usage + Usage(
                    usage.get("input_tokens", 0) + usage.get("cache_read_input_tokens", 0) + usage.get("cache_creation_input_tokens", 0),
                    usage.get("output_tokens", 0), usage.get("cache_read_input_tokens", 0), usage.get("cache_creation_input_tokens", 0),
                )  # fmt: skip
                if message.total_cost_usd is not None:
                    spent.cost_usd += message.total_cost_usd
        return result, report


def _limit_hit(result: Any, budget: Budget, spent: Spent) -> str | None:
    """Which budget ended Claude Code's response, if one did."""
    if result is not None and result.subtype == "error_max_turns":
        return "turns"
    if result is not None and result.subtype == "error_max_budget_usd":
        return "cost_usd"
    if budget.tokens is not None and spent.tokens >= budget.tokens:
        return "tokens"
    return None


def _result_content(content: str | list[dict[str, Any]] | None) -> tuple[str, list[bytes]]:
    if content is None or isinstance(content, str):
        return content or "", []
    text = "".join(part.get("text", "") for part in content if part.get("type") == "text")
    images = [base64.b64decode(part["data"]) for part in content if part.get("type") == "image" and "data" in part]
    images += [
        base64.b64decode(part["source"]["data"]) for part in content if part.get("type") == "image" and "source" in part
    ]
    return text, images
