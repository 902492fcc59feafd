"""Talking to models from an interface file: a *role* (`target`, `user`, `guard`, `judge`, …) is either a
model the scope server loaded under that name (or the one `SEER_<ROLE>_AS` names), or, where set (and then
first), an OpenAI-compatible endpoint given by the variables
`SEER_<ROLE>_URL`, `SEER_<ROLE>_MODEL` and `SEER_<ROLE>_KEY_ENV` (the name of the variable holding its key).
Standard library only, plus the toolkit for local models; shipped into the sandbox with the server.

```python
from seer_scope.roles import chat, yes_probability
reply = chat("target", [{"role": "user", "content": "Hi"}], system="Be brief.")
p = yes_probability("judge", "Does this reply validate the user's belief? ...")
```
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from .expose import models

__all__ = ["api_chat", "chat", "is_local", "yes_probability"]

TIMEOUT_S = 300.0


def _model(role: str) -> str:
    """The loaded model that plays `role`: `SEER_<ROLE>_AS` names one (one model may play several roles), else the role's own name."""
    return os.environ.get(f"SEER_{role.upper()}_AS", role)


def is_local(role: str) -> bool:
    """Whether `role` is played by a model this server loaded; an endpoint set for it (`SEER_<ROLE>_URL`) wins."""
    return not os.environ.get(f"SEER_{role.upper()}_URL") and _model(role) in models()


def _endpoint(role: str) -> tuple[str, str, dict[str, str]]:
    prefix = f"SEER_{role.upper()}_"
    url = os.environ.get(prefix + "URL", "").rstrip("/")
    if not url:
        raise RuntimeError(f"no {role}: the scope server holds no model named {role!r} and {prefix}URL is not set")
    headers = {"Content-Type": "application/json"}
    if key := os.environ.get(os.environ.get(prefix + "KEY_ENV", ""), ""):
        headers["Authorization"] = f"Bearer {key}"
    return url, os.environ.get(prefix + "MODEL", role), headers


def api_chat(role: str, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None, max_tokens: int = 256) -> dict[str, Any]:
    """One Chat Completions call to `role`'s endpoint; returns the reply's `message` (`content`, `tool_calls`)."""
    url, model, headers = _endpoint(role)
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if tools:
        body["tools"] = tools
    request = urllib.request.Request(f"{url}/chat/completions", data=json.dumps(body).encode(), headers=headers, method="POST")
    loopback = "://127.0.0.1" in url or "://localhost" in url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}) if loopback else urllib.request.ProxyHandler())
    with opener.open(request, timeout=TIMEOUT_S) as reply:
        return json.loads(reply.read())["choices"][0]["message"]


def chat(role: str, messages: list[dict[str, str]], *, system: str | None = None, prefill: str | None = None, max_new_tokens: int = 120) -> str:
    """`role`'s reply (greedy for a local model) to a conversation of `{"role", "content"}` messages, prefill
    included. A local model without a chat template reads the conversation as `User:`/`Assistant:` text."""
    if not is_local(role):
        sent = ([{"role": "system", "content": system}] if system else []) + messages + ([{"role": "assistant", "content": prefill}] if prefill else [])
        return (prefill or "") + (api_chat(role, sent, max_tokens=max_new_tokens).get("content") or "")
    from seer_interp import generate

    model, tokenizer = models()[_model(role)]
    if getattr(tokenizer, "chat_template", None):
        return (prefill or "") + generate(model, tokenizer, messages, system=system, prefill=prefill, max_new_tokens=max_new_tokens)[0]
    lines = [f"System: {system}"] * bool(system) + [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    prompt = "\n".join(lines) + "\nAssistant: " + (prefill or "")
    return (prefill or "") + generate(model, tokenizer, [prompt], chat=False, max_new_tokens=max_new_tokens)[0]


def yes_probability(role: str, question: str) -> float:
    """How strongly `role` answers yes to a yes/no `question`: for a local model, P(yes) / (P(yes) + P(no)) of its
    next token after "Answer:"; for an endpoint, 1.0 for a reply starting with yes, 0.0 for no (else 0.5)."""
    if not is_local(role):
        text = (api_chat(role, [{"role": "user", "content": question + "\nAnswer yes or no."}], max_tokens=5).get("content") or "").strip().lower()
        return 1.0 if text.startswith("yes") else 0.0 if text.startswith("no") else 0.5
    import math

    from seer_interp import next_token_logprobs

    model, tokenizer = models()[_model(role)]
    chat_model = bool(getattr(tokenizer, "chat_template", None))
    prompt = question + "\nAnswer yes or no." + ("" if chat_model else "\nAnswer:")
    top = next_token_logprobs(model, tokenizer, prompt, prefill="Answer:" if chat_model else None, chat=chat_model, k=500)
    mass = {"yes": 0.0, "no": 0.0}
    for token, logprob in top:
        word = token.strip().lower()
        if word in mass:
            mass[word] += math.exp(logprob)
    total = mass["yes"] + mass["no"]
    return mass["yes"] / total if total > 0 else 0.5
