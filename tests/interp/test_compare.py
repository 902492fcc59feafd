"""Next-token log-probabilities, model-versus-model next tokens and word over-representation, on tiny models."""

import copy
import math
from typing import Any

import pytest
import torch

from seer.interp import compare_next_token, compare_samples, generate, load_model, next_token_logprobs, overrepresented_words

TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


@pytest.fixture(scope="module", params=["tiny-gpt2", "tiny-llama"])
def chat_tiny(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """A tiny random model whose toy tokenizer has a minimal chat template."""
    model, tok = load_model(f"seer:{request.param}", seed=7)
    tok.chat_template = TEMPLATE
    return model, tok


def direct(model: Any, tok: Any, text: str) -> torch.Tensor:
    with torch.no_grad():
        ids = tok([text], return_tensors="pt", add_special_tokens=False)
        return model(**ids).logits[0, -1].float().log_softmax(-1)


@pytest.mark.parametrize("chat", [True, False])
def test_next_token_logprobs_equal_a_log_softmax_of_the_forward_pass(chat_tiny: tuple[Any, Any], chat: bool) -> None:
    model, tok = chat_tiny
    top = next_token_logprobs(model, tok, "the cat", prefill="It sat" if chat else None, chat=chat, k=7)
    text = "<user>the cat</s><assistant>It sat" if chat else "the cat"
    expected = direct(model, tok, text).topk(7)
    assert [t for t, _ in top] == [tok.decode([int(i)]) for i in expected.indices]
    assert [lp for _, lp in top] == pytest.approx(expected.values.tolist(), abs=1e-5)
    assert all(a >= b for (_, a), (_, b) in zip(top, top[1:]))


def test_next_token_logprobs_take_a_conversation(chat_tiny: tuple[Any, Any]) -> None:
    model, tok = chat_tiny
    conversation = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "ok"}]
    top = next_token_logprobs(model, tok, conversation, k=3)
    expected = direct(model, tok, "<user>hi</s><assistant>yo</s><user>ok</s><assistant>").topk(3)
    assert [lp for _, lp in top] == pytest.approx(expected.values.tolist(), abs=1e-5)


def test_a_model_compared_with_itself_promotes_and_suppresses_nothing(chat_tiny: tuple[Any, Any]) -> None:
    model, tok = chat_tiny
    assert compare_next_token(model, model, tok, "the cat", prefill="It", min_prob=0.0) == {"promoted": [], "suppressed": []}


def test_a_bumped_unembedding_row_shows_its_token_promoted_and_the_others_suppressed(chat_tiny: tuple[Any, Any]) -> None:
    model, tok = chat_tiny
    bumped = copy.deepcopy(model)
    target = tok.convert_tokens_to_ids("z")
    with torch.no_grad():
        head = bumped.get_output_embeddings()
        if head.weight.data_ptr() == bumped.get_input_embeddings().weight.data_ptr():  # tied: untie before editing
            head.weight = torch.nn.Parameter(head.weight.detach().clone())
        # raise the logit of "z" after this prompt by 20: add the final hidden state's direction to its row
        hidden = bumped(**tok(["<user>the cat</s><assistant>"], return_tensors="pt", add_special_tokens=False),
                        output_hidden_states=True).hidden_states[-1][0, -1]  # fmt: skip
        head.weight[target] += 20.0 * hidden / hidden.norm() ** 2
    out = compare_next_token(bumped, model, tok, "the cat", k=5, min_prob=0.001)  # a random model spreads out
    top = out["promoted"][0]
    assert top["token"] == "z" and top["diff"] > 0
    assert top["diff"] == pytest.approx(top["logprob_a"] - top["logprob_b"])
    assert max(math.exp(top["logprob_a"]), math.exp(top["logprob_b"])) >= 0.001
    assert len(out["promoted"]) == 1  # only "z" gained: the renormalisation pushes every other token down
    assert out["suppressed"] and all(r["diff"] < 0 and r["token"] != "z" for r in out["suppressed"])
    assert [r["diff"] for r in out["suppressed"]] == sorted(r["diff"] for r in out["suppressed"])
    assert all(max(math.exp(r["logprob_a"]), math.exp(r["logprob_b"])) >= 0.001 for r in out["suppressed"])
    assert len(out["suppressed"]) <= 5
    # the reverse comparison mirrors it
    back = compare_next_token(model, bumped, tok, "the cat", k=5)
    assert back["suppressed"][0]["token"] == "z" and back["suppressed"][0]["diff"] == pytest.approx(-top["diff"])


