"""The logit lens: read each layer's residual stream through the final norm and the unembedding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .arch import arch_of
from .checks import check_model, check_prefill, check_tokenizer
from .hooks import first
from .tokens import encode, render

__all__ = ["LensResult", "logit_lens"]


class LensResult(list):  # type: ignore[type-arg]
    """Per layer, the top-`k` `(token, probability)` pairs; a plain list of lists, with tracked tokens attached.

    `result[layer]` is that layer's top-`k` list, exactly as `logit_lens` always returned.
    `result.tracked[token]` is one `(rank, probability)` pair per layer (rank 0 = the top prediction;
    probabilities unrounded). `result.rows()` gives one dict per layer, `result.table()` a printable
    table, and `result.plot()` a matplotlib figure of the tracked tokens' ranks by layer.
    """

    def __init__(self, top: list[list[tuple[str, float]]], tracked: dict[str, list[tuple[int, float]]]) -> None:
        super().__init__(top)
        self.tracked = tracked

    def rows(self) -> list[dict[str, Any]]:
        """One dict per layer: `layer`, `top` (the top-`k` pairs), and `rank`/`prob` dicts keyed by tracked token."""
        return [
            {
                "layer": layer,
                "top": top,
                "rank": {t: pairs[layer][0] for t, pairs in self.tracked.items()},
                "prob": {t: pairs[layer][1] for t, pairs in self.tracked.items()},
            }
            for layer, top in enumerate(self)
        ]

    def table(self) -> str:
        """A text table: one line per layer with the top token and each tracked token's rank and probability."""
        header = ["layer", "top"] + [f"{t!r} rank (prob)" for t in self.tracked]
        lines = ["\t".join(header)]
        for row in self.rows():
            cells = [str(row["layer"]), repr(row["top"][0][0]) if row["top"] else ""]
            cells += [f"{row['rank'][t]} ({row['prob'][t]:.4f})" for t in self.tracked]
            lines.append("\t".join(cells))
        return "\n".join(lines)

    def plot(self) -> Any:
        """A matplotlib figure of each tracked token's rank by layer (log scale, rank 0 at the top)."""
        import matplotlib.pyplot as plt

        if not self.tracked:
            raise ValueError("no tracked tokens to plot; pass track=[...] to logit_lens")
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for token, pairs in self.tracked.items():
            ax.plot(range(len(pairs)), [rank + 1 for rank, _ in pairs], marker="o", label=repr(token))
        ax.set_yscale("log")
        ax.invert_yaxis()
        ax.set_xlabel("layer")
        ax.set_ylabel("rank + 1")
        ax.legend()
        fig.tight_layout()
        return fig


def _token_id(tokenizer: Any, token: str) -> int:
    ids = tokenizer(token, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(f"track: {token!r} is {len(ids)} tokens, not one ({ids}); track single tokens only")
    return int(ids[0])


@torch.no_grad()
def logit_lens(
    model: nn.Module,
    tokenizer: Any,
    prompt: str,
    *,
    position: int = -1,
    k: int = 5,
    chat: bool = False,
    prefill: str | None = None,
    track: Sequence[str] | None = None,
) -> LensResult:
    """For each layer, the top-`k` next tokens (with probabilities) the residual stream at `position` predicts.

    Args:
        prompt: One prompt, as raw text.
        position: The token index read (`-1`: the last).
        k: How many top tokens per layer.
        chat: Wrap the prompt in the chat template (with the generation prompt) first.
        prefill: With `chat`, the start of the assistant's reply, left open (the lens reads what comes next).
        track: Tokens (strings of one token each, e.g. `" Paris"`) whose rank and probability to record at
            every layer.

    Returns:
        A `LensResult`: a list with one list of `(token, probability)` pairs per layer (probabilities rounded
        to 4 places), and `.tracked[token]` a `(rank, probability)` pair per layer, rank 0 the top.
    """
    check_model("model", model)
    check_tokenizer(tokenizer)
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, not {type(prompt).__name__}")
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"position must be an int, not {type(position).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise TypeError(f"k must be a positive int, not {k!r}")
    if not isinstance(chat, bool):
        raise TypeError(f"chat must be a bool, not {type(chat).__name__}")
    check_prefill(prefill)
    if prefill is not None and not chat:
        raise ValueError("prefill needs chat=True (without the chat template, put the text in the prompt)")
    if isinstance(track, str):
        track = [track]
    if track is not None and (
        not isinstance(track, Sequence) or not all(isinstance(t, str) for t in track)
    ):
        raise TypeError(f"track must be a list of strings, not {track!r}")
    ids = {t: _token_id(tokenizer, t) for t in (track or [])}

    arch = arch_of(model)
    batch = encode(tokenizer, [render(tokenizer, prompt, chat=chat, prefill=prefill)], arch.device, chat_rendered=chat)
    n_tokens = batch["input_ids"].shape[1]
    if not -n_tokens <= position < n_tokens:
        raise ValueError(f"position {position} is outside the prompt's {n_tokens} tokens")
    captured: list[torch.Tensor] = []
    handles = [layer.register_forward_hook(lambda m, a, out: captured.append(first(out)[0])) for layer in arch.layers]
    try:
        arch.model(**batch, use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    stream = torch.stack(captured)  # [n_layers, n_tokens, d_model]
    probs = arch.unembed()(arch.final_norm()(stream[:, position])).float().softmax(-1)
    top = probs.topk(min(k, probs.shape[-1]), dim=-1)
    table = [
        [(tokenizer.decode([int(i)]), round(float(p), 4)) for p, i in zip(values, indices)]
        for values, indices in zip(top.values, top.indices)
    ]
    tracked = {}
    for token, tid in ids.items():
        mine = probs[:, tid]
        ranks = (probs > mine[:, None]).sum(-1)
        tracked[token] = [(int(r), float(p)) for r, p in zip(ranks, mine)]
    return LensResult(table, tracked)
