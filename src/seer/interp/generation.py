"""Batch generation that returns only the new text: left padding, chat templates, real prefill."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .arch import arch_of
from .checks import check_count, check_generate_prompts, check_model, check_prefill, check_tokenizer
from .tokens import Conversation, encode, render

__all__ = ["generate"]


@torch.no_grad()
def generate(
    model: nn.Module,
    tokenizer: Any,
    prompts: str | Conversation | Sequence[str | Conversation],
    *,
    chat: bool = True,
    system: str | None = None,
    prefill: str | None = None,
    max_new_tokens: int = 64,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    batch_size: int = 16,
    **kwargs: Any,
) -> list[str]:
    """Generate a continuation for each prompt; returns only the new text (not the prompt or prefill).

    A prompt is a user message, or a conversation (a list of `{"role", "content"}` messages) that the
    model answers next.

    Args:
        chat: Apply the chat template (off for base models).
        system: A system message (chat only).
        prefill: The start of the assistant's reply; the model continues it.
        do_sample, temperature, top_p: Sampling; greedy by default.
        kwargs: Passed on to `model.generate` (e.g. `repetition_penalty`).
    """
    check_model('model', model)
    check_tokenizer(tokenizer)
    check_generate_prompts(prompts, chat)
    check_prefill(prefill)
    check_count('max_new_tokens', max_new_tokens)
    check_count('batch_size', batch_size)
    single = isinstance(prompts, str) or (isinstance(prompts, list) and bool(prompts) and isinstance(prompts[0], dict))
    items = [prompts] if single else list(prompts)
    arch = arch_of(model)
    texts = [render(tokenizer, p, chat=chat, system=system, prefill=prefill) for p in items]
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p} if do_sample else {"do_sample": False}
    outputs: list[str] = []
    for begin in range(0, len(texts), batch_size):
        batch = encode(tokenizer, texts[begin : begin + batch_size], arch.device, chat_rendered=chat)
        batch.pop("position_ids")  # generate derives them from the attention mask
        new = arch.model.generate(
            **batch, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling, **kwargs
        )[:, batch["input_ids"].shape[1] :]
        outputs += tokenizer.batch_decode(new, skip_special_tokens=True)
    return outputs