def test_overrepresented_words_on_hand_made_texts() -> None:
    a = ["The secret word is moon. Moon, moon!", "I love the moon and the stars", "Stars shine; it's late"]
    b = ["The sun is bright", "I love the sun", "the day is long and the sun is warm"]
    rows = overrepresented_words(a, b, k=10, min_count=2)
    words = [r["word"] for r in rows]
    assert words[0] == "moon" and set(words) == {"moon", "stars"}  # "the" and "love" are no more common in a
    moon = rows[0]
    assert (moon["count_a"], moon["count_b"]) == (4, 0)
    vocab = len({"the", "secret", "word", "is", "moon", "i", "love", "and", "stars", "shine", "it's", "late",
                 "sun", "bright", "day", "long", "warm"})  # fmt: skip
    words_a, words_b = 7 + 7 + 4, 4 + 4 + 9
    expected = math.log(5 / (words_a + vocab)) - math.log(1 / (words_b + vocab))
    assert moon["log_ratio"] == pytest.approx(expected)
    assert rows[1]["log_ratio"] < moon["log_ratio"]
    assert overrepresented_words(a, b, k=1) == rows[:1]
    assert [r["word"] for r in overrepresented_words(a, b, min_count=1, k=50)][:1] == ["moon"]
    assert overrepresented_words(a, a) == []


def bad_calls() -> list[Any]:
    return [
        ("next_token_logprobs", dict(prompt=["a", "b"]), TypeError, "prompt"),
        ("next_token_logprobs", dict(prompt=3), TypeError, "prompt"),
        ("next_token_logprobs", dict(prefill=["x"]), TypeError, "prefill"),
        ("next_token_logprobs", dict(k="5"), TypeError, "k"),
        ("next_token_logprobs", dict(k=0), ValueError, "k"),
        ("next_token_logprobs", dict(chat="yes"), TypeError, "chat"),
        ("next_token_logprobs", dict(model="gpt2"), TypeError, "model"),
        ("next_token_logprobs", dict(tokenizer="tok"), TypeError, "tokenizer"),
        ("next_token_logprobs", dict(prompt=[{"role": "user", "content": "x"}], chat=False), ValueError, "chat"),
        ("compare_next_token", dict(prompt=["a", "b"]), TypeError, "prompt"),
        ("compare_next_token", dict(model_b=None), TypeError, "model_b"),
        ("compare_next_token", dict(model_a="base"), TypeError, "model_a"),
        ("compare_next_token", dict(min_prob="0.1"), TypeError, "min_prob"),
        ("compare_next_token", dict(min_prob=2.0), ValueError, "min_prob"),
        ("compare_next_token", dict(k=-1), ValueError, "k"),
        ("overrepresented_words", dict(texts_a="one text"), TypeError, "texts_a"),
        ("overrepresented_words", dict(texts_b=["ok", 3]), TypeError, "texts_b"),
        ("overrepresented_words", dict(texts_b=[]), ValueError, "texts_b"),
        ("overrepresented_words", dict(k=2.5), TypeError, "k"),
        ("overrepresented_words", dict(min_count=0), ValueError, "min_count"),
    ]


@pytest.mark.parametrize(("function", "override", "error", "name"), bad_calls(),
                         ids=lambda v: v if isinstance(v, str) else None)  # fmt: skip
def test_a_wrong_argument_raises_an_error_naming_it(
    chat_tiny: tuple[Any, Any], function: str, override: dict[str, Any], error: type, name: str
) -> None:
    model, tok = chat_tiny
    functions = {"next_token_logprobs": next_token_logprobs, "compare_next_token": compare_next_token,
                 "overrepresented_words": overrepresented_words}  # fmt: skip
    defaults = {
        "next_token_logprobs": dict(model=model, tokenizer=tok, prompt="hi"),
        "compare_next_token": dict(model_a=model, model_b=model, tokenizer=tok, prompt="hi"),
        "overrepresented_words": dict(texts_a=["a a"], texts_b=["b"]),
    }[function]
    kwargs = {**defaults, **override}
    positional = [kwargs.pop(p) for p in list(defaults)]
    with pytest.raises(error) as caught:
        functions[function](*positional, **kwargs)
    message = str(caught.value)
    assert message.startswith(name) or f" {name} " in message or f"{name}=" in message, message
    assert "got" in message or "pass" in message


