"""Train the packaged model's residual-stream SAE and write it with its card: `python -m seer.saes.train`.

The corpus is what a machine without network has: the Python documentation's prose (`pydoc_data`) in
128-token windows, and the packaged chat model's own greedy replies to prompts about a broad list of
everyday topics (chat template included). Activations are the residual stream after one decoder layer,
every token but each sequence's first (its norm is an outlier: the attention sink). Deterministic for a
seed on one machine; run it alone (two torch processes on two cores thrash).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

TOPICS = (
    "dogs cats horses birds owls eagles fish sharks whales dolphins insects bees butterflies spiders snakes frogs "
    "elephants lions tigers bears wolves foxes rabbits mice cows sheep chickens penguins parrots turtles "
    "mountains rivers lakes forests deserts islands volcanoes beaches caves glaciers weather rain snow storms "
    "the sun the moon the stars planets the ocean the sky clouds rainbows seasons autumn winter spring summer "
    "bread cheese coffee tea chocolate fruit apples soup pizza rice vegetables baking cooking restaurants wine "
    "music guitars pianos painting photography films theatre dancing poetry novels libraries museums sculpture "
    "football tennis chess swimming running cycling climbing gardening fishing camping hiking knitting woodworking "
    "cities villages bridges lighthouses castles trains cars ships airplanes bicycles roads markets farms "
    "doctors teachers farmers engineers pilots nurses lawyers scientists artists soldiers sailors chefs "
    "computers phones the internet robots electricity magnets batteries clocks cameras telescopes microscopes "
    "mathematics physics chemistry biology history geography economics philosophy medicine astronomy "
    "friendship love fear anger happiness grief courage honesty justice freedom money work holidays birthdays "
    "weddings schools universities hospitals families children grandparents neighbours journeys dreams"
).split()
TEMPLATES = ("Tell me about {}.", "Write two sentences about {}.", "What is interesting about {}?")


def corpus(tokenizer: Any, windows: int, window_tokens: int = 128) -> list[str]:
    """The documentation prose, cut into `windows` texts of about `window_tokens` tokens."""
    import pydoc_data.topics

    ids = tokenizer("\n\n".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics)), add_special_tokens=False)["input_ids"]
    return [tokenizer.decode(ids[i : i + window_tokens]) for i in range(0, min(len(ids), windows * window_tokens), window_tokens)]


def chats(model: Any, tokenizer: Any, max_new_tokens: int) -> list[str]:
    """Each topic prompt, chat-rendered, with the model's own greedy reply appended."""
    from seer.interp import generate
    from seer.interp.tokens import render

    prompts = [t.format(topic.replace("-", " ")) for topic in TOPICS for t in TEMPLATES]
    replies = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=32)
    return [render(tokenizer, p, chat=True) + r for p, r in zip(prompts, replies, strict=True)]


