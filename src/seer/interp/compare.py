"""Comparing next-token predictions and word use: one model's next tokens, model versus model, text versus text."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .arch import arch_of
from .checks import check_count, check_generate_prompts, check_model, check_prefill, check_prompt, check_texts, check_tokenizer, kind
from .generation import generate
from .tokens import Conversation, encode, render

__all__ = ["NextTokenShift", "SampleComparison", "compare_next_token", "compare_samples", "next_token_logprobs", "overrepresented_words"]


@torch.no_grad()
def _logprobs(model: nn.Module, tokenizer: Any, prompt: str | Conversation, prefill: str | None, chat: bool) -> torch.Tensor:
    """Log-probabilities (float32, on CPU) of every vocabulary token after the rendered prompt and prefill."""
    text = render(tokenizer, prompt, chat=chat, prefill=prefill)
    batch = encode(tokenizer, [text], arch_of(model).device, chat_rendered=chat)
    logits = model(**batch).logits[0, -1]
    return logits.float().log_softmax(-1).cpu()


def next_token_logprobs(
    model: nn.Module,
    tokenizer: Any,
    prompt: str | Conversation,
    *,
    prefill: str | None = None,
    chat: bool = True,
    k: int = 20,
) -> list[tuple[str, float]]:
    """The top-`k` next tokens as `(token, logprob)` pairs, most likely first, after the prompt and optional prefill.

    `prompt` is one user message (or a conversation, chat only); with `chat` the chat template is applied
    and `prefill` starts the assistant's reply (left open, so the next token continues it). Without `chat`
    the prompt and prefill are the raw text. Log-probabilities are natural logs (`math.exp` gives the
    probability).
    """
    check_model("model", model)
    check_tokenizer(tokenizer)
    check_prompt(prompt, chat)
    check_prefill(prefill)
    check_count("k", k)
    logprobs = _logprobs(model, tokenizer, prompt, prefill, chat)
    top = logprobs.topk(min(k, logprobs.numel()))
    return [(tokenizer.decode([int(i)]), float(v)) for v, i in zip(top.values, top.indices)]


class NextTokenShift(dict):  # type: ignore[type-arg]
    """`{"promoted": [...], "suppressed": [...]}` as `compare_next_token` returns it, plus `.plot()` and `.table()`."""

    def table(self) -> str:
        """A text table: one line per token, promoted then suppressed, with both log-probabilities and the change."""
        lines = ["token\tlogprob_a\tlogprob_b\tdiff"]
        for row in self["promoted"] + self["suppressed"]:
            lines.append(f"{row['token']!r}\t{row['logprob_a']:.3f}\t{row['logprob_b']:.3f}\t{row['diff']:+.3f}")
        return "\n".join(lines)

    def plot(self, names: tuple[str, str] = ("model_a", "model_b")) -> Any:
        """A matplotlib bar chart of the change in log-probability per token: promoted bars right, suppressed left."""
        import matplotlib.pyplot as plt

        rows = self["promoted"][::-1] + self["suppressed"]
        if not rows:
            raise ValueError("nothing to plot: no plausible token changed (lower min_prob to see smaller changes)")
        fig, ax = plt.subplots(figsize=(6, 0.3 * len(rows) + 1.2))
        ax.barh([repr(r["token"]) for r in rows], [r["diff"] for r in rows], color=["tab:blue" if r["diff"] > 0 else "tab:red" for r in rows])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"log p({names[0]}) - log p({names[1]})")
        ax.set_title("promoted (right) and suppressed (left) next tokens")
        fig.tight_layout()
        return fig


def compare_next_token(
    model_a: nn.Module,
    model_b: nn.Module,
    tokenizer: Any,
    prompt: str | Conversation,
    *,
    prefill: str | None = None,
    chat: bool = True,
    k: int = 10,
    min_prob: float = 0.01,
) -> NextTokenShift:
    """`{"promoted": [...], "suppressed": [...]}`: the plausible next tokens `model_a` favours most and least versus `model_b`.

    Only plausible tokens count: probability at least `min_prob` under either model (raw differences are
    otherwise dominated by junk tail tokens). Each row is `{"token", "logprob_a", "logprob_b", "diff"}`
    with `diff = logprob_a - logprob_b`; `promoted` holds up to `k` rows with `diff > 0`, largest first,
    and `suppressed` up to `k` with `diff < 0`, most negative first. A model compared with itself
    promotes and suppresses nothing. Both models must share `tokenizer`'s vocabulary. The result is a dict
    with `.table()` (text) and `.plot()` (a bar chart of the changes).
    """
    check_model("model_a", model_a)
    check_model("model_b", model_b)
    check_tokenizer(tokenizer)
    check_prompt(prompt, chat)
    check_prefill(prefill)
    check_count("k", k)
    if not isinstance(min_prob, (int, float)) or isinstance(min_prob, bool):
        raise TypeError(f"min_prob must be a probability (a float in [0, 1]), got {kind(min_prob)}")
    if not 0 <= min_prob <= 1:
        raise ValueError(f"min_prob must be a probability in [0, 1], got {min_prob}")
    a = _logprobs(model_a, tokenizer, prompt, prefill, chat)
    b = _logprobs(model_b, tokenizer, prompt, prefill, chat)
    if a.shape != b.shape:
        raise ValueError(
            f"model_a and model_b have different vocabularies ({a.numel()} vs {b.numel()} logits); "
            "compare models that share one tokenizer"
        )
    plausible = (a.exp() >= min_prob) | (b.exp() >= min_prob)
    diff = a - b
    ids = plausible.nonzero().flatten().tolist()

    def row(i: int) -> dict[str, Any]:
        return {"token": tokenizer.decode([i]), "logprob_a": float(a[i]), "logprob_b": float(b[i]), "diff": float(diff[i])}

    promoted = sorted((i for i in ids if diff[i] > 0), key=lambda i: -float(diff[i]))[:k]
    suppressed = sorted((i for i in ids if diff[i] < 0), key=lambda i: float(diff[i]))[:k]
    return NextTokenShift(promoted=[row(i) for i in promoted], suppressed=[row(i) for i in suppressed])


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _words(texts: Sequence[str]) -> Counter[str]:
    return Counter(word for text in texts for word in _WORD.findall(text.lower()))


def overrepresented_words(
    texts_a: Sequence[str], texts_b: Sequence[str], *, k: int = 20, min_count: int = 2
) -> list[dict[str, Any]]:
    """Up to `k` words over-represented in `texts_a` versus `texts_b`: rows `{"word", "count_a", "count_b", "log_ratio"}`, largest first.

    Words are lower-cased runs of letters and digits (apostrophes inside kept). `log_ratio` is the natural
    log of the word's add-one-smoothed frequency in `texts_a` over that in `texts_b` (smoothing over the
    joint vocabulary, so a word absent from `texts_b` still gets a finite ratio); only words seen at least
    `min_count` times in `texts_a` and with a positive ratio are listed.
    """
    check_texts("texts_a", texts_a)
    check_texts("texts_b", texts_b)
    check_count("k", k)
    check_count("min_count", min_count)
    a, b = _words(texts_a), _words(texts_b)
    vocab = len(a.keys() | b.keys())
    total_a, total_b = sum(a.values()) + vocab, sum(b.values()) + vocab
    rows = [
        {"word": w, "count_a": n, "count_b": b[w], "log_ratio": math.log((n + 1) / total_a) - math.log((b[w] + 1) / total_b)}
        for w, n in a.items()
        if n >= min_count
    ]
    rows = [r for r in rows if r["log_ratio"] > 0]
    rows.sort(key=lambda r: (-r["log_ratio"], -r["count_a"], r["word"]))
    return rows[:k]


class SampleComparison(list):  # type: ignore[type-arg]
    """`compare_samples`'s result: one row per prompt, `{"prompt", "a": [texts], "b": [texts]}`, side by side.

    `.texts("a")` flattens one model's samples (for `overrepresented_words`), `.words()` lists the words
    over-represented in `a`'s samples versus `b`'s, and `.table()` prints the samples side by side.
    """

    def texts(self, which: str) -> list[str]:
        """Every sample of one model (`"a"` or `"b"`), prompt by prompt."""
        if which not in ("a", "b"):
            raise ValueError(f"which must be 'a' or 'b', got {which!r}")
        return [text for row in self for text in row[which]]

    def words(self, *, k: int = 20, min_count: int = 2) -> list[dict[str, Any]]:
        """`overrepresented_words` of model a's samples versus model b's."""
        return overrepresented_words(self.texts("a"), self.texts("b"), k=k, min_count=min_count)

    def table(self, width: int = 60) -> str:
        """The samples side by side, each cut to `width` characters."""

        def cut(text: str) -> str:
            flat = " ".join(text.split())
            return flat if len(flat) <= width else flat[: width - 1] + "…"

        lines = []
        for row in self:
            lines.append(f"## {cut(str(row['prompt']))}")
            for a, b in zip(row["a"], row["b"]):
                lines.append(f"{cut(a):<{width}} | {cut(b)}")
        return "\n".join(lines)


def compare_samples(
    model_a: nn.Module,
    model_b: nn.Module,
    tokenizer: Any,
    prompts: str | Conversation | Sequence[str | Conversation],
    *,
    n: int = 1,
    seed: int = 0,
    chat: bool = True,
    system: str | None = None,
    prefill: str | None = None,
    max_new_tokens: int = 64,
    do_sample: bool = True,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> SampleComparison:
    """Sample both models on the same prompts, `n` samples each: a `SampleComparison`, one row per prompt.

    Each model samples with the torch seed set to `seed` first, so the two columns differ only by the
    models (a model compared with itself gives identical columns). The other arguments are `generate`'s.
    Both models must share `tokenizer`. Use `.words()` for the words model a over-uses and `.table()` to read.
    """
    check_model("model_a", model_a)
    check_model("model_b", model_b)
    check_tokenizer(tokenizer)
    check_generate_prompts(prompts, chat)
    check_count("n", n)
    check_count("seed", seed, 0)
    single = isinstance(prompts, str) or (isinstance(prompts, list) and bool(prompts) and isinstance(prompts[0], dict))
    items = [prompts] if single else list(prompts)
    repeated = [p for p in items for _ in range(n)]
    options = dict(chat=chat, system=system, prefill=prefill, max_new_tokens=max_new_tokens, do_sample=do_sample, temperature=temperature, top_p=top_p)
    columns = {}
    for which, model in (("a", model_a), ("b", model_b)):
        torch.manual_seed(seed)
        columns[which] = generate(model, tokenizer, repeated, **options)  # type: ignore[arg-type]
    return SampleComparison(
        {"prompt": p, "a": columns["a"][i * n : (i + 1) * n], "b": columns["b"][i * n : (i + 1) * n]} for i, p in enumerate(items)
    )
