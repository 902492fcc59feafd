"""Seer: AI agents doing interpretability research in live notebooks, with complete run records.

`import seer` stays light: the MCP SDK, uvicorn and the CLI load only when used.
"""

from seer.environment import Environment, FileSpec, Limits, ModelSpec, SecretsPolicy, Timeouts
from seer.errors import KernelDied, SandboxError, SeerError, SessionClosed, SpecError, ToolError
from seer.run import RunDir
from seer.sandbox import LocalSandbox, Sandbox
from seer.session import Cell, Session
from seer.skills import Skill
from seer.tools.base import Tool, ToolContext, ToolResult, Toolset
from seer.tools.notebook import notebook_tools
from seer.version import __version__

__all__ = [
    "Cell",
    "Environment",
    "FileSpec",
    "KernelDied",
    "Limits",
    "LocalSandbox",
    "ModelSpec",
    "notebook_tools",
    "RunDir",
    "Sandbox",
    "SandboxError",
    "SecretsPolicy",
    "SeerError",
    "Session",
    "SessionClosed",
    "Skill",
    "SpecError",
    "Timeouts",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "Toolset",
]
