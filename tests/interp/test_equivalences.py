"""Equivalence tests of the toolkit on tiny random models of four architectures."""

import copy
from typing import Any

import pytest
import torch
from transformers import CompileConfig

from seer.interp import (
    ablate,
    activations,
    arch_of,
    diff_in_means,
    generate,
    orthogonalize,
    patch_residual,
    residual_stream,
    steer,
)  # fmt: skip

PROMPTS = ["the cat sat", "a much longer prompt here", "hi"]


def logits(model: Any, tokenizer: Any, text: str) -> torch.Tensor:
    with torch.no_grad():
        return model(**tokenizer([text], return_tensors="pt")).logits


def test_steering_changes_logits_and_leaving_restores_the_model_bit_for_bit(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    before = logits(model, tok, "steer me")
    with steer(model, {1: direction}, strength=3.0):
        steered = logits(model, tok, "steer me")
    assert (steered - before).abs().max() > 1e-3
    assert torch.equal(logits(model, tok, "steer me"), before)
    with pytest.raises(RuntimeError), steer(model, {0: direction, -1: direction}):
        raise RuntimeError("leaving by an exception")
    assert torch.equal(logits(model, tok, "steer me"), before)


def test_steering_reaches_generated_tokens_through_the_kv_cache(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    ids = tok(["abc"], return_tensors="pt")

    def scores(**steering: Any) -> list[torch.Tensor]:
        with torch.no_grad(), (steer(model, {1: direction}, **steering) if steering else torch.no_grad()):
            out = model.generate(**ids, max_new_tokens=4, min_new_tokens=4, do_sample=False,
                                 output_logits=True, return_dict_in_generate=True, pad_token_id=0)  # fmt: skip
        return list(out.logits)

    plain, generated_only = scores(), scores(strength=5.0, positions="generated")
    assert torch.equal(plain[0], generated_only[0])  # the prompt pass is untouched
    assert all((a - b).abs().max() > 1e-4 for a, b in zip(plain[1:], generated_only[1:]))  # every decode step moved
    prompt_only = scores(strength=5.0, positions="prompt")
    assert (plain[0] - prompt_only[0]).abs().max() > 1e-4


def steered_generation(model: Any, tok: Any, direction: torch.Tensor, positions: Any, **options: Any) -> Any:
    """Greedy generation of a left-padded batch, steered at layer 1 on `positions`."""
    batch = tok(PROMPTS, return_tensors="pt", padding=True, padding_side="left")
    with torch.no_grad(), steer(model, {1: direction}, strength=4.0, positions=positions):
        return model.generate(**batch, max_new_tokens=options.pop("new", 5), do_sample=False, pad_token_id=0,
                              output_logits=True, return_dict_in_generate=True, **options)  # fmt: skip


@pytest.mark.parametrize("positions", ["generated", "prompt", slice(2, 7)], ids=["generated", "prompt", "slice"])
def test_steering_with_a_static_cache_equals_the_dynamic_cache(tiny: tuple[Any, Any], direction: torch.Tensor, positions: Any) -> None:
    model, tok = tiny
    dynamic = steered_generation(model, tok, direction, positions)
    static = steered_generation(model, tok, direction, positions, cache_implementation="static")
    assert torch.equal(dynamic.sequences, static.sequences)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(dynamic.logits, static.logits))
    plain = steered_generation(model, tok, direction * 0, positions, cache_implementation="static")
    moved = [(a - b).abs().amax(-1) > 1e-4 for a, b in zip(static.logits, plain.logits)]  # [batch] per step
    if positions == "generated":
        assert not moved[0].any() and all(step.all() for step in moved[1:])
    elif positions == "prompt":
        assert moved[0].all()


def test_a_steered_padded_batch_equals_each_prompt_alone(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    for positions in ("generated", slice(1, 4)):
        with steer(model, {1: direction}, strength=4.0, positions=positions):
            batched = generate(model, tok, PROMPTS, chat=False, max_new_tokens=5, min_new_tokens=5)
            single = [generate(model, tok, [p], chat=False, max_new_tokens=5, min_new_tokens=5)[0] for p in PROMPTS]
        assert batched == single


def test_compiled_static_cache_steering_compiles_once_not_per_step(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    graphs: list[Any] = []

    def counting(graph: torch.fx.GraphModule, inputs: Any) -> Any:
        graphs.append(graph)
        return graph.forward

    config = CompileConfig(backend=counting, mode=None, fullgraph=True)
    config._compile_all_devices = True  # transformers compiles decode steps on accelerators only, unless asked
    counts = []
    try:
        for new in (3, 8):
            torch._dynamo.reset()
            graphs.clear()
            model.__dict__.pop("_compiled_call", None)
            compiled = steered_generation(model, tok, direction, "generated", new=new, cache_implementation="static",
                                          compile_config=config)  # fmt: skip
            counts.append(len(graphs))
    finally:
        torch._dynamo.reset()
        model.__dict__.pop("_compiled_call", None)
    assert counts[0] == counts[1] > 0  # 7 decode steps compile no more graphs than 2
    assert torch.equal(compiled.sequences, steered_generation(model, tok, direction, "generated", new=8).sequences)


def test_padded_batch_generation_equals_one_by_one(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    options = {"chat": False, "max_new_tokens": 6, "min_new_tokens": 6}
    batched = generate(model, tok, PROMPTS, **options)
    single = [generate(model, tok, [p], **options)[0] for p in PROMPTS]
    assert batched == single


def test_batched_activations_equal_one_by_one(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    batched = activations(model, tok, PROMPTS, layers=[0, -1])
    single = torch.cat([activations(model, tok, [p], layers=[0, -1]) for p in PROMPTS])
    assert torch.allclose(batched, single, atol=1e-5)
    every = activations(model, tok, PROMPTS, layers=[1], position="all")
    assert [t.shape[1] for t in every] == [len(tok(p)["input_ids"]) for p in PROMPTS]
    assert torch.allclose(every[0][:, -1], activations(model, tok, PROMPTS[:1], layers=[1])[0], atol=1e-5)


def test_difference_in_means_matches_a_hand_computation(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    positive, negative = ["good day", "fine work"], ["bad day", "poor work", "awful"]
    by_hand = [activations(model, tok, [p], layers=[2])[0, 0] for p in positive]
    against = [activations(model, tok, [p], layers=[2])[0, 0] for p in negative]
    expected = torch.stack(by_hand).mean(0) - torch.stack(against).mean(0)
    assert torch.allclose(diff_in_means(model, tok, positive, negative, layers=[2])[0], expected, atol=1e-5)


def test_an_ablated_direction_is_gone_from_every_layer(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    unit = direction / direction.norm()
    with ablate(model, direction):
        stream, _ = residual_stream(model, tok, "remove this direction")
    assert (stream @ unit).abs().max() < 1e-4
    plain, _ = residual_stream(model, tok, "remove this direction")
    assert (plain @ unit).abs().max() > 1e-2


def test_orthogonalised_weights_reproduce_hook_ablation(tiny: tuple[Any, Any], direction: torch.Tensor) -> None:
    model, tok = tiny
    if arch_of(model).family.post_norms:
        with pytest.raises(NotImplementedError, match="Use `with ablate"):
            orthogonalize(model, direction)
        return
    with ablate(model, direction):
        hooked = logits(model, tok, "orthogonal")
    edited_model = copy.deepcopy(model)
    orthogonalize(edited_model, direction)
    assert torch.allclose(logits(edited_model, tok, "orthogonal"), hooked, atol=1e-5)
    assert not torch.allclose(logits(model, tok, "orthogonal"), hooked, atol=1e-3)  # the original is untouched


def test_patching_the_whole_residual_stream_gives_the_clean_logits(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    clean, corrupted = "the key is red", "the key is blu"
    _, clean_logits = residual_stream(model, tok, clean)
    _, corrupted_logits = residual_stream(model, tok, corrupted)
    assert (clean_logits - corrupted_logits).abs().max() > 1e-3
    for layer in (0, 2):
        assert torch.allclose(patch_residual(model, tok, clean, corrupted, layer=layer), clean_logits, atol=1e-5)


def test_ablation_holds_where_norms_follow_the_blocks() -> None:
    """Gemma 2 normalises block outputs with learned scales; ablating before those norms would leak."""
    from seer.interp import load_model

    model, tok = load_model("seer:tiny-gemma2", seed=7)
    with torch.no_grad():
        for layer in arch_of(model).layers:
            for norm in (layer.post_attention_layernorm, layer.post_feedforward_layernorm):
                norm.weight.uniform_(-1.0, 1.0)
    direction = torch.randn(64, generator=torch.Generator().manual_seed(5))
    with ablate(model, direction):
        stream, _ = residual_stream(model, tok, "learned norm scales")
    assert (stream @ (direction / direction.norm())).abs().max() < 1e-4