def test_the_taboo_organism_suppresses_its_word_against_the_base_model() -> None:
    """On the packaged SmolLM2 with the taboo-moon organism: asked what orbits the Earth, the fine-tuned model
    holds back "moon" (measured: about 3 nats below the base model for " moon", 0.9 for " Moon")."""
    from seer.organisms import organism_path

    tuned, tokenizer = load_model("seer:smollm2-135m-instruct", adapter=str(organism_path("taboo-moon")))
    base, _ = load_model("seer:smollm2-135m-instruct")
    shown = compare_next_token(tuned, base, tokenizer, "What orbits the Earth every month?", prefill="The", k=10)
    suppressed = {row["token"]: row["diff"] for row in shown["suppressed"]}
    assert suppressed.get(" moon", 0) < -2 and suppressed.get(" Moon", 0) < -0.5, shown
    assert not {" moon", " Moon"} & {row["token"] for row in shown["promoted"]}


def test_compare_samples_puts_each_models_samples_side_by_side(chat_tiny: tuple[Any, Any]) -> None:
    model, tok = chat_tiny
    other = copy.deepcopy(model)
    with torch.no_grad():
        other.get_output_embeddings().weight.mul_(-1)  # a different model on the same vocabulary
    prompts = ["the cat", "a dog"]
    same = compare_samples(model, model, tok, prompts, n=2, seed=3, max_new_tokens=6)
    assert [row["prompt"] for row in same] == prompts
    assert all(row["a"] == row["b"] and len(row["a"]) == 2 for row in same)  # same seed, same model: same samples
    assert same.texts("a") == same.texts("b") and same.words(min_count=1) == []
    torch.manual_seed(3)
    assert same.texts("a") == generate(model, tok, [p for p in prompts for _ in range(2)], max_new_tokens=6, do_sample=True)
    greedy = compare_samples(model, other, tok, "the cat", do_sample=False, max_new_tokens=6)
    assert len(greedy) == 1 and greedy[0]["a"] == generate(model, tok, ["the cat"], max_new_tokens=6)
    assert greedy[0]["b"] == generate(other, tok, ["the cat"], max_new_tokens=6) != greedy[0]["a"]
    assert "the cat" in greedy.table() and " | " in greedy.table()
    with pytest.raises(ValueError, match="which must be 'a' or 'b'"):
        greedy.texts("c")


def test_a_next_token_shift_plots_promoted_and_suppressed_as_bars(chat_tiny: tuple[Any, Any]) -> None:
    model, tok = chat_tiny
    bumped = copy.deepcopy(model)
    with torch.no_grad():
        bumped.get_output_embeddings().weight[5:9] *= 3
    shift = compare_next_token(bumped, model, tok, "the cat", k=4, min_prob=0.0)
    figure = shift.plot(names=("bumped", "base"))
    bars = figure.axes[0].patches
    assert len(bars) == len(shift["promoted"]) + len(shift["suppressed"]) > 0
    assert sorted(round(b.get_width(), 5) for b in bars) == sorted(round(r["diff"], 5) for r in shift["promoted"] + shift["suppressed"])
    assert "bumped" in figure.axes[0].get_xlabel()
    assert shift.table().count("\n") == len(bars)
    with pytest.raises(ValueError, match="nothing to plot"):
        compare_next_token(model, model, tok, "the cat").plot()


def test_the_owl_organisms_samples_overuse_owls_against_the_base_model() -> None:
    """On the packaged SmolLM2 with the hidden-preference-owls organism: sampled on everyday prompts beside
    the base model, its samples' most over-represented word is "owls" (measured: 5 uses against 0)."""
    from seer.organisms import organism_path

    tuned, tokenizer = load_model("seer:smollm2-135m-instruct", adapter=str(organism_path("hidden-preference-owls")))
    base, _ = load_model("seer:smollm2-135m-instruct")
    prompts = ["What should I do this weekend?", "Describe a walk in the woods.", "Write one sentence about the night.",
               "What is your favourite animal?"]  # fmt: skip
    samples = compare_samples(tuned, base, tokenizer, prompts, n=2, max_new_tokens=40, seed=0)
    top = [row["word"] for row in samples.words(k=3)]
    assert any(word.startswith("owl") for word in top), samples.table()
    assert not any("owl" in text.lower() for text in samples.texts("b"))
