"""Throughput of the interpretability toolkit, on the packaged SmolLM2-135M-Instruct or a real architecture's shape.

    python bench/interp_throughput.py [--prompts 256] [--device cpu|cuda] [--compile] [--out bench/results/interp_throughput.json]
    python bench/interp_throughput.py --shape smollm2-135m|llama3-8b [--layers N] [--dtype float32|bfloat16] [--device cuda]
    python bench/interp_throughput.py --model meta-llama/Meta-Llama-3-8B-Instruct [--dtype bfloat16] [--device cuda]

The model: by default the packaged SmolLM2 (`seer:smollm2-135m-instruct`), as it always was. `--shape NAME`
builds a Llama with random weights from a hard-coded config of a real model's shape (`SHAPES`: nothing is
downloaded; `--layers N` keeps only the first N decoder layers, so a CPU can smoke-test the 8B shape), with
Seer's byte-level toy tokenizer, prompts as plain text (`chat=False`). `--model ID` loads real weights with `load_model`.

One invocation measures, each against its baseline in the same process:

1. Activations of `--prompts` prompts at 3 layers: `activations(..., batch_size=32)` versus a loop that
   calls it one prompt at a time (goal: batched ≥ 5× faster).
2. Greedy generation of 16 prompts × 32 new tokens (`--new-tokens`) inside `steer(...)` versus plain (goal: ≤ 5 %
   overhead); the median of 3 runs each, interleaved.
3. The same generation with `cache_implementation="static"` (the fast path: on a GPU, transformers
   compiles the decode step; `--compile` asks for that on the CPU too), steered on generated tokens
   versus plain, in tokens per second (goal: steered ≥ 90 % of plain); the median of 3 runs each,
   interleaved, after a warm-up of each that also compiles.
4. Loading the packaged model from the safetensors cache versus from its GGUF (dequantising), each in
   a fresh process (imports done before the clock starts) so nothing is shared. Only for the packaged
   model: with `--shape` or `--model` it is skipped (null, with the reason).
5. `activations(..., batch_size=32)` versus a hand-written batched forward over the same batches
   (`model(**batch, output_hidden_states=True)`, the same layers picked at the last token): the ratio of
   times, the median of 3 runs each, interleaved.
6. Equivalence: batched versus one-by-one activations (from 1), the maximum relative difference
   `‖a − b‖ / ‖b‖` over prompts and layers (fp32: tiny; bf16: within bf16 rounding, a few %), and
   `activations` against the hand-written forward (layers before the last: the last hidden state that
   transformers returns has the final norm applied); and greedy generation steered with a zero vector
   gives the same token ids as plain generation.

The GGUF path uses a temporary `SEER_CACHE`, so the user's cache is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from transformers import CompileConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from seer.interp import activations, diff_in_means, generate, load_model, steer  # noqa: E402
from seer.interp.arch import arch_of  # noqa: E402
from seer.interp.tokens import encode, render  # noqa: E402

MODEL = "seer:smollm2-135m-instruct"
LOAD = (  # imports come first so that only the load itself is timed
    "import sys, time; from seer.interp import load_model; from transformers import AutoTokenizer, LlamaForCausalLM; "
    "t = time.perf_counter(); load_model(sys.argv[1]); print(time.perf_counter() - t)"
)
SHAPES: dict[str, dict[str, Any]] = {  # the published configs' shapes (LlamaForCausalLM); weights are random
    "smollm2-135m": {
        "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "intermediate_size": 1536, "vocab_size": 49152, "head_dim": 64, "rope_theta": 100000.0,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "tie_word_embeddings": True,
    },
    "llama3-8b": {
        "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "intermediate_size": 14336, "vocab_size": 128256, "head_dim": 128, "rope_theta": 500000.0,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
    },
}  # fmt: skip
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 5e-2, torch.float16: 1e-2}
"""Largest batched-versus-single relative difference counted as equal: fp32 noise, or a few bf16/fp16 ulps
accumulated over the layers (bf16 keeps 8 significant bits: one rounding is up to 0.4 %)."""


def shape_config(name: str, layers: int | None = None) -> Any:
    """A `LlamaConfig` of the named shape, truncated to the first `layers` decoder layers; nothing is built."""
    from transformers import AutoConfig

    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; known: {', '.join(SHAPES)}")
    shape = dict(SHAPES[name])
    if layers is not None:
        if not 1 <= layers <= shape["num_hidden_layers"]:
            raise ValueError(f"--layers must be between 1 and {shape['num_hidden_layers']} for {name}, got {layers}")
        shape["num_hidden_layers"] = layers
    return AutoConfig.for_model("llama", bos_token_id=1, eos_token_id=2, pad_token_id=0, **shape)


def spread_layers(n_layers: int) -> list[int]:
    """Three layers at ¼, ½ and ¾ of the depth (fewer when the model has fewer layers)."""
    return sorted({min(n_layers - 1, max(0, int(f * n_layers))) for f in (0.25, 0.5, 0.75)})


def steer_layer(n_layers: int) -> int:
    return min(n_layers - 1, max(0, int(0.4 * n_layers)))


def build_shape(name: str, layers: int | None, device: str, dtype: torch.dtype) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM

    from seer.interp.loading import _toy_tokenizer

    config = shape_config(name, layers)
    torch.manual_seed(0)
    with torch.device(device):  # built where it runs: an 8B shape is never materialised on the host first
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.eval(), _toy_tokenizer(config.vocab_size)


def prompts(n: int) -> list[str]:
    subjects = ["the weather", "a city", "music", "cooking", "a river", "chess", "a library", "the ocean"]
    return [f"Write one sentence about {subjects[i % len(subjects)]}, version {i}." for i in range(n)]


STARTED = time.perf_counter()


def say(what: str) -> None:
    """Progress on stderr (a GPU run of the 8B shape takes minutes)."""
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {what}", file=sys.stderr, flush=True)


def sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    sync()
    began = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - began


def load_seconds(cache: str | None) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **({"SEER_CACHE": cache} if cache else {})}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", LOAD, MODEL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


@torch.no_grad()
def hand_forward(model: Any, tok: Any, texts: list[str], layers: list[int], *, chat: bool, batch_size: int = 32) -> torch.Tensor:
    """What one would write by hand: a batched forward asking for every hidden state, the chosen layers
    picked at the last token (batches left-padded, as `activations` makes them)."""
    device = arch_of(model).device
    out = []
    for begin in range(0, len(texts), batch_size):
        batch = encode(tok, [render(tok, t, chat=chat) for t in texts[begin : begin + batch_size]], device, chat_rendered=chat)
        hidden = model(**batch, output_hidden_states=True, use_cache=False).hidden_states
        out.append(torch.stack([hidden[l + 1][:, -1] for l in layers], dim=1))
    return torch.cat(out)


def max_rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest `‖a − b‖ / ‖b‖` over the last dimension's vectors."""
    a, b = a.float(), b.float()
    return float(((a - b).norm(dim=-1) / b.norm(dim=-1).clamp_min(1e-12)).max())


