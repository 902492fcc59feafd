"""Throughput of the interpretability toolkit on the packaged SmolLM2-135M-Instruct.

    python bench/interp_throughput.py [--prompts 256] [--device cpu|cuda] [--compile] [--out bench/results/interp_throughput.json]

One invocation measures, each against its baseline in the same process:

1. Activations of `--prompts` prompts at 3 layers: `activations(..., batch_size=32)` versus a loop that
   calls it one prompt at a time (goal: batched ≥ 5× faster).
2. Greedy generation of 16 prompts × 32 new tokens inside `steer(...)` versus plain (goal: ≤ 5 % overhead);
   the median of 3 runs each, interleaved.
3. The same generation with `cache_implementation="static"` (the fast path: on a GPU, transformers
   compiles the decode step; `--compile` asks for that on the CPU too), steered on generated tokens
   versus plain, in tokens per second (goal: steered ≥ 90 % of plain); the median of 3 runs each,
   interleaved, after a warm-up of each that also compiles.
4. Loading the packaged model from the safetensors cache versus from its GGUF (dequantising), each in
   a fresh process (imports done before the clock starts) so nothing is shared.

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

import torch
from transformers import CompileConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from seer.interp import activations, diff_in_means, generate, load_model, steer  # noqa: E402

MODEL = "seer:smollm2-135m-instruct"
LOAD = (  # imports come first so that only the load itself is timed
    "import sys, time; from seer.interp import load_model; from transformers import AutoTokenizer, LlamaForCausalLM; "
    "t = time.perf_counter(); load_model(sys.argv[1]); print(time.perf_counter() - t)"
)


def prompts(n: int) -> list[str]:
    subjects = ["the weather", "a city", "music", "cooking", "a river", "chess", "a library", "the ocean"]
    return [f"Write one sentence about {subjects[i % len(subjects)]}, version {i}." for i in range(n)]


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def load_seconds(cache: str | None) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **({"SEER_CACHE": cache} if cache else {})}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", LOAD, MODEL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--compile", action="store_true", help="compile static-cache decode steps on the CPU too")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "interp_throughput.json")
    args = parser.parse_args()

    load_model(MODEL)  # make sure the cache exists before timing anything
    model, tok = load_model(MODEL)
    model.to(args.device)
    texts = prompts(args.prompts)
    layers = [5, 15, 25]

    activations(model, tok, texts[:8], layers=layers)  # warm-up
    batched_s = timed(lambda: activations(model, tok, texts, layers=layers, batch_size=32))
    loop_s = timed(lambda: [activations(model, tok, [t], layers=layers) for t in texts])

    batch = texts[:16]
    vector = diff_in_means(model, tok, ["I love it, wonderful"], ["I hate it, awful"], layers=[12])[0]
    options = {"max_new_tokens": 32, "min_new_tokens": 32}
    generate(model, tok, batch[:2], **options)  # warm-up
    plain, steered = [], []
    for _ in range(3):
        plain.append(timed(lambda: generate(model, tok, batch, **options)))
        with steer(model, {12: vector}, strength=3.0):
            steered.append(timed(lambda: generate(model, tok, batch, **options)))

    static: dict[str, object] = {**options, "cache_implementation": "static"}
    if args.compile:
        static["compile_config"] = CompileConfig(mode="default")
        static["compile_config"]._compile_all_devices = True  # type: ignore[attr-defined]
    static_plain, static_steered = [], []
    for run in range(4):  # the first of each warms up (and compiles)
        plain_s = timed(lambda: generate(model, tok, batch, **static))
        with steer(model, {12: vector}, strength=3.0, positions="generated"):
            steered_s = timed(lambda: generate(model, tok, batch, **static))
        if run:
            static_plain.append(plain_s)
            static_steered.append(steered_s)
    tokens = len(batch) * 32

    cached_s = statistics.median(load_seconds(None) for _ in range(3))
    with tempfile.TemporaryDirectory(prefix="seer-bench-cache-") as empty:
        gguf_s = load_seconds(empty)

    result = {
        "benchmark": "interp_throughput",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "device": args.device,
                    "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None},  # fmt: skip
        "activations": {"prompts": len(texts), "layers": layers, "batched_s": batched_s, "one_by_one_s": loop_s,
                        "speedup": loop_s / batched_s, "goal": ">= 5x"},  # fmt: skip
        "steering": {"prompts": len(batch), "new_tokens": 32, "plain_s": plain, "steered_s": steered,
                     "overhead": statistics.median(steered) / statistics.median(plain) - 1, "goal": "<= 5%"},  # fmt: skip
        "static_cache": {"prompts": len(batch), "new_tokens": 32, "positions": "generated",
                         "compiled": args.compile or args.device == "cuda", "plain_s": static_plain,
                         "steered_s": static_steered, "plain_tokens_per_s": tokens / statistics.median(static_plain),
                         "steered_tokens_per_s": tokens / statistics.median(static_steered),
                         "steered_over_plain": statistics.median(static_plain) / statistics.median(static_steered),
                         "goal": ">= 0.9"},  # fmt: skip
        "loading": {"cache_s_median_of_3": cached_s, "gguf_s": gguf_s, "speedup": gguf_s / cached_s},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    a, s, lo, st = result["activations"], result["steering"], result["loading"], result["static_cache"]
    print(f"interp_throughput · {result['date']} · {args.device} · {os.cpu_count()} CPU · torch {torch.__version__}")
    print(f"activations, {a['prompts']} prompts × 3 layers: batched {a['batched_s']:.2f} s, one by one {a['one_by_one_s']:.2f} s → {a['speedup']:.1f}× (goal ≥ 5×)")
    print(f"generation, 16 × 32 tokens: plain {statistics.median(plain):.2f} s, steered {statistics.median(steered):.2f} s → overhead {100 * s['overhead']:+.1f} % (goal ≤ 5 %)")
    print(f"static cache{' (compiled)' if st['compiled'] else ''}, 16 × 32 tokens: plain {st['plain_tokens_per_s']:.0f} tokens/s, "
          f"steered on generated tokens {st['steered_tokens_per_s']:.0f} tokens/s → {st['steered_over_plain']:.2f}× plain (goal ≥ 0.9×)")
    print(f"load SmolLM2: cache {cached_s:.2f} s, GGUF {gguf_s:.2f} s → {lo['speedup']:.1f}×")


if __name__ == "__main__":
    main()
