"""Argument checks shared by the toolkit's public functions: each error names the argument, what it got and
what it expects, so a wrong call fails at once instead of returning plausible nonsense."""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import nn

__all__ = [
    "check_callable", "check_count", "check_generate_prompts", "check_layers", "check_model", "check_number", "check_prefill",
    "check_prompt", "check_prompts", "check_tensor", "check_texts", "check_tokenizer", "check_vectors", "kind",
]  # fmt: skip


def kind(value: Any) -> str:
    """What `value` is, shortly: `a list of str`, `int 3`."""
    if isinstance(value, (list, tuple)) and value:
        return f"a {type(value).__name__} of {type(value[0]).__name__}"
    return f"{type(value).__name__} {value!r}"[:80]


def check_model(name: str, model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a loaded model (a torch nn.Module, e.g. from load_model), got {kind(model)}")


def check_tokenizer(tokenizer: Any, name: str = "tokenizer") -> None:
    if not callable(tokenizer) or not hasattr(tokenizer, "decode"):
        raise TypeError(f"{name} must be a tokenizer (the one load_model returns), got {kind(tokenizer)}")


def _is_conversation(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) for m in value)


def check_prompt(prompt: Any, chat: Any = True, name: str = "prompt") -> None:
    """One prompt: a string, or (with `chat`) a conversation of `{'role', 'content'}` dicts."""
    if not isinstance(chat, bool):
        raise TypeError(f"chat must be True or False, got {kind(chat)}")
    conversation = _is_conversation(prompt)
    if not (isinstance(prompt, str) or conversation):
        raise TypeError(
            f"{name} must be one string (a user message) or a conversation (a list of {{'role', 'content'}} dicts), "
            f"got {kind(prompt)}; for several prompts, call once per prompt"
        )
    if conversation and not chat:
        raise ValueError(f"{name} is a conversation, which needs the chat template; pass chat=True")


def check_prompts(prompts: Any, name: str = "prompts", *, conversations: bool = False) -> None:
    """Several prompts: a list or tuple of strings (and, where `conversations`, conversations); never one bare
    string, which would be read as its characters."""
    if isinstance(prompts, str):
        raise TypeError(f"{name} must be a list of strings, got one string; wrap it in a list: [{prompts[:40]!r}]")
    if not isinstance(prompts, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings, got {kind(prompts)}")
    if not prompts:
        raise ValueError(f"{name} is empty; give at least one prompt")
    bad = next((p for p in prompts if not (isinstance(p, str) or (conversations and _is_conversation(p)))), None)
    if bad is not None:
        raise TypeError(f"{name} must be a list of strings, got one item that is {kind(bad)}")


def check_texts(name: str, texts: Any) -> None:
    """Texts to count words in: a non-empty list or tuple of strings."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings (texts), got {kind(texts)}")
    if not texts:
        raise ValueError(f"{name} must hold at least one text, got an empty {type(texts).__name__}")
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"{name} must be a list of strings (texts), got one item that is {kind(bad)}")


def check_prefill(prefill: Any) -> None:
    if prefill is not None and not isinstance(prefill, str):
        raise TypeError(f"prefill must be a string (the start of the assistant's reply) or None, got {kind(prefill)}")


def check_count(name: str, value: Any, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {kind(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def check_generate_prompts(prompts: Any, chat: Any) -> None:
    """`generate`'s prompts: one prompt (a string or, with `chat`, a conversation) or a list of them."""
    if isinstance(prompts, str) or _is_conversation(prompts):
        check_prompt(prompts, chat, "prompts")
    else:
        check_prompts(prompts, conversations=True)


def check_layers(layers: Any, name: str = "layers") -> None:
    """None, or a list (tuple, range) of layer indices; a bare int is the usual slip."""
    if layers is None:
        return
    if isinstance(layers, numbers.Integral) and not isinstance(layers, bool):
        raise TypeError(f"{name} must be a list of layer indices, got one int; wrap it in a list: [{layers}]")
    if not isinstance(layers, (list, tuple, range)) or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in layers):
        raise TypeError(f"{name} must be a list of layer indices (ints) or None, got {kind(layers)}")


def check_tensor(name: str, value: Any) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {kind(value)}")


def check_vectors(vectors: Any) -> None:
    """`steer`'s vectors: a tensor, or a dict from layer index to tensor."""
    if isinstance(vectors, torch.Tensor):
        return
    if not isinstance(vectors, dict) or not all(isinstance(k, numbers.Integral) and isinstance(v, torch.Tensor) for k, v in vectors.items()):
        raise TypeError(f"vectors must be a tensor or a dict from layer index (int) to tensor, got {kind(vectors)}")


def check_number(name: str, value: Any) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {kind(value)}")


def check_callable(name: str, value: Any) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {kind(value)}")
