"""`bench/interp_throughput.py --shape`: random weights in a real model's shape, nothing downloaded.

The script runs end to end on two layers of the SmolLM2-135M shape (its JSON carries the new measurements
and its equivalence checks hold); the Llama-3-8B shape's config is checked without building the model.
No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "interp_throughput.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("interp_throughput", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_llama3_8b_shape_is_the_real_one_and_is_not_built() -> None:
    bench = load_script()
    config = bench.shape_config("llama3-8b")
    assert type(config).__name__ == "LlamaConfig"
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (4096, 32, 128256)
    assert (config.num_attention_heads, config.num_key_value_heads, config.intermediate_size) == (32, 8, 14336)
    assert config.rope_parameters["rope_theta"] == 500000.0
    assert bench.shape_config("llama3-8b", layers=2).num_hidden_layers == 2
    small = bench.shape_config("smollm2-135m")
    assert (small.hidden_size, small.num_hidden_layers, small.num_attention_heads, small.num_key_value_heads) == (576, 30, 9, 3)
    assert (small.intermediate_size, small.vocab_size) == (1536, 49152)
    with pytest.raises(ValueError, match="between 1 and 32"):
        bench.shape_config("llama3-8b", layers=33)
    with pytest.raises(ValueError, match="unknown shape"):
        bench.shape_config("gpt-5")


def test_layers_spread_over_the_depth() -> None:
    bench = load_script()
    assert bench.spread_layers(32) == [8, 16, 24]
    assert bench.spread_layers(30) == [7, 15, 22]
    assert bench.spread_layers(2) == [0, 1]
    assert bench.spread_layers(1) == [0]
    assert (bench.steer_layer(32), bench.steer_layer(30), bench.steer_layer(1)) == (12, 12, 0)


@pytest.mark.timeout(300)
def test_shape_run_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    # One thread: the run is a correctness check, not a measurement, and CI machines are often busy.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "SEER_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, str(SCRIPT), "--shape", "smollm2-135m", "--layers", "2", "--prompts", "4",
               "--new-tokens", "4", "--device", "cpu", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(out.read_text())
    model = result["model"]
    assert (model["kind"], model["name"], model["random_weights"]) == ("shape", "smollm2-135m", True)
    assert (model["n_layers"], model["hidden_size"], model["vocab_size"], model["dtype"]) == (2, 576, 49152, "float32")
    assert result["activations"]["layers"] == [0, 1]
    forward = result["activations_vs_forward"]
    assert len(forward["activations_s"]) == len(forward["forward_s"]) == 3 and forward["ratio"] > 0
    eq = result["equivalence"]
    assert eq["batched_vs_single_ok"] and eq["batched_vs_single_max_rel_diff"] <= eq["tolerance"] == 1e-4
    assert eq["activations_vs_forward_layers"] == [0]  # layer 1 is the last: transformers norms that hidden state
    assert eq["activations_vs_forward_ok"]
    assert eq["steered_zero_equals_plain"] is True
    assert result["steering"]["new_tokens"] == result["static_cache"]["new_tokens"] == 4
    assert result["loading"] is None and "packaged" in result["skipped"]["loading"]
    assert "equivalence (float32" in done.stdout and "FAILED" not in done.stdout and "DIFFERS" not in done.stdout
