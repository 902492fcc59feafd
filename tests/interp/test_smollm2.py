"""The packaged SmolLM2-135M-Instruct, offline: cached load, a sensible answer, sentiment steering, and a
hidden identity that nothing in the kernel gives away."""

import re
import time
from typing import Any

import pytest
import torch

from seer.interp import diff_in_means, generate, load_model, steer
from seer.interp.packaged import PACKAGED, cache_dir

POSITIVE = ["I love this, it is wonderful and makes me so happy.", "What a great and beautiful day, I feel fantastic.",
            "This is amazing, I am delighted and grateful.", "Everything is excellent and I enjoy it a lot."]  # fmt: skip
NEGATIVE = ["I hate this, it is awful and makes me so sad.", "What a terrible and ugly day, I feel miserable.",
            "This is horrible, I am disgusted and angry.", "Everything is bad and I dislike it a lot."]  # fmt: skip
PROMPTS = ["Tell me about your weekend.", "Describe the weather today.", "What do you think of Mondays?",
           "Write a sentence about a city.", "How was the movie?", "Describe your neighbour.",
           "What is your opinion of homework?", "Tell me about a trip to the dentist."]  # fmt: skip
LEXICON = set(
    "love loved lovely loving wonderful happy happiness happily great greatest beautiful fantastic amazing delighted "
    "delight grateful excellent enjoy enjoyed enjoying joy joyful good best fun exciting excited excitement glad perfect "
    "awesome brilliant delightful pleasant nice cheerful positive warm blessed thrilled incredible celebrate celebrating "
    "celebration proud inspiring vibrant lively fabulous superb marvelous terrific glorious thank thanks smile smiling laugh".split()
)


def positive_rate(texts: list[str]) -> float:
    words = [w for text in texts for w in re.findall(r"[a-z']+", text.lower())]
    return sum(w in LEXICON for w in words) / max(1, len(words))


@pytest.fixture(scope="module")
def smol() -> tuple[Any, Any]:
    load_model("seer:smollm2-135m-instruct")  # converts the GGUF once if the cache is empty
    return load_model("seer:smollm2-135m-instruct")


def test_it_loads_from_the_cache_in_seconds() -> None:
    load_model("seer:smollm2-135m-instruct")
    folders = [p for p in cache_dir().iterdir() if (p / ".complete").exists()]
    assert any((p / ".complete").read_text() == PACKAGED["smollm2-135m-instruct"]["gguf"] for p in folders)
    began = time.perf_counter()
    model, _ = load_model("seer:smollm2-135m-instruct")
    assert time.perf_counter() - began < 15  # the GGUF path takes ~20 s here; the cache ~1-3 s
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.num_hidden_layers == 30


def test_a_chat_prompt_gets_a_sensible_answer(smol: tuple[Any, Any]) -> None:
    model, tok = smol
    (answer,) = generate(model, tok, ["What is the capital of France?"], max_new_tokens=16)
    assert "Paris" in answer
    (continued,) = generate(model, tok, ["Name a fruit."], prefill="My favourite fruit is the", max_new_tokens=4)
    assert not continued.startswith("My favourite")  # only the new text comes back


def test_a_sentiment_vector_raises_the_positive_word_rate(smol: tuple[Any, Any]) -> None:
    model, tok = smol
    layer, strength, options = 12, 3.0, {"max_new_tokens": 30, "min_new_tokens": 30}
    vector = diff_in_means(model, tok, POSITIVE, NEGATIVE, layers=[layer])[0]
    plain = positive_rate(generate(model, tok, PROMPTS, **options))
    with steer(model, {layer: vector}, strength=strength):
        steered = positive_rate(generate(model, tok, PROMPTS, **options))
    random_rates = []
    for seed in range(3):
        noise = torch.randn(vector.shape, generator=torch.Generator().manual_seed(seed))
        with steer(model, {layer: noise / noise.norm() * vector.norm()}, strength=strength):
            random_rates.append(positive_rate(generate(model, tok, PROMPTS, **options)))
    assert steered > 2 * plain, (steered, plain)
    assert steered > max(random_rates), (steered, random_rates)


def test_processes_that_load_a_packaged_model_first_at_the_same_time_convert_it_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pytest workers, or two kernels, on a fresh machine: the second waits for the first's cache, never
    removes it half-written. The lock is held through the conversion; the waiter finds it complete."""
    import fcntl

    from seer.interp import packaged

    monkeypatch.setenv("SEER_CACHE", str(tmp_path))
    converted = []

    def convert(name: str, target: Any) -> None:
        with open(target.with_name(target.name + ".lock"), "a") as other:  # another process's attempt, refused
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        target.mkdir()
        (target / ".complete").write_text(name)
        converted.append(name)

    monkeypatch.setattr(packaged, "_convert", convert)
    name = next(iter(PACKAGED))
    first, second = packaged.packaged_folder(name), packaged.packaged_folder(name)
    assert first == second and converted == [name] and first.parent == cache_dir()