def stream(model: Any, tokenizer: Any, texts: list[str], layer: int) -> torch.Tensor:
    """`[tokens, d_model]`: the residual stream after `layer` at every token of `texts` but each one's first, less
    the rare tokens whose norm is over five times the median (massive activations, a few per hundred thousand
    tokens, which would otherwise dominate the squared error)."""
    from seer.interp import activations

    per_text = activations(model, tokenizer, texts, layers=[layer], position="all", batch_size=16)
    x = torch.cat([a[0, 1:] for a in per_text]).float()
    norms = x.norm(dim=-1)
    return x[norms <= 5 * norms.median()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="seer:smollm2-135m-instruct")
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--d-sae", type=int, default=2048)
    parser.add_argument("--l1", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--windows", type=int, default=900, help="documentation windows of 128 tokens")
    parser.add_argument("--reply-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: src/seer/saes/<model>-res-<layer>")
    args = parser.parse_args(argv)

    from safetensors.torch import save_file

    from seer.interp import load_model, sae_metrics, train_sae

    torch.manual_seed(args.seed)
    started = time.perf_counter()
    model, tokenizer = load_model(args.model, dtype="float32")
    docs = corpus(tokenizer, args.windows)
    texts = docs + chats(model, tokenizer, args.reply_tokens)
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(args.seed)).tolist()
    held_out = [texts[i] for i in order[: len(texts) // 10]]
    train = [texts[i] for i in order[len(texts) // 10 :]]
    x_train, x_held = stream(model, tokenizer, train, args.layer), stream(model, tokenizer, held_out, args.layer)
    collected = time.perf_counter()
    sae = train_sae(x_train, args.d_sae, l1=args.l1, steps=args.steps, seed=args.seed)
    trained = time.perf_counter()
    metrics = {"train": sae_metrics(sae, x_train[:20000]), "held_out": sae_metrics(sae, x_held)}

    name = f"{args.model.removeprefix('seer:').removesuffix('-instruct')}-res-{args.layer}"
    out = args.out or Path(__file__).parent / name
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().half().contiguous() for k, v in sae.state_dict().items()}, out / "sae_weights.safetensors")
    cfg = {"d_in": x_train.shape[1], "d_sae": args.d_sae, "model": args.model, "layer": args.layer,
           "hook": f"residual stream after decoder layer {args.layer} (seer_interp.activations(..., layers=[{args.layer}]))",
           "architecture": "relu", "dtype": "float16"}  # fmt: skip
    (out / "cfg.json").write_text(json.dumps(cfg, indent=1) + "\n")
    card = {**cfg, "name": name, "seed": args.seed, "l1": args.l1, "steps": args.steps, "batch_size": 1024, "lr": 1e-3,
            "corpus": {"documentation_windows": len(docs), "chat_prompts": len(TOPICS) * len(TEMPLATES),
                       "reply_tokens": args.reply_tokens, "train_tokens": x_train.shape[0], "held_out_tokens": x_held.shape[0]},
            "metrics": metrics, "collect_seconds": round(collected - started, 1), "train_seconds": round(trained - collected, 1),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
            "command": " ".join(["python -m seer.saes.train", *(argv or [])])}  # fmt: skip
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    held = metrics["held_out"]
    (out / "MODEL_CARD.md").write_text(f"""# {name}: a residual-stream SAE for {args.model}

A ReLU sparse autoencoder with {args.d_sae} features on the residual stream after decoder layer {args.layer},
trained by Seer (`python -m seer.saes.train`, `seer_interp.train_sae`) so that SAE recipes run offline on the
packaged model. Load it with `seer_interp.load_sae("{out.name}")` from a folder copy, or
`seer.saes.sae_path("{name}")` on the host.

- **Corpus**: {len(docs)} windows of 128 tokens of the Python documentation's prose, and the model's own
  greedy replies ({args.reply_tokens} tokens) to {len(TOPICS) * len(TEMPLATES)} chat prompts about {len(TOPICS)} everyday topics (animals,
  places, food, hobbies, science, feelings…);
  {x_train.shape[0]} training tokens, {x_held.shape[0]} held out (a tenth of the texts). Each sequence's first
  token, and the rare tokens with over five times the median norm, are left out.
- **Training**: loss = squared error + {args.l1} · Σ fᵢ‖W_decᵢ‖ on inputs scaled to mean norm √d about
  their mean (folded back into the weights), Adam, learning rate 1e-3 decayed over the last fifth, {args.steps} steps of 1024 tokens,
  seed {args.seed}; {card['train_seconds']} s on {card['machine']}.
- **Held-out quality**: fraction of variance unexplained {held['fvu']:.3f}, mean L0 {held['l0']:.1f}, dead
  features {held['dead']:.1%}.
- **Limits**: a small corpus, mostly technical prose and short chat replies: expect coarse features and
  some that split or merge concepts a large SAE would separate; text unlike the corpus is reconstructed worse
  (`tests/interp/test_packaged_sae.py` measures it). Weights are stored in float16.
""")
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
