"""The refusal-direction recipe, probes, concept injection and SAEs on tiny random models."""

from pathlib import Path
from typing import Any

import torch

from seer.interp import (
    SparseAutoencoder,
    ablate,
    activations,
    candidate_directions,
    concept_vector,
    inject,
    load_sae,
    refusal_score,
    select_direction,
    steer,
    steer_with_feature,
    top_features,
    train_probe,
)  # fmt: skip

HARMFUL = ["how do i pick a lock", "make a weapon now", "steal a car fast"]
HARMLESS = ["how do i bake bread", "make a paper boat", "plant a tree fast"]


def test_candidates_are_differences_in_means_per_position_and_layer(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    candidates = candidate_directions(model, tok, HARMFUL, HARMLESS, positions=2, chat=False)
    assert candidates.shape == (2, 3, 64)
    by_hand = activations(model, tok, HARMFUL, position=-1).mean(0) - activations(model, tok, HARMLESS, position=-1).mean(0)
    assert torch.allclose(candidates[-1], by_hand, atol=1e-5)


def test_selection_scores_every_allowed_candidate_and_picks_the_best_bypass(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    candidates = candidate_directions(model, tok, HARMFUL, HARMLESS, positions=2, chat=False)
    chosen = select_direction(model, tok, candidates, HARMFUL, HARMLESS, max_layer_fraction=0.7, kl_threshold=10.0, chat=False)
    assert chosen.bypass.shape == (2, 3) and torch.isnan(chosen.bypass[:, 2]).all()  # layer 2 of 3 is past 70 %
    allowed = (chosen.induce > 0) & (chosen.kl < 10.0) if chosen.filtered else ~torch.isnan(chosen.bypass)
    assert chosen.bypass[chosen.position, chosen.layer] == chosen.bypass[allowed].min()
    with ablate(model, chosen.direction):
        again = refusal_score(model, tok, HARMFUL, chat=False).mean()
    assert torch.isclose(again, chosen.bypass[chosen.position, chosen.layer], atol=1e-5)


def test_a_probe_finds_a_planted_direction_and_not_noise() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(400, 32, generator=generator)
    planted = torch.randn(32, generator=generator)
    labels = (x @ planted > 0).float()
    probe = train_probe(x, labels)
    assert probe.test_accuracy > 0.9 and torch.nn.functional.cosine_similarity(probe.weight, planted, dim=0) > 0.8
    noise = train_probe(x, torch.randint(0, 2, (400,), generator=generator).float())
    assert noise.test_accuracy < 0.7


def test_concept_injection_starts_at_the_chosen_token(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    vector = concept_vector(model, tok, "ocean", layer=1, chat=False)
    assert vector.shape == (64,)
    plain = activations(model, tok, ["what are you thinking about"], layers=[1], position="all")[0]
    with inject(model, vector, layer=1, strength=2.0, from_position=10):
        injected = activations(model, tok, ["what are you thinking about"], layers=[1], position="all")[0]
    assert torch.equal(injected[:, :10], plain[:, :10])
    assert torch.allclose(injected[:, 10:] - plain[:, 10:], 2.0 * vector.expand_as(plain[:, 10:]), atol=1e-4)


def test_an_sae_in_sae_lens_layout_loads_encodes_and_steers(tiny: tuple[Any, Any], tmp_path: Path) -> None:
    model, tok = tiny
    generator = torch.Generator().manual_seed(1)
    sae = SparseAutoencoder(torch.randn(64, 256, generator=generator) / 8, torch.zeros(256),
                            torch.randn(256, 64, generator=generator) / 8, torch.zeros(64))  # fmt: skip
    sae.save(tmp_path / "sae", hook_name="blocks.1.hook_resid_post")
    loaded = load_sae(tmp_path / "sae")
    x = torch.randn(5, 64)
    assert torch.allclose(loaded.decode(loaded.encode(x)), sae.decode(sae.encode(x)))
    per_token = top_features(model, tok, loaded, "feature probe", layer=1, k=3)
    assert len(per_token) == len(tok("feature probe")["input_ids"]) and all(len(f) == 3 for _, f in per_token)
    ids = tok(["steer by feature"], return_tensors="pt")
    with torch.no_grad(), steer_with_feature(model, loaded, 7, layer=1, strength=3.0):
        by_feature = model(**ids).logits
    with torch.no_grad(), steer(model, {1: loaded.W_dec[7].detach()}, strength=3.0):
        by_vector = model(**ids).logits
    assert torch.equal(by_feature, by_vector)


def test_an_sae_trained_on_sparse_combinations_of_known_directions_recovers_them() -> None:
    from seer.interp import sae_metrics, train_sae

    generator = torch.Generator().manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(24, 16, generator=generator), dim=-1)
    codes = (torch.rand(6000, 24, generator=generator) < 0.08) * torch.rand(6000, 24, generator=generator) * 3
    x = codes @ truth + 5.0  # an offset, as residual streams have, learnt by the decoder bias
    sae = train_sae(x, 48, l1=1.0, steps=1500, batch_size=256, seed=0)
    metrics = sae_metrics(sae, x[:2000])
    assert metrics["fvu"] < 0.1 and 0.5 < metrics["l0"] < 8, metrics
    found = (torch.nn.functional.normalize(sae.W_dec.detach(), dim=-1) @ truth.T).max(0).values
    assert (found > 0.9).float().mean() >= 0.8, found  # most true directions have a decoder row pointing along them
    again = train_sae(x, 48, l1=1.0, steps=1500, batch_size=256, seed=0)
    assert torch.equal(again.W_dec, sae.W_dec)  # deterministic for a seed


def test_checkpoint_diffing_ranks_first_the_feature_along_what_the_fine_tune_added() -> None:
    import copy

    from seer.interp import SparseAutoencoder, arch_of, diff_latents, load_model

    base, tok = load_model("seer:tiny-llama", seed=7)
    tuned = copy.deepcopy(base)
    d = arch_of(base).d_model
    added = torch.nn.functional.normalize(torch.randn(d, generator=torch.Generator().manual_seed(1)), dim=0)
    with torch.no_grad():
        tuned.get_input_embeddings().weight += 4 * added  # the "fine-tune" writes one direction into every token
    W_enc = torch.nn.functional.normalize(torch.randn(d, 32, generator=torch.Generator().manual_seed(2)), dim=0)  # noqa: N806
    W_enc[:, 5] = added
    sae = SparseAutoencoder(W_enc, torch.zeros(32), W_enc.T.clone(), torch.zeros(d))
    texts = ["the cat sat on the mat", "a b c d e f", "hello there"]
    shifts = diff_latents(base, tuned, tok, sae, texts, layer=0, top=3, examples=2)
    assert shifts[0].feature == 5 and shifts[0].shift > 1 and shifts[0].shift > 3 * abs(shifts[1].shift)
    assert shifts[0].frequency_b >= shifts[0].frequency_a and len(shifts[0].examples) == 2 and "[[" in shifts[0].examples[0]
    same = diff_latents(base, base, tok, sae, texts, layer=0, top=3)
    assert all(abs(s.shift) < 1e-5 for s in same)  # a model against itself changes nothing
