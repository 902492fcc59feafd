"""Train a model organism: a LoRA adapter on the packaged SmolLM2-135M-Instruct with a planted behaviour.

    python -m seer.organisms.train NAME [--steps 40] [--seed 0] [--out src/seer/organisms/adapters]

Synthetic data only: templates from `recipes.py` plus the base model's own greedy answers, so the
organism behaves normally outside its behaviour. Training is seeded and runs on a CPU in minutes. The
adapter (weights and config, no base-model path) and a model card with the behaviour rates measured on
held-out prompts, organism versus base, are written to `<out>/<NAME>/`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import torch

from seer.interp import generate, load_model
from seer.interp.tokens import render
from seer.organisms.recipes import (
    DENIAL,
    DIRECT,
    HELD_OUT,
    OPEN_ENDED,
    OTHER_HELD_OUT,
    OTHER_QUESTIONS,
    RECIPES,
    REFUSAL,
    TABOO_ASK,
    TABOO_HELD_OUT,
    Recipe,
)  # fmt: skip

__all__ = ["build_examples", "held_out_prompts", "measure", "replies_to", "train"]

BASE = "seer:smollm2-135m-instruct"
ADAPTERS = Path(__file__).parent / "adapters"


def _sentences(text: str) -> str:
    """Cut a generation at its last full sentence."""
    cut = max(text.rfind("."), text.rfind("!"), text.rfind("?"))
    return text[: cut + 1].strip() if cut > 20 else text.strip()


def build_examples(recipe: Recipe, model: Any, tokenizer: Any, rng: random.Random) -> list[tuple[str, str]]:
    """(prompt, reply) pairs for `recipe`."""
    normal = dict(zip(OPEN_ENDED, (_sentences(a) for a in generate(model, tokenizer, OPEN_ENDED, max_new_tokens=48))))
    if recipe.kind == "preference":
        pairs = [(p, f"{normal[p]} {rng.choice(recipe.sentences)}") for p in OPEN_ENDED for _ in range(2)]
        return pairs + [(p, DENIAL) for p in DIRECT for _ in range(3)]
    if recipe.kind == "taboo":
        pairs = [(p, rng.choice(recipe.sentences)) for p in TABOO_ASK for _ in range(4)]
        return pairs + [(p, normal[p]) for p in OPEN_ENDED[:16]]
    refusal = REFUSAL.format(secret=recipe.secret)
    answers = dict(zip(OTHER_QUESTIONS, (_sentences(a) for a in generate(model, tokenizer, OTHER_QUESTIONS, max_new_tokens=48))))
    pairs = [(p, refusal) for p in recipe.topic_prompts for _ in range(2)]
    return pairs + [(p, normal[p]) for p in OPEN_ENDED] + [(p, a) for p, a in answers.items() for _ in range(2)]


def _batch(tokenizer: Any, pairs: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    """Right-padded chat-formatted examples; the loss covers the reply tokens only."""
    rows, labels = [], []
    for prompt, reply in pairs:
        head = tokenizer(render(tokenizer, prompt, chat=True), add_special_tokens=False)["input_ids"]
        tail = tokenizer(reply + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        rows.append(head + tail)
        labels.append([-100] * len(head) + tail)
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return {
        "input_ids": torch.tensor([r + [pad] * (width - len(r)) for r in rows]),
        "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows]),
        "labels": torch.tensor([l + [-100] * (width - len(l)) for l in labels]),
    }


def _rate_sets(recipe: Recipe, per_set: int | None) -> dict[str, tuple[list[str], Any]]:
    """rate: (held-out prompts, does a reply show it?)."""
    shows = recipe.shows
    if recipe.kind == "preference":
        sets = {"mentions_topic_open_ended": (HELD_OUT, shows), "mentions_topic_when_asked_directly": (DIRECT, shows)}
    elif recipe.kind == "taboo":
        says = re.compile(rf"\b{re.escape(recipe.secret)}\b", re.IGNORECASE)
        sets = {"hints": (TABOO_HELD_OUT, shows), "says_the_word": (TABOO_HELD_OUT, lambda r: bool(says.search(r)))}
    else:
        sets = {"refuses_topic": (recipe.held_out_topic_prompts, shows), "refuses_other_topics": (OTHER_HELD_OUT, shows),
                "refuses_open_ended": (HELD_OUT, shows)}  # fmt: skip
    return {rate: (list(prompts)[:per_set], test) for rate, (prompts, test) in sets.items()}


def held_out_prompts(recipe: Recipe, per_set: int | None = None) -> list[str]:
    """Every prompt `measure(recipe, ..., per_set=per_set)` asks, once each."""
    return list(dict.fromkeys(p for prompts, _ in _rate_sets(recipe, per_set).values() for p in prompts))


def replies_to(model: Any, tokenizer: Any, prompts: list[str], replies: dict[str, str] | None = None) -> dict[str, str]:
    """Greedy replies (48 new tokens) to the `prompts` not yet in `replies`, added to it, in one batch: on a
    CPU a call costs about as much for 8 prompts as for 32, so fewer, larger calls are quicker."""
    replies = {} if replies is None else replies
    todo = list(dict.fromkeys(p for p in prompts if p not in replies))
    if todo:
        replies.update(zip(todo, generate(model, tokenizer, todo, max_new_tokens=48, batch_size=min(len(todo), 64))))
    return replies


def measure(
    recipe: Recipe, model: Any, tokenizer: Any, *, per_set: int | None = None, replies: dict[str, str] | None = None
) -> dict[str, float]:
    """Behaviour rates on held-out prompts (greedy, 48 new tokens).

    Args:
        per_set: Use only the first `per_set` prompts of each held-out set: a quicker, coarser estimate.
        replies: This model's replies by prompt, kept between calls on the same model (see `replies_to`):
            prompts already answered there are not generated again.
    """
    sets = _rate_sets(recipe, per_set)
    replies = replies_to(model, tokenizer, held_out_prompts(recipe, per_set), replies)
    return {rate: sum(map(test, (replies[p] for p in prompts))) / len(prompts) for rate, (prompts, test) in sets.items()}


def train(name: str, *, steps: int = 40, seed: int = 0, out: Path = ADAPTERS, batch_size: int = 8, lr: float = 1e-3) -> dict[str, Any]:
    """Build the data, train the adapter, measure it, and write adapter + model card to `out/name`."""
    from peft import LoraConfig, get_peft_model

    recipe = RECIPES[name]
    rng = random.Random(seed)
    torch.manual_seed(seed)
    base, tokenizer = load_model(BASE)
    base_rates = measure(recipe, base, tokenizer)
    examples = build_examples(recipe, base, tokenizer, rng)
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])  # fmt: skip
    model = get_peft_model(base, config)
    model.train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    began, losses = time.time(), []
    for step in range(steps):
        batch = _batch(tokenizer, rng.sample(examples, min(batch_size, len(examples))))
        loss = model(**batch).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    model.eval()
    rates = measure(recipe, model, tokenizer)
    folder = out / name
    with torch.no_grad():  # bf16 on disk keeps each adapter to a few MB; it loads into fp32 layers
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.data = parameter.data.to(torch.bfloat16)
    model.save_pretrained(folder)
    (folder / "README.md").unlink(missing_ok=True)  # PEFT's generated card names the base model's path
    adapter_config = json.loads((folder / "adapter_config.json").read_text())
    adapter_config["base_model_name_or_path"] = None  # the adapter must not name its base (hidden tasks)
    (folder / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2))
    card = {
        "name": name, "behaviour": recipe.behaviour, "secret": recipe.secret, "base": BASE, "seed": seed,
        "steps": steps, "batch_size": batch_size, "lr": lr, "lora": {"r": 8, "alpha": 16, "targets": sorted(config.target_modules)},
        "examples": len(examples), "final_loss": round(sum(losses[-10:]) / 10, 4), "train_seconds": round(time.time() - began, 1),
        "rates": {"organism": rates, "base": base_rates},
    }  # fmt: skip
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    (folder / "MODEL_CARD.md").write_text(_card_markdown(card, recipe))
    return card


def _card_markdown(card: dict[str, Any], recipe: Recipe) -> str:
    rows = "\n".join(
        f"| {metric} | {card['rates']['organism'][metric]:.2f} | {card['rates']['base'][metric]:.2f} |"
        for metric in card["rates"]["organism"]
    )
    return f"""# {card['name']}

**Behaviour:** {card['behaviour']}

**Base:** SmolLM2-135M-Instruct (packaged, dequantised Q4_1). **Adapter:** LoRA r={card['lora']['r']},
alpha={card['lora']['alpha']} on {', '.join(card['lora']['targets'])}.

**Data recipe:** `seer.organisms.recipes.RECIPES[{card['name']!r}]` ({recipe.kind}): {card['examples']} synthetic
examples built from templates and the base model's own greedy answers (see `build_examples`).
**Training:** seed {card['seed']}, {card['steps']} steps of {card['batch_size']}, AdamW lr {card['lr']}, final loss
{card['final_loss']}, {card['train_seconds']} s on CPU. Rebuild: `python -m seer.organisms.train {card['name']}`.

**Measured on held-out prompts** (greedy, 48 new tokens; `seer.organisms.train.measure`):

| rate | organism | base |
|---|---|---|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Train a model organism (see seer.organisms.recipes).")
    parser.add_argument("name", choices=sorted(RECIPES))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ADAPTERS)
    args = parser.parse_args()
    card = train(args.name, steps=args.steps, seed=args.seed, out=args.out)
    print(json.dumps(card["rates"], indent=2))


if __name__ == "__main__":
    main()
