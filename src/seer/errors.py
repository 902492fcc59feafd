"""Every exception Seer raises on purpose.

```
SeerError                  a problem the user or the harness must act on; the CLI prints it without traceback
├── SpecError              an environment (or other spec) is invalid; names the file, the field and the fix
├── MissingExtra           an optional dependency is not installed; names the `pip install` line
├── ProviderError          an LLM call failed; `retryable` says whether to try again
│   └── ContextTooLong     the conversation no longer fits the model's context
├── SandboxError           the sandbox could not do what was asked (start, exec, file I/O)
│   └── KernelDied         the kernel process exited and could not be brought back
└── SessionClosed          a call reached a session that has already been closed
ToolError                  a tool call the agent got wrong; becomes a result the agent can act on
```

`ToolError` stands apart on purpose: it is told to the agent, never raised to the user.
"""

from __future__ import annotations

__all__ = [
    "ContextTooLong",
    "KernelDied",
    "MissingExtra",
    "ProviderError",
    "SandboxError",
    "SeerError",
    "SessionClosed",
    "SpecError",
    "ToolError",
]


class SeerError(Exception):
    """Base class for errors a user or harness must act on."""


class SpecError(SeerError):
    """An environment or other spec failed validation.

    The message lists every problem as `source: field: problem`, one per line.
    """


class MissingExtra(SeerError):
    """An optional dependency is missing."""

    def __init__(self, package: str, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the `{package}` package: pip install 'seer-interp[{extra}]'")


class ProviderError(SeerError):
    """A model call failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class ContextTooLong(ProviderError):
    """The conversation no longer fits the model's context window; the loop compacts it."""


class SandboxError(SeerError):
    """The sandbox could not start, run a command, or move a file."""


class KernelDied(SandboxError):
    """The kernel process exited and could not be restarted."""


class SessionClosed(SeerError):
    """The session was closed; start a new one."""


class ToolError(Exception):
    """A tool call failed in a way the agent can fix; the message is shown to the agent."""
