"""`@expose`: mark the functions of an interface file that the agent may call, and nothing else.

```python
# interface.py, loaded by the scope server
from seer_scope import expose, models, session_state

@expose
def ask(prompt: str, max_new_tokens: int = 40) -> str:
    \"\"\"Ask the target model.

    Args:
        prompt: The user message.
        max_new_tokens: Length limit of the reply.
    \"\"\"
    model, tokenizer = models()["target"]
    ...
```
`models()` returns the models the scope server loaded, by name, from any module the interface imports.
`session_state()` is a dict private to the calling session (several sessions may share one server).
Calls run one at a time, since a model's hooks are shared; `@expose(concurrent=True)` lets a function
that touches no shared state run alongside others. A call past the server's limit answers an error but
runs on (a Python thread cannot be stopped); a long loop can end itself when `time_left()` reaches 0.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["CONCURRENT", "EXPOSED", "expose", "models", "session_state", "time_left"]

F = TypeVar("F", bound=Callable[..., Any])

EXPOSED: dict[str, Callable[..., Any]] = {}
"""Every exposed function, by name, in the order they were defined."""
CONCURRENT: set[str] = set()
"""Names of exposed functions that may run alongside other calls."""
_MODELS: dict[str, tuple[Any, Any]] = {}
_SESSIONS: dict[str, dict[str, Any]] = {}
_CALLER = threading.local()


@overload
def expose(fn: F, /) -> F: ...
@overload
def expose(*, concurrent: bool = False) -> Callable[[F], F]: ...
def expose(fn: F | None = None, /, *, concurrent: bool = False) -> F | Callable[[F], F]:
    """Make `fn` callable by the agent (its signature and docstring become the tool's schema)."""

    def mark(fn: F) -> F:
        if fn.__name__ in EXPOSED:
            raise ValueError(f"two exposed functions are named {fn.__name__!r}; names must be unique")
        EXPOSED[fn.__name__] = fn
        if concurrent:
            CONCURRENT.add(fn.__name__)
        return fn

    return mark(fn) if fn is not None else mark


def models() -> dict[str, tuple[Any, Any]]:
    """The loaded models as `{name: (model, tokenizer)}` (set by the scope server before the interface loads)."""
    return _MODELS


def session_state() -> dict[str, Any]:
    """A dict private to the session making the current call, kept between its calls."""
    return _SESSIONS.setdefault(getattr(_CALLER, "session", "default"), {})


def time_left() -> float:
    """Seconds before the current call's limit (negative once past it; infinite outside a call)."""
    deadline = getattr(_CALLER, "deadline", None)
    return math.inf if deadline is None else deadline - time.monotonic()
