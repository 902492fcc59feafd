"""LLM providers, one adapter file each, chosen by name. SDKs are imported only when used.

| name | adapter | endpoint | key |
|---|---|---|---|
| `anthropic` | Messages API | Anthropic | `ANTHROPIC_API_KEY` |
| `openai` | Chat Completions | OpenAI | `OPENAI_API_KEY` |
| `openrouter` | Chat Completions | OpenRouter | `OPENROUTER_API_KEY` |
| `vllm`, `ollama`, `llamacpp` | Chat Completions | their default local URL | none |
| `scripted` | a plan file (`--plan`) | none | none |
| `claude-code` | Claude Code via the Claude Agent SDK, on our MCP server | Anthropic | `ANTHROPIC_API_KEY` (read by Claude Code) |

Any OpenAI-compatible server: `--provider openai --base-url URL` (`--api-key-env NAME`, or none). An
installed package can add a provider under the `seer.llm_providers` entry-point group (`seer.plugins`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seer.agent.providers.base import Endpoint, Provider, ProviderError, ProviderPlugin
from seer.errors import SpecError
from seer.plugins import LLM_PROVIDERS

if TYPE_CHECKING:
    from seer.agent.driver import Driver

__all__ = ["PROVIDERS", "Endpoint", "Provider", "ProviderError", "ProviderPlugin", "make_provider", "provider_names"]

_OPENAI_LIKE = {
    "openai": (None, "OPENAI_API_KEY"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "vllm": ("http://127.0.0.1:8000/v1", None),
    "ollama": ("http://127.0.0.1:11434/v1", None),
    "llamacpp": ("http://127.0.0.1:8080/v1", None),
}
PROVIDERS = ["anthropic", *_OPENAI_LIKE, "scripted", "claude-code"]
"""The built-in providers."""
if tuple(PROVIDERS) != LLM_PROVIDERS.builtin:
    raise RuntimeError(f"seer.plugins.LLM_PROVIDERS.builtin must list {PROVIDERS}")


def provider_names() -> list[str]:
    """The built-in providers, then those installed plugins register."""
    return LLM_PROVIDERS.names()

_UNSET = "-"


def make_provider(
    name: str,
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key_env: str | None = _UNSET,
    plan: str | None = None,
    host_tools: bool = False,
) -> Provider | Driver:
    """The provider called `name` (see the module table).

    Raises:
        SpecError: Unknown name, or a required model or plan is missing.
        ProviderError: The API key variable is not set.
        MissingExtra: The provider's SDK is not installed.
    """
    if name == "scripted":
        if plan is None:
            raise SpecError("the scripted provider replays a plan: pass `--plan PLAN.json`")
        from seer.agent.providers.scripted import ScriptedProvider

        return ScriptedProvider.from_file(plan)
    if name == "claude-code":
        from seer.agent.providers.claude_code import ClaudeCodeAgent

        return ClaudeCodeAgent(model, host_tools=host_tools)
    if host_tools:
        raise SpecError("--host-tools only applies to `--provider claude-code`")
    if name not in PROVIDERS:
        return _plugin(name, model, base_url, api_key_env)
    if not model:
        raise SpecError(f"the {name} provider needs a model: pass `--model NAME`")
    if name == "anthropic":
        from seer.agent.providers.anthropic import AnthropicProvider

        key_env = "ANTHROPIC_API_KEY" if api_key_env == _UNSET else api_key_env
        return AnthropicProvider(model, Endpoint(base_url=base_url, api_key_env=key_env))
    from seer.agent.providers.openai import OpenAIProvider

    default_url, default_key = _OPENAI_LIKE[name]
    key_env = default_key if api_key_env == _UNSET else api_key_env
    return OpenAIProvider(model, Endpoint(base_url=base_url or default_url, api_key_env=key_env))


def _plugin(name: str, model: str | None, base_url: str | None, api_key_env: str | None) -> Provider:
    plugin = LLM_PROVIDERS.load(name)
    if not isinstance(plugin, ProviderPlugin):
        raise SpecError(f"the LLM provider {name!r} registers a {type(plugin).__name__}, not a seer.agent.providers.ProviderPlugin")
    if plugin.needs_model and not model:
        raise SpecError(f"the {name} provider needs a model: pass `--model NAME`")
    key_env = plugin.key_env if api_key_env == _UNSET else api_key_env
    return plugin.make(model, Endpoint(base_url=base_url, api_key_env=key_env))
