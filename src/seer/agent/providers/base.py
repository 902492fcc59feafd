"""The provider interface: one model call in, one assistant message out. Adapters only translate.

Retries, budgets and recording live in `seer.agent.loop`; an adapter raises `ProviderError` with
`retryable=True` for rate limits, overload, server errors and timeouts, and lets the loop decide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from seer.agent.messages import TurnRequest, TurnResponse
from seer.errors import ProviderError

__all__ = ["Endpoint", "Provider", "ProviderError", "api_key", "retry_after"]


@dataclass(frozen=True)
class Endpoint:
    """Where an API lives and how to authenticate, apart from its wire format."""

    base_url: str | None = None
    """`None`: the SDK's default."""
    api_key_env: str | None = None
    """Environment variable holding the key; `None` for keyless local servers."""
    http_client: Any = None
    """An `httpx2.AsyncClient` (the SDKs' HTTP library) to use instead of the SDK's own."""
    timeout_s: float = 600.0


def api_key(endpoint: Endpoint, provider: str) -> str | None:
    """The endpoint's API key from the environment.

    Raises:
        ProviderError: The variable is not set; the message names it and the keyless alternative.
    """
    if endpoint.api_key_env is None:
        return None
    key = os.environ.get(endpoint.api_key_env)
    if not key:
        raise ProviderError(
            f"{provider} needs an API key: set {endpoint.api_key_env} in the environment or in a .env file "
            "(or run without a key: `--provider scripted --plan PLAN.json`)"
        )
    return key


def retry_after(exc: Any) -> float | None:
    """The `retry-after` header of an SDK's HTTP error, in seconds, if it has one."""
    try:
        return float(exc.response.headers.get("retry-after"))
    except (TypeError, ValueError, AttributeError):
        return None


class Provider(Protocol):
    """An LLM behind one small interface."""

    name: str
    """The adapter's name: `anthropic`, `openai`, `scripted`."""
    model: str

    async def aclose(self) -> None:
        """Release the HTTP client; the provider's creator calls it when done."""
        ...

    async def turn(self, request: TurnRequest) -> TurnResponse:
        """Make one model call.

        Raises:
            ProviderError: The call failed (retryable or not).
        """
        ...
