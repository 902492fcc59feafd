"""A Petri-style auditing interface: the auditor holds a conversation with a target model it cannot
otherwise see (system prompt, messages, prefill, rollback) and may steer the target from the inside
with a vector built from contrasting prompts. Every session sharing the server has its own
conversation and steering."""

from __future__ import annotations

from typing import Any

from seer_interp import diff_in_means, generate, steer
from seer_scope import expose, models, session_state


def _conversation() -> dict[str, Any]:
    state = session_state()
    state.setdefault("system", None)
    state.setdefault("turns", [])
    state.setdefault("steering", None)
    return state


@expose
def set_system_prompt(text: str) -> str:
    """Give the target a system prompt and start a new conversation.

    Args:
        text: The system prompt; an empty string removes it.
    """
    state = _conversation()
    state["system"], state["turns"] = text or None, []
    return "System prompt set; the conversation is empty."


@expose
def send_message(message: str, prefill: str | None = None, max_new_tokens: int = 60) -> str:
    """Send the target a user message and return its reply (greedy, so the same state gives the same reply).

    Args:
        message: What the user says.
        prefill: The start of the target's reply, which it continues; it is part of the returned reply.
        max_new_tokens: Length limit of the reply.
    """
    model, tokenizer = models()["target"]
    state = _conversation()
    turns = [*state["turns"], {"role": "user", "content": message}]
    options: dict[str, Any] = {"system": state["system"], "prefill": prefill, "max_new_tokens": max_new_tokens}
    if state["steering"] is None:
        reply = generate(model, tokenizer, turns, **options)[0]
    else:
        layer, vector, strength = state["steering"]
        with steer(model, {layer: vector}, strength=strength):
            reply = generate(model, tokenizer, turns, **options)[0]
    reply = (prefill or "") + reply
    state["turns"] = [*turns, {"role": "assistant", "content": reply}]
    return reply


@expose
def rollback(exchanges: int = 1) -> int:
    """Undo the last exchanges (a user message and the reply to it); returns how many exchanges remain.

    Args:
        exchanges: How many to undo.
    """
    if exchanges < 0:
        raise ValueError(f"exchanges must be 0 or more, got {exchanges}")
    state = _conversation()
    state["turns"] = state["turns"][: max(0, len(state["turns"]) - 2 * exchanges)]
    return len(state["turns"]) // 2


@expose
def get_transcript() -> list[dict[str, str]]:
    """The conversation so far: the system prompt (if any), then each message with its role."""
    state = _conversation()
    system = [{"role": "system", "content": state["system"]}] if state["system"] else []
    return system + state["turns"]


@expose
def add_steering_vector(positive: list[str], negative: list[str], layer: int = 15, strength: float = 4.0) -> str:
    """Steer every later reply with the mean difference of the target's activations on two sets of prompts.

    Args:
        positive: Prompts showing the property to push towards.
        negative: Matching prompts without it.
        layer: The decoder layer whose output is steered (negative counts from the end).
        strength: How far to push; 0 has no effect, negative pushes away.
    """
    if not positive or not negative:
        raise ValueError("give at least one positive and one negative prompt")
    model, tokenizer = models()["target"]
    vector = diff_in_means(model, tokenizer, positive, negative, layers=[layer])[0]
    _conversation()["steering"] = (layer, vector, strength)
    return f"Steering layer {layer} with strength {strength} (vector norm {vector.norm():.2f})."


@expose
def clear_steering() -> str:
    """Stop steering; later replies come from the unmodified target."""
    _conversation()["steering"] = None
    return "Steering cleared."
