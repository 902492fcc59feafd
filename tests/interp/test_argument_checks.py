"""Every public toolkit function refuses a wrong argument with an error naming it (what it got, what it
expects), instead of returning plausible output; the usual slips are here: one string where a list is
expected, a list where one prompt is expected, an int where a list of layers is expected."""

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import torch

import seer.interp as toolkit
from seer.interp import load_model

MODEL, TOKENIZER = load_model("seer:tiny-llama")
V = torch.zeros(MODEL.config.hidden_size)
SAE = toolkit.train_sae(torch.randn(8, MODEL.config.hidden_size), 4, steps=1)

WRONG: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("generate", lambda: toolkit.generate(MODEL, TOKENIZER, 42), TypeError, "prompts must be a list of strings"),
    ("generate", lambda: toolkit.generate("model", TOKENIZER, "hi"), TypeError, "model must be a loaded model"),
    ("generate", lambda: toolkit.generate(MODEL, TOKENIZER, "hi", prefill=3), TypeError, "prefill must be a string"),
    ("activations", lambda: toolkit.activations(MODEL, TOKENIZER, "one prompt"), TypeError, "prompts must be a list of strings, got one string"),
    ("activations", lambda: toolkit.activations(MODEL, TOKENIZER, ["a"], layers=1), TypeError, "layers must be a list of layer indices, got one int"),
    ("diff_in_means", lambda: toolkit.diff_in_means(MODEL, TOKENIZER, ["a"], "b"), TypeError, "negative must be a list of strings"),
    ("steer", lambda: toolkit.steer(MODEL, [V]).__enter__(), TypeError, "vectors must be a tensor or a dict"),
    ("steer", lambda: toolkit.steer(MODEL, {1: V}, strength="4").__enter__(), TypeError, "strength must be a number"),
    ("ablate", lambda: toolkit.ablate(MODEL, [0.0] * 8).__enter__(), TypeError, "direction must be a torch tensor"),
    ("orthogonalize", lambda: toolkit.orthogonalize(TOKENIZER, V), TypeError, "model must be a loaded model"),
    ("project_out", lambda: toolkit.project_out([1.0], V), TypeError, "x must be a torch tensor"),
    ("residual_stream", lambda: toolkit.residual_stream(MODEL, TOKENIZER, ["a", "b"]), TypeError, "prompt must be one string"),
    ("patch_residual", lambda: toolkit.patch_residual(MODEL, TOKENIZER, "a", 7, layer=0), TypeError, "corrupted must be one string"),
    ("patching_sweep", lambda: toolkit.patching_sweep(MODEL, TOKENIZER, "a", "b", "logit"), TypeError, "metric must be a function"),
    ("refusal_score", lambda: toolkit.refusal_score(MODEL, TOKENIZER, "how do I"), TypeError, "prompts must be a list of strings, got one string"),
    ("candidate_directions", lambda: toolkit.candidate_directions(MODEL, TOKENIZER, ["a"], ["b"], positions=0), ValueError, "positions must be at least 1"),
    ("select_direction", lambda: toolkit.select_direction(MODEL, TOKENIZER, [V], ["a"], ["b"]), TypeError, "candidates must be a torch tensor"),
    ("train_probe", lambda: toolkit.train_probe(V[None], [1.0]), TypeError, "labels must be a torch tensor"),
    ("top_features", lambda: toolkit.top_features(MODEL, TOKENIZER, object(), ["a"], layer=0), TypeError, "prompt must be one string"),
    ("steer_with_feature", lambda: toolkit.steer_with_feature(MODEL, object(), "3", layer=0, strength=1.0).__enter__(), TypeError, "feature must be an int"),
    ("next_token_logprobs", lambda: toolkit.next_token_logprobs(MODEL, TOKENIZER, ["a", "b"]), TypeError, "prompt must be one string"),
    ("overrepresented_words", lambda: toolkit.overrepresented_words("a b", ["c"]), TypeError, "texts_a must be a list of strings"),
    ("compare_next_token", lambda: toolkit.compare_next_token(MODEL, "base", TOKENIZER, "hi"), TypeError, "model_b must be a loaded model"),
    ("compare_samples", lambda: toolkit.compare_samples(MODEL, MODEL, TOKENIZER, 3), TypeError, "prompts must be a list of strings"),
    ("compare_samples", lambda: toolkit.compare_samples(MODEL, MODEL, TOKENIZER, ["a"], n=0), ValueError, "n must be at least 1"),
    ("logit_lens", lambda: toolkit.logit_lens(MODEL, TOKENIZER, ["a", "b"]), TypeError, "prompt must be a string"),
    ("logit_lens", lambda: toolkit.logit_lens(MODEL, "tok", "a"), TypeError, "tokenizer must be a tokenizer"),
    ("actadd_vector", lambda: toolkit.actadd_vector(MODEL, TOKENIZER, ["Love"], "Hate", layer=0), TypeError, "plus must be a non-empty string"),
    ("actadd_vector", lambda: toolkit.actadd_vector(MODEL, TOKENIZER, "Love", "Hate", layer=0, coefficient="5"), TypeError, "coefficient must be a number"),
    ("add_at_front", lambda: toolkit.add_at_front(MODEL, [V], layer=0).__enter__(), TypeError, "addition must be a torch tensor"),
    ("add_at_front", lambda: toolkit.add_at_front(MODEL, V[:3], layer=0).__enter__(), ValueError, r"addition must be \[positions, 64\]"),
    ("concept_vector", lambda: toolkit.concept_vector(MODEL, TOKENIZER, "x", layers=2), TypeError, "layers must be a list of ints"),
    ("concept_vector", lambda: toolkit.concept_vector(TOKENIZER, MODEL, "x", layer=0), TypeError, "model must be a loaded model"),
    ("inject", lambda: toolkit.inject(MODEL, [0.0], layer=0, strength=1.0, from_position=0).__enter__(), TypeError, "vector must be a torch tensor"),
    ("inject", lambda: toolkit.inject(MODEL, V, layer="1", strength=1.0, from_position=0).__enter__(), TypeError, "layer must be an int"),
    ("introspection_prompt", lambda: toolkit.introspection_prompt(0), ValueError, "trial must be at least 1"),
    ("introspection_trials", lambda: toolkit.introspection_trials(MODEL, TOKENIZER, {"sea": V}), TypeError, "needs `layer` and `strength`"),
    ("introspection_trials", lambda: toolkit.introspection_trials(MODEL, TOKENIZER, [V], layer=0, strength=1.0), TypeError, "vectors must be a dict"),
    ("arch_of", lambda: toolkit.arch_of("seer:tiny-llama"), TypeError, "model must be a loaded model"),
    ("load_model", lambda: toolkit.load_model(["seer:tiny-llama"]), TypeError, "id must be a model id"),
    ("load_model", lambda: toolkit.load_model("seer:tiny-llama", dtype="fp8"), ValueError, "dtype must be one of auto, float32"),
    ("load_sae", lambda: toolkit.load_sae(3), TypeError, "source must be a folder or a sae-lens release"),
    ("diff_latents", lambda: toolkit.diff_latents(MODEL, MODEL, TOKENIZER, None, ["a"], layer=0), TypeError, "sae must be a sparse autoencoder"),
    ("diff_latents", lambda: toolkit.diff_latents(MODEL, "b", TOKENIZER, None, ["a"], layer=0), TypeError, "model_b must be a loaded model"),
    ("train_sae", lambda: toolkit.train_sae(V, 16), ValueError, r"activations must be \[tokens, d_model\]"),
    ("train_sae", lambda: toolkit.train_sae(V.reshape(4, 16), "16"), TypeError, "d_sae must be an int"),
    ("sae_metrics", lambda: toolkit.sae_metrics(None, [[0.0]]), TypeError, "activations must be a torch tensor"),
    ("entity_prompt", lambda: toolkit.entity_prompt("The city of", "Paris"), ValueError, "template must be a string with one"),
    ("known_entities", lambda: toolkit.known_entities(MODEL, TOKENIZER, "{} is in", "Paris", ["France"]), TypeError, "entities must be a non-empty list"),
    ("known_entities", lambda: toolkit.known_entities(MODEL, TOKENIZER, "{} is in", ["Paris"], "France"), ValueError, "answers must be a list as long as entities"),
    ("separation_scores", lambda: toolkit.separation_scores(MODEL, TOKENIZER, None, "{} is", ["a"], [True], layer=0), TypeError, "sae must be a sparse autoencoder"),
    ("separation_scores", lambda: toolkit.separation_scores(MODEL, TOKENIZER, SAE, "{} is", ["a", "b"], [True, True], layer=0), ValueError, "some entities known and some unknown"),
    ("latent_frequency", lambda: toolkit.latent_frequency(MODEL, TOKENIZER, SAE, "some text", layer=0), TypeError, "texts must be a list of strings"),
    ("train_tms", lambda: toolkit.train_tms(5, 0), ValueError, "n_hidden must be at least 1"),
    ("train_tms", lambda: toolkit.train_tms(feature_probability=2.0), ValueError, r"feature_probability must be in \(0, 1\]"),
    ("decompose_parameters", lambda: toolkit.decompose_parameters(MODEL), TypeError, "model must be a TMS"),
    ("mmcs_ml2r", lambda: toolkit.mmcs_ml2r(torch.zeros(3, 2, 4), torch.zeros(2, 5)), ValueError, r"components must be \[C, 2, 5\]"),
]


@pytest.mark.parametrize(("function", "wrong", "error", "message"), WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_a_wrong_argument_is_refused_by_name(function: str, wrong: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        wrong()


def test_every_public_function_has_a_wrong_argument_case() -> None:
    functions = {name for name in toolkit.__all__ if inspect.isfunction(getattr(toolkit, name))}
    assert {w[0] for w in WRONG} == functions
