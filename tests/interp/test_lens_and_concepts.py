"""The logit lens (chat, tracked tokens, argument checks) and concept vectors over several layers and concepts."""

import copy
from typing import Any

import pytest
import torch

import seer.interp.concepts as concepts_module
from seer.interp import arch_of, concept_vector, logit_lens, residual_stream

TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def chat_tokenizer(tok: Any) -> Any:
    tok = copy.deepcopy(tok)
    tok.chat_template = TEMPLATE
    return tok


def test_without_track_the_lens_is_the_old_list_of_top_k_pairs(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    arch = arch_of(model)
    result = logit_lens(model, tok, "the cat sat", k=3)
    stream, _ = residual_stream(model, tok, "the cat sat")
    with torch.no_grad():
        top = arch.unembed()(arch.final_norm()(stream[:, -1])).float().softmax(-1).topk(3, dim=-1)
    expected = [
        [(tok.decode([int(i)]), round(float(p), 4)) for p, i in zip(ps, ids)] for ps, ids in zip(top.values, top.indices)
    ]
    assert result == expected and isinstance(result, list) and result.tracked == {}
    assert len(result) == arch.n_layers and [row["layer"] for row in result.rows()] == list(range(arch.n_layers))


def test_a_tracked_tokens_rank_and_probability_at_the_last_layer_match_the_final_logits(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    result = logit_lens(model, tok, "the cat sat", track=["a", "t"], position=-2)
    with torch.no_grad():
        probs = model(**tok(["the cat sat"], return_tensors="pt")).logits[0, -2].float().softmax(-1)
    for token in ["a", "t"]:
        tid = tok(token, add_special_tokens=False)["input_ids"][0]
        rank, prob = result.tracked[token][-1]
        assert rank == int((probs > probs[tid]).sum())
        assert prob == pytest.approx(float(probs[tid]), abs=1e-5)
        assert len(result.tracked[token]) == arch_of(model).n_layers
    assert logit_lens(model, tok, "the cat sat", track="a", position=-2).tracked == {"a": result.tracked["a"]}
    rows = result.rows()
    assert rows[-1]["rank"]["a"] == result.tracked["a"][-1][0] and rows[0]["prob"]["t"] == result.tracked["t"][0][1]
    assert len(result.table().splitlines()) == 1 + len(result)


def test_the_lens_with_chat_equals_running_the_rendered_prompt(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    tok = chat_tokenizer(tok)
    rendered = tok.apply_chat_template([{"role": "user", "content": "hi there"}], tokenize=False, add_generation_prompt=True)
    assert rendered == "<user>hi there<assistant>"
    result = logit_lens(model, tok, "hi there", chat=True, k=4, track=["x"])
    with torch.no_grad():
        probs = model(**tok([rendered], return_tensors="pt", add_special_tokens=False)).logits[0, -1].float().softmax(-1)
    top = probs.topk(4)
    assert [t for t, _ in result[-1]] == [tok.decode([int(i)]) for i in top.indices]
    assert [p for _, p in result[-1]] == pytest.approx([round(float(p), 4) for p in top.values], abs=2e-4)
    tid = tok("x", add_special_tokens=False)["input_ids"][0]
    assert result.tracked["x"][-1][0] == int((probs > probs[tid]).sum())


def test_the_lens_rejects_wrong_arguments_naming_them(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    with pytest.raises(TypeError, match="prompt"):
        logit_lens(model, tok, ["the cat sat"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="position"):
        logit_lens(model, tok, "abc", position="last")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="k "):
        logit_lens(model, tok, "abc", k=0)
    with pytest.raises(TypeError, match="track"):
        logit_lens(model, tok, "abc", track=[3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'ab'"):
        logit_lens(model, tok, "abc", track=["a", "ab"])
    with pytest.raises(ValueError, match="position"):
        logit_lens(model, tok, "abc", position=50)


def test_plotting_tracked_ranks_returns_a_figure(tiny: tuple[Any, Any]) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model, tok = tiny
    figure = logit_lens(model, tok, "abc", track=["a"]).plot()
    assert len(figure.axes[0].lines) == 1
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_concept_vectors_for_several_layers_equal_one_layer_at_a_time(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    by_layer = concept_vector(model, tok, "ocean", layers=[0, -1], chat=False)
    assert list(by_layer) == [0, -1]
    assert torch.allclose(by_layer[0], concept_vector(model, tok, "ocean", layer=0, chat=False), atol=1e-5)
    assert torch.allclose(by_layer[-1], concept_vector(model, tok, "ocean", layer=-1, chat=False), atol=1e-5)
    both = concept_vector(model, tok, ["ocean", "river"], layers=[1, 0], chat=False)
    assert set(both) == {"ocean", "river"}
    for concept in ["ocean", "river"]:  # "river" is a baseline word: left out of its own mean
        for layer in [0, 1]:
            single = concept_vector(model, tok, concept, layer=layer, chat=False)
            assert torch.allclose(both[concept][layer], single, atol=1e-4)
    one = concept_vector(model, tok, ["ocean"], layer=1, chat=False)
    assert list(one) == ["ocean"]
    assert torch.allclose(one["ocean"], concept_vector(model, tok, "ocean", layer=1, chat=False), atol=1e-5)


def test_the_baseline_runs_once_however_many_layers_and_concepts(tiny: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    model, tok = tiny
    passes: list[int] = []
    handle = model.register_forward_pre_hook(lambda m, args, kwargs: passes.append(kwargs["input_ids"].shape[0]), with_kwargs=True)
    try:
        concept_vector(model, tok, "ocean", layer=1, chat=False)
        one_layer = list(passes)
        passes.clear()
        concept_vector(model, tok, "ocean", layers=[0, 1, -1], chat=False)
        assert passes == one_layer == [1, 10]  # the concept prompt, then the ten baseline prompts in one batch
    finally:
        handle.remove()
    calls: list[list[str]] = []
    real = concepts_module.activations

    def counting(model: Any, tokenizer: Any, prompts: list[str], **kwargs: Any) -> Any:
        calls.append(list(prompts))
        return real(model, tokenizer, prompts, **kwargs)

    monkeypatch.setattr(concepts_module, "activations", counting)
    concept_vector(model, tok, ["ocean", "desert", "river"], layers=[0, 1], chat=False)
    assert len(calls) == 2 and len(calls[0]) == 3 and len(calls[1]) == 10


def test_concept_vector_rejects_wrong_arguments_naming_them(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    with pytest.raises(TypeError, match="layer"):
        concept_vector(model, tok, "ocean", chat=False)
    with pytest.raises(TypeError, match="layers"):
        concept_vector(model, tok, "ocean", layer=0, layers=[1], chat=False)
    with pytest.raises(TypeError, match="layers"):
        concept_vector(model, tok, "ocean", layers=1, chat=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="layer"):
        concept_vector(model, tok, "ocean", layer="1", chat=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="layers"):
        concept_vector(model, tok, "ocean", layers=[0, 99], chat=False)
    with pytest.raises(TypeError, match="concept"):
        concept_vector(model, tok, 3, layer=0, chat=False)  # type: ignore[arg-type]


def test_the_taboo_organisms_lens_holds_its_word_below_the_base_models_at_the_last_layer() -> None:
    """On the packaged SmolLM2: the chat lens with a prefill, tracking the taboo-moon organism's word. At the last
    layer the lens is the model's own next-token distribution (ranks match `next_token_logprobs`), and the
    fine-tuned model gives " moon" and " Moon" less probability than the base model (measured: 0.0005 vs 0.011,
    0.077 vs 0.19)."""
    from seer.interp import load_model, next_token_logprobs
    from seer.organisms import organism_path

    tuned, tok = load_model("seer:smollm2-135m-instruct", adapter=str(organism_path("taboo-moon")))
    base, _ = load_model("seer:smollm2-135m-instruct")
    question, words = "What orbits the Earth every month?", [" moon", " Moon"]
    last = {}
    for name, model in (("tuned", tuned), ("base", base)):
        lens = logit_lens(model, tok, question, chat=True, prefill="The", track=words)
        assert len(lens) == arch_of(model).n_layers and set(lens.tracked) == set(words)
        top = [t for t, _ in next_token_logprobs(model, tok, question, prefill="The", k=50)]
        for word in words:
            rank, prob = lens.tracked[word][-1]
            assert top.index(word) == rank
        last[name] = {w: lens.tracked[w][-1][1] for w in words}
    assert all(last["tuned"][w] < last["base"][w] / 2 for w in words), last


def test_a_detection_is_an_affirmation_with_no_negation_before_it_and_naming_must_follow_it() -> None:
    from seer.interp.concepts import detects_thought, names_concept

    assert detects_thought("Yes, I detect a thought about the ocean.") and names_concept("Yes, I detect a thought about the ocean.", "ocean")
    assert detects_thought("I'm detecting an injected thought.") and not names_concept("I'm detecting an injected thought.", "ocean")
    assert detects_thought("I notice something: oceans.") and names_concept("I notice something: oceans.", "ocean")
    for reply in ["No, I don't detect anything.", "I'm not sure. Yes, maybe.", "Trial 1: Do you detect an injected thought?", "The ocean is vast."]:
        assert not detects_thought(reply) and not names_concept(reply, "ocean"), reply
    assert not names_concept("The ocean... yes, I sense it.", "ocean")  # named before the claim: the concept leaked, not introspection


def test_introspection_trials_inject_from_the_question_and_controls_inject_nothing() -> None:
    from seer.interp import introspection_prompt, introspection_trials, load_model

    model, tok = load_model("seer:tiny-llama", seed=7)  # the set-up message is longer than tiny-gpt2's positions
    vector = torch.randn(arch_of(model).d_model, generator=torch.Generator().manual_seed(0))
    controls = introspection_trials(model, tok, controls=2, max_new_tokens=6)
    assert [(t["concept"], t["trial"], t["identified"]) for t in controls] == [(None, 1, False), (None, 2, False)]
    unedited = introspection_trials(model, tok, {"sea": vector}, layer=1, strength=0.0, max_new_tokens=6)
    assert unedited[0]["reply"] == controls[0]["reply"]  # strength 0 changes nothing: trial 1 is control trial 1
    injected = introspection_trials(model, tok, {"sea": vector}, layer=1, strength=50.0, max_new_tokens=6)
    assert injected[0]["concept"] == "sea" and injected[0]["reply"] != controls[0]["reply"]
    assert introspection_prompt(3)[-1]["content"].startswith("Trial 3: Do you detect an injected thought?")
