"""Concept vectors for many concepts at many layers on the packaged SmolLM2-135M-Instruct.

    python bench/concept_vectors.py [--concepts 12] [--layers 4] [--repeats 3] [--out bench/results/concept_vectors.json]

The baseline is what an investigator wrote before `concept_vector` took `layers=[...]` and a list of
concepts: one call per concept and layer (`layer=l`), each re-running the 10 baseline prompts. It is
measured against one call, `concept_vector(model, tok, concepts, layers=layers)`, which runs the
baseline once and reads every layer from the same forward passes. Both give the same vectors (checked
here too). The median of `--repeats` runs each, interleaved, after a warm-up of each.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from seer.interp import arch_of, concept_vector, load_model  # noqa: E402

CONCEPTS = ["bread", "thunder", "violin", "glacier", "lantern", "pepper", "harbor", "feather", "castle", "copper", "meadow", "engine",
            "candle", "tiger", "coral", "marble"]  # fmt: skip


def one_at_a_time(model: torch.nn.Module, tok: object, concepts: list[str], layers: list[int]) -> dict[str, dict[int, torch.Tensor]]:
    return {c: {l: concept_vector(model, tok, c, layer=l) for l in layers} for c in concepts}


def all_at_once(model: torch.nn.Module, tok: object, concepts: list[str], layers: list[int]) -> dict[str, dict[int, torch.Tensor]]:
    return concept_vector(model, tok, concepts, layers=layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concepts", type=int, default=12)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/concept_vectors.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, tok = load_model("seer:smollm2-135m-instruct")
    n_layers = arch_of(model).n_layers
    layers = [round(i * (n_layers - 1) / max(args.layers - 1, 1)) for i in range(args.layers)]
    concepts = CONCEPTS[: args.concepts]
    ways = {"one call per concept and layer": one_at_a_time, "one call": all_at_once}
    results = {name: way(model, tok, concepts, layers) for name, way in ways.items()}  # warm-up
    a, b = results.values()
    worst = max(float((a[c][l] - b[c][l]).abs().max()) for c in concepts for l in layers)
    samples: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            way(model, tok, concepts, layers)
            samples[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(s) for name, s in samples.items()}
    ratio = medians["one call per concept and layer"] / medians["one call"]
    print(f"{len(concepts)} concepts x {len(layers)} layers {layers} on SmolLM2-135M-Instruct, {torch.get_num_threads()} threads")
    for name, median in medians.items():
        print(f"  {name:<32} median {median:7.2f} s  samples {[round(s, 2) for s in samples[name]]}")
    print(f"  speed-up {ratio:.1f}x; largest difference between the two ways' vectors {worst:.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": platform.platform(), "processor": platform.processor(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "concepts": concepts, "layers": layers, "samples_s": samples, "medians_s": medians, "speedup": ratio, "max_abs_difference": worst,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
