"""PEFT adapters: loaded on a base model, switchable or merged, and the toolkit sees through the wrapper."""

from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from seer.interp import activations, load_model, steer


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base, _ = load_model("seer:tiny-llama", seed=7)
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    folder = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, config).save_pretrained(folder)
    return folder


def test_an_adapter_changes_the_model_and_can_be_switched_off(adapter_dir: Path) -> None:
    model, tok = load_model("seer:tiny-llama", seed=7, adapter=str(adapter_dir))
    base, _ = load_model("seer:tiny-llama", seed=7)
    ids = tok(["adapter on"], return_tensors="pt")
    with torch.no_grad():
        with_adapter, plain = model(**ids).logits, base(**ids).logits
        with model.disable_adapter():
            switched_off = model(**ids).logits
    assert (with_adapter - plain).abs().max() > 1e-3
    assert torch.allclose(switched_off, plain, atol=1e-6)


def test_merging_keeps_the_adapted_behaviour(adapter_dir: Path) -> None:
    wrapped, tok = load_model("seer:tiny-llama", seed=7, adapter=str(adapter_dir))
    merged, _ = load_model("seer:tiny-llama", seed=7, adapter=str(adapter_dir), merge_adapter=True)
    ids = tok(["merge me"], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(wrapped(**ids).logits, merged(**ids).logits, atol=1e-5)
    assert type(merged).__name__ == "LlamaForCausalLM"


def test_the_toolkit_works_through_the_peft_wrapper(adapter_dir: Path) -> None:
    model, tok = load_model("seer:tiny-llama", seed=7, adapter=str(adapter_dir))
    before = activations(model, tok, ["wrapped"], layers=[1])
    with steer(model, {1: torch.ones(64)}, strength=2.0):
        after = activations(model, tok, ["wrapped"], layers=[1])
    assert torch.allclose(after - before, torch.full_like(before, 2.0), atol=1e-4)