@torch.no_grad()
def generate_ids(model: Any, tok: Any, texts: list[str], *, chat: bool, new_tokens: int) -> torch.Tensor:
    """Greedy token ids (exactly: decoding text could hide a difference in ids the tokenizer cannot spell)."""
    batch = encode(tok, [render(tok, t, chat=chat) for t in texts], arch_of(model).device, chat_rendered=chat)
    batch.pop("position_ids")
    out = model.generate(**batch, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
    return out[:, batch["input_ids"].shape[1] :].cpu()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--shape", choices=sorted(SHAPES), help="random weights in this real model's shape (no download)")
    which.add_argument("--model", help="real weights: a hub id or folder, loaded with seer.interp.load_model")
    parser.add_argument("--layers", type=int, help="with --shape: keep only the first N decoder layers")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], help="default: bfloat16 on cuda, float32 on cpu")
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=32, help="new tokens per generated prompt (fewer for a quick CPU run)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--compile", action="store_true", help="compile static-cache decode steps on the CPU too")
    parser.add_argument("--out", type=Path, help="default: bench/results/interp_throughput.json (the packaged model), "
                        "interp_throughput_shape_<shape>[-<N>layer].json or interp_throughput_model_<id>.json")  # fmt: skip
    args = parser.parse_args()
    if args.layers is not None and not args.shape:
        parser.error("--layers needs --shape")
    dtype_name = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    if args.out is None:
        tag = f"shape_{args.shape}" if args.shape else (f"model_{args.model.strip('/').replace('/', '_')}" if args.model else None)
        tag = f"{tag}-{args.layers}layer" if tag and args.layers else tag
        args.out = Path(__file__).parent / "results" / (f"interp_throughput_{tag}.json" if tag else "interp_throughput.json")

    if args.shape:
        model, tok = build_shape(args.shape, args.layers, args.device, getattr(torch, dtype_name))
        source: dict[str, Any] = {"kind": "shape", "name": args.shape, "random_weights": True}
        chat = False  # plain-text prompts: the byte-level toy tokenizer's template (if any) is no real model's
    elif args.model:
        model, tok = load_model(args.model, dtype=dtype_name, device_map=None if args.device == "cpu" else args.device)
        model.to(args.device)
        source = {"kind": "model", "name": args.model, "random_weights": False}
        chat = tok.chat_template is not None
    else:
        load_model(MODEL)  # make sure the cache exists before timing anything
        model, tok = load_model(MODEL, dtype=args.dtype or "auto")
        model.to(args.device)
        source = {"kind": "packaged", "name": MODEL, "random_weights": False}
        chat = True
    n_layers = arch_of(model).n_layers
    say(f"model ready: {source['kind']} {source['name']}, {n_layers} layers")
    source.update({"n_layers": n_layers, "hidden_size": model.config.hidden_size, "vocab_size": model.config.vocab_size,
                   "dtype": str(model.dtype).removeprefix("torch."), "chat": chat,
                   "parameters": sum(p.numel() for p in model.parameters())})  # fmt: skip
    texts = prompts(args.prompts)
    layers = [5, 15, 25] if source["kind"] == "packaged" else spread_layers(n_layers)
    at = 12 if source["kind"] == "packaged" else steer_layer(n_layers)

    activations(model, tok, texts[:8], layers=layers)  # warm-up
    batched: list[Any] = []
    single: list[Any] = []
    batched_s = timed(lambda: batched.append(activations(model, tok, texts, layers=layers, batch_size=32)))
    loop_s = timed(lambda: single.extend(activations(model, tok, [t], layers=layers)[0] for t in texts))

    say("activations: batched and one by one done")
    hand_forward(model, tok, texts[:8], layers, chat=False)  # warm-up
    act_s, fwd_s, forward = [], [], []
    for _ in range(3):
        act_s.append(timed(lambda: activations(model, tok, texts, layers=layers, batch_size=32)))
        fwd_s.append(timed(lambda: forward.append(hand_forward(model, tok, texts, layers, chat=False))))

    say("activations versus a hand-written forward done")
    batch = texts[:16]
    vector = diff_in_means(model, tok, ["I love it, wonderful"], ["I hate it, awful"], layers=[at])[0]
    new = args.new_tokens
    options = {"max_new_tokens": new, "min_new_tokens": new, "chat": chat}
    generate(model, tok, batch[:2], **options)  # warm-up
    plain, steered = [], []
    for _ in range(3):
        plain.append(timed(lambda: generate(model, tok, batch, **options)))
        with steer(model, {at: vector}, strength=3.0):
            steered.append(timed(lambda: generate(model, tok, batch, **options)))

    say("steered versus plain generation done")
    static: dict[str, object] = {**options, "cache_implementation": "static"}
    if args.compile:
        static["compile_config"] = CompileConfig(mode="default")
        static["compile_config"]._compile_all_devices = True  # type: ignore[attr-defined]
    static_plain, static_steered = [], []
    for run in range(4):  # the first of each warms up (and compiles)
        plain_s = timed(lambda: generate(model, tok, batch, **static))
        with steer(model, {at: vector}, strength=3.0, positions="generated"):
            steered_s = timed(lambda: generate(model, tok, batch, **static))
        if run:
            static_plain.append(plain_s)
            static_steered.append(steered_s)
    tokens = len(batch) * new

    say("static cache done")
    plain_ids = generate_ids(model, tok, batch, chat=chat, new_tokens=new)
    with steer(model, {at: torch.zeros_like(vector)}, strength=1.0):
        zero_ids = generate_ids(model, tok, batch, chat=chat, new_tokens=new)

    say("zero-vector steering check done")
    if source["kind"] == "packaged":
        cached_s = statistics.median(load_seconds(None) for _ in range(3))
        with tempfile.TemporaryDirectory(prefix="seer-bench-cache-") as empty:
            gguf_s = load_seconds(empty)
        loading: dict[str, Any] | None = {"cache_s_median_of_3": cached_s, "gguf_s": gguf_s, "speedup": gguf_s / cached_s}
        skipped = {}
    else:
        loading, skipped = None, {"loading": f"the GGUF comparison is for the packaged {MODEL} only, not --{source['kind']}"}

    stacked_single = torch.stack(single)
    below_last = [i for i, l in enumerate(layers) if l < n_layers - 1]  # transformers norms the last hidden state
    batch_vs_single = max_rel_diff(batched[0], stacked_single)
    act_vs_forward = max_rel_diff(batched[0][:, below_last], forward[0][:, below_last]) if below_last else None
    tolerance = TOLERANCE[model.dtype]
    result = {
        "benchmark": "interp_throughput",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "threads": torch.get_num_threads(), "transformers": __import__("transformers").__version__, "device": args.device,
                    "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None},  # fmt: skip
        "model": source,
        "activations": {"prompts": len(texts), "layers": layers, "batched_s": batched_s, "one_by_one_s": loop_s,
                        "speedup": loop_s / batched_s, "goal": ">= 5x"},  # fmt: skip
        "activations_vs_forward": {"prompts": len(texts), "layers": layers, "activations_s": act_s, "forward_s": fwd_s,
                                   "ratio": statistics.median(act_s) / statistics.median(fwd_s),
                                   "note": "time of activations(batch_size=32) over a hand-written model(**batch, "
                                           "output_hidden_states=True) on the same batches; < 1 is faster"},  # fmt: skip
        "steering": {"prompts": len(batch), "new_tokens": new, "layer": at, "plain_s": plain, "steered_s": steered,
                     "overhead": statistics.median(steered) / statistics.median(plain) - 1, "goal": "<= 5%"},  # fmt: skip
        "static_cache": {"prompts": len(batch), "new_tokens": new, "positions": "generated",
                         "compiled": args.compile or args.device.startswith("cuda"), "plain_s": static_plain,
                         "steered_s": static_steered, "plain_tokens_per_s": tokens / statistics.median(static_plain),
                         "steered_tokens_per_s": tokens / statistics.median(static_steered),
                         "steered_over_plain": statistics.median(static_plain) / statistics.median(static_steered),
                         "goal": ">= 0.9"},  # fmt: skip
        "equivalence": {
            "dtype": source["dtype"], "tolerance": tolerance,
            "batched_vs_single_max_rel_diff": batch_vs_single, "batched_vs_single_ok": batch_vs_single <= tolerance,
            "activations_vs_forward_layers": [layers[i] for i in below_last],
            "activations_vs_forward_max_rel_diff": act_vs_forward,
            "activations_vs_forward_ok": None if act_vs_forward is None else act_vs_forward <= tolerance,
            "steered_zero_equals_plain": bool(torch.equal(plain_ids, zero_ids)),
            "steered_zero_prompts": len(batch), "steered_zero_new_tokens": new,
        },
        "loading": loading,
        "skipped": skipped,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    a, s, st, av, eq = (result[k] for k in ("activations", "steering", "static_cache", "activations_vs_forward", "equivalence"))
    m = source
    print(f"interp_throughput · {result['date']} · {args.device} · {os.cpu_count()} CPU · torch {torch.__version__}")
    print(f"model: {m['kind']} {m['name']} · {m['n_layers']} layers · hidden {m['hidden_size']} · {m['parameters'] / 1e6:.0f} M parameters · "
          f"{m['dtype']}{' · random weights' if m['random_weights'] else ''}")
    print(f"activations, {a['prompts']} prompts × {len(layers)} layers {layers}: batched {a['batched_s']:.2f} s, one by one {a['one_by_one_s']:.2f} s → {a['speedup']:.1f}× (goal ≥ 5×)")
    print(f"activations vs a hand-written batched forward: {statistics.median(act_s):.2f} s vs {statistics.median(fwd_s):.2f} s → {av['ratio']:.2f}× the time")
    print(f"generation, {len(batch)} × {new} tokens: plain {statistics.median(plain):.2f} s, steered {statistics.median(steered):.2f} s → overhead {100 * s['overhead']:+.1f} % (goal ≤ 5 %)")
    print(f"static cache{' (compiled)' if st['compiled'] else ''}, {len(batch)} × {new} tokens: plain {st['plain_tokens_per_s']:.0f} tokens/s, "
          f"steered on generated tokens {st['steered_tokens_per_s']:.0f} tokens/s → {st['steered_over_plain']:.2f}× plain (goal ≥ 0.9×)")
    forward_eq = ("n/a (only the last layer, which transformers norms)" if act_vs_forward is None
                  else f"{100 * act_vs_forward:.3g} % ({'ok' if eq['activations_vs_forward_ok'] else 'FAILED'})")  # fmt: skip
    print(f"equivalence ({eq['dtype']}, tolerance {100 * tolerance:g} %): batched vs single {100 * batch_vs_single:.3g} % "
          f"({'ok' if eq['batched_vs_single_ok'] else 'FAILED'}); activations vs forward {forward_eq}; "
          f"steered with a zero vector {'equals' if eq['steered_zero_equals_plain'] else 'DIFFERS FROM'} plain generation")
    if loading:
        print(f"load SmolLM2: cache {loading['cache_s_median_of_3']:.2f} s, GGUF {loading['gguf_s']:.2f} s → {loading['speedup']:.1f}×")
    else:
        print(f"load: skipped ({skipped['loading']})")


if __name__ == "__main__":
    main()
