"""ActAdd as published: the prompt pair's difference position by position, added at the front positions
of one layer's residual stream, and nowhere else."""

import pytest
import torch

from seer.interp import actadd_vector, activations, add_at_front, generate, load_model


@pytest.fixture(scope="module")
def tiny() -> tuple:
    return load_model("seer:tiny-llama", seed=3)


def test_the_addition_is_the_padded_pairs_difference_at_each_position(tiny: tuple) -> None:
    model, tok = tiny
    addition = actadd_vector(model, tok, "Love", "Hate!!", layer=1, coefficient=5.0)
    # the toy tokenizer is byte-level: "Love" is padded with two spaces to the six bytes of "Hate!!"
    plus, minus = activations(model, tok, ["Love  ", "Hate!!"], layers=[1], position="all")
    assert addition.shape == (6, model.config.hidden_size)
    torch.testing.assert_close(addition, 5.0 * (plus[0] - minus[0]))


def test_add_at_front_edits_only_the_front_positions_of_each_sequence(tiny: tuple) -> None:
    model, tok = tiny
    addition = torch.randn(3, model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    prompts = ["a longer prompt here", "short"]  # left-padded together: positions count each one's own tokens
    plain = activations(model, tok, prompts, layers=[0], position="all")
    with add_at_front(model, addition, layer=0):
        edited = activations(model, tok, prompts, layers=[0], position="all")
    for before, after in zip(plain, edited):
        torch.testing.assert_close(after[0, :3], before[0, :3] + addition, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(after[0, 3:], before[0, 3:])  # layer 0's output past the front is its own


def test_generation_with_an_addition_differs_and_the_hook_is_gone_afterwards(tiny: tuple) -> None:
    model, tok = tiny
    addition = 50 * actadd_vector(model, tok, "ab", "cd", layer=0)
    plain = generate(model, tok, ["xy"], max_new_tokens=6, chat=False)
    with add_at_front(model, addition, layer=0):
        steered = generate(model, tok, ["xy"], max_new_tokens=6, chat=False)
    assert steered != plain
    assert generate(model, tok, ["xy"], max_new_tokens=6, chat=False) == plain
