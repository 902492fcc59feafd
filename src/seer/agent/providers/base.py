"""The provider interface: one model call in, one assistant message out. Adapters only translate.

Retries, budgets and recording live in `seer.agent.loop`; an adapter raises `ProviderError` with
`retryable=True` for rate limits, overload, server errors and timeouts, and lets the loop decide.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from seer.agent.messages import TurnRequest, TurnResponse
from seer.errors import ContextTooLong, MissingExtra, ProviderError

__all__ = ["Endpoint", "Provider", "ProviderError", "ProviderPlugin", "SdkProvider", "api_key", "retry_after", "sdk_errors"]


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


class SdkProvider:
    """What the adapters over a Stainless-generated SDK (`anthropic`, `openai`) share: the SDK imported, one
    async client built from the endpoint (the SDK never retries by itself: the loop retries, and records
    each attempt), closed by `aclose`. A subclass names the SDK and implements `turn`."""

    name: str
    sdk: str
    """The SDK's module, also the extra that installs it."""
    client: str
    """The SDK's async client class."""
    key_env: str
    """The variable holding the API key when the endpoint names none."""
    keyless: str | None = None
    """The placeholder key for endpoints that need none (local servers)."""

    def __init__(self, model: str, endpoint: Endpoint | None = None) -> None:
        self.model = model
        self.endpoint = endpoint or Endpoint(api_key_env=self.key_env)
        try:
            self._sdk = importlib.import_module(self.sdk)
        except ImportError:
            raise MissingExtra(self.sdk, f"the {self.name} provider", self.name) from None
        self._client = getattr(self._sdk, self.client)(
            api_key=api_key(self.endpoint, self.name) or self.keyless, base_url=self.endpoint.base_url,
            http_client=self.endpoint.http_client, max_retries=0, timeout=self.endpoint.timeout_s,
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._client.close()


def retry_after(exc: Any) -> float | None:
    """The `retry-after` header of an SDK's HTTP error, in seconds, if it has one."""
    try:
        return float(exc.response.headers.get("retry-after"))
    except (TypeError, ValueError, AttributeError):
        return None


@contextmanager
def sdk_errors(sdk: Any, provider: str, *, too_long: Callable[[Any], bool]) -> Iterator[None]:
    """Translate the exceptions of a Stainless-generated SDK (`anthropic`, `openai`) into `ProviderError`:
    rate limits, server errors (5xx, including Anthropic's 529), 408/409, timeouts and connection errors
    are retryable; a bad request that `too_long` recognises is `ContextTooLong`."""
    try:
        yield
    except sdk.RateLimitError as exc:
        raise ProviderError(f"{provider}: rate limited: {exc.message}", retryable=True, retry_after_s=retry_after(exc)) from None
    except sdk.BadRequestError as exc:
        if too_long(exc):
            raise ContextTooLong(f"{provider}: {exc.message}") from None
        raise ProviderError(f"{provider}: bad request: {exc.message}") from None
    except sdk.APIStatusError as exc:
        retryable = exc.status_code >= 500 or exc.status_code in (408, 409)
        raise ProviderError(f"{provider}: HTTP {exc.status_code}: {exc.message}", retryable=retryable) from None
    except (sdk.APITimeoutError, sdk.APIConnectionError) as exc:
        raise ProviderError(f"{provider}: {type(exc).__name__}: {exc}", retryable=True) from None


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


@dataclass(frozen=True)
class ProviderPlugin:
    """What a package registers under the `seer.llm_providers` entry-point group (see `seer.plugins`)."""

    make: Callable[[str | None, Endpoint], Provider]
    """`(model, endpoint)` → a provider; `endpoint` holds `--base-url` and the key variable."""
    key_env: str | None = None
    """The variable the key is read from unless `--api-key-env` says otherwise; `None`: keyless."""
    needs_model: bool = True
    """Whether `--model` is required."""
