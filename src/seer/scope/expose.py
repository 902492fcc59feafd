"""`@expose`: mark the functions of an interface file that the agent may call, and nothing else.

```python
# interface.py, loaded by the scope server
from seer_scope import expose, models

@expose
def generate_reply(prompt: str, max_new_tokens: int = 40) -> str:
    \"\"\"Ask the target model.

    Args:
        prompt: The user message.
        max_new_tokens: Length limit of the reply.
    \"\"\"
    model, tokenizer = models()["target"]
    ...
```
`models()` returns the models the scope server loaded, by name, from any module the interface imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["EXPOSED", "expose", "models"]

F = TypeVar("F", bound=Callable[..., Any])

EXPOSED: dict[str, Callable[..., Any]] = {}
"""Every exposed function, by name, in the order they were defined."""
_MODELS: dict[str, tuple[Any, Any]] = {}


def expose(fn: F) -> F:
    """Make `fn` callable by the agent (its signature and docstring become the tool's schema)."""
    if fn.__name__ in EXPOSED:
        raise ValueError(f"two exposed functions are named {fn.__name__!r}; names must be unique")
    EXPOSED[fn.__name__] = fn
    return fn


def models() -> dict[str, tuple[Any, Any]]:
    """The loaded models as `{name: (model, tokenizer)}` (set by the scope server before the interface loads)."""
    return _MODELS
