"""Turning prompts into a left-padded batch, with or without the chat template, with real prefill."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["Batch", "encode", "render"]


Conversation = list[dict[str, str]]
"""Chat messages, `[{"role": "user", "content": ...}, {"role": "assistant", ...}, ...]`."""


def render(
    tokenizer: Any, prompt: str | Conversation, *, chat: bool, system: str | None = None, prefill: str | None = None
) -> str:
    """The text the model sees for one prompt: a user message, or a whole conversation (chat only).

    With `chat`, the chat template is applied; `prefill` starts the assistant's reply and the template
    leaves that message open (`continue_final_message`), so the model continues it.
    """
    if not chat:
        if not isinstance(prompt, str):
            raise ValueError("a conversation needs the chat template; pass chat=True")
        return prompt + (prefill or "")
    turns = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    messages = ([{"role": "system", "content": system}] if system else []) + turns
    if prefill:
        messages.append({"role": "assistant", "content": prefill})
        return tokenizer.apply_chat_template(messages, tokenize=False, continue_final_message=True)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


class Batch(dict[str, torch.Tensor]):
    """`input_ids`, `attention_mask` and `position_ids` for a left-padded batch."""


def encode(tokenizer: Any, texts: Sequence[str], device: torch.device, *, chat_rendered: bool) -> Batch:
    """Left-pad `texts` into one batch; position ids count real tokens only, so padding changes nothing."""
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(list(texts), return_tensors="pt", padding=True, add_special_tokens=not chat_rendered)
    finally:
        tokenizer.padding_side = side
    mask = enc["attention_mask"].to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return Batch(input_ids=enc["input_ids"].to(device), attention_mask=mask, position_ids=positions)
