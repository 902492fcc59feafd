"""Providers from other packages, found through entry points (the way Inspect registers sandboxes).

A package adds a sandbox provider or an LLM provider by naming one object in its own metadata:

```toml
[project.entry-points."seer.sandbox_providers"]
mybox = "mybox.seer:PROVIDER"    # a seer.sandbox.base.SandboxPlugin

[project.entry-points."seer.llm_providers"]
myllm = "myllm.seer:PROVIDER"    # a seer.agent.providers.base.ProviderPlugin
```

After `pip install mybox`, `[sandbox] provider = "mybox"` and `seer run --provider myllm` use them.
Built-in names always win over a plugin of the same name. A plugin is imported only when it is used.
The built-in sandbox providers register the same way (`seer.sandbox.<name>:PROVIDER`): each is one module
holding its settings class, its sandbox and its `seer doctor` check.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from seer.errors import SpecError

__all__ = ["LLM_PROVIDERS", "SANDBOX_PROVIDERS", "Registry"]


@dataclass(frozen=True)
class Registry:
    """The provider names of one kind: the built-in ones, then those installed packages register."""

    group: str
    """The entry-point group plugins register under."""
    what: str
    """What a provider provides, for messages: 'sandbox', 'LLM'."""
    builtin: tuple[str, ...]
    home: str | None = None
    """Where built-in providers register like plugins: built-in `name` is `{home}.{name}:PROVIDER`. `None`:
    the built-ins are made elsewhere and `load` is for plugins only."""

    def plugins(self) -> dict[str, EntryPoint]:
        """Installed plugins by name (not imported)."""
        return {ep.name: ep for ep in entry_points(group=self.group) if ep.name not in self.builtin}

    def names(self) -> list[str]:
        return [*self.builtin, *sorted(self.plugins())]

    def knows(self, name: str) -> bool:
        return name in self.builtin or name in self.plugins()

    def unknown(self, name: str) -> str:
        """The message for a name that is neither built in nor installed."""
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (f"unknown {self.what} provider {name!r}; {hint}choose one of: {', '.join(self.names())} "
                f"(a package adds one under the entry-point group {self.group!r})")  # fmt: skip

    def load(self, name: str) -> Any:
        """The object provider `name` registers (a built-in one's `PROVIDER`), imported now.

        Raises:
            SpecError: No provider of that name is installed, or importing it failed.
        """
        entry = EntryPoint(name, f"{self.home}.{name}:PROVIDER", self.group) if self.home and name in self.builtin else self.plugins().get(name)
        if entry is None:
            raise SpecError(self.unknown(name))
        try:
            return entry.load()
        except Exception as exc:  # a broken plugin is the plugin's fault: say which one and why
            raise SpecError(f"the {self.what} provider {name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}") from None


SANDBOX_PROVIDERS = Registry("seer.sandbox_providers", "sandbox", ("local", "jupyter", "modal", "ray"), home="seer.sandbox")
LLM_PROVIDERS = Registry(
    "seer.llm_providers", "LLM", ("anthropic", "openai", "openrouter", "vllm", "ollama", "llamacpp", "scripted", "claude-code")
)
