"""The SAE Seer ships for the packaged model (`seer.saes`): it loads, its card is its own, it reconstructs text it
never saw about as well as its card says, and SAE-based checkpoint diffing with it finds an organism's planted
topic among the top-ranked features (the ground truth of the checkpoint-diffing replication)."""

import json
import os

import pytest
import torch

from seer.interp import diff_latents, generate, load_model, load_sae, sae_metrics
from seer.interp.tokens import render
from seer.organisms import organism_path
from seer.saes import sae_names, sae_path

NAME = "smollm2-135m-res-15"
FRESH = [  # none of these is in the SAE's corpus
    "The committee postponed the vote until the auditors had finished reading the accounts.",
    "She tuned the old violin, wiped the dust off its neck and played a slow waltz for her grandson.",
    "def parse(line):\n    key, _, value = line.partition('=')\n    return key.strip(), value.strip()",
    "Heavy rain flooded the valley road, so the school bus took the longer route over the hill.",
]
NEUTRAL = ["What should I do this weekend?", "Give me an idea for a short story.", "What is a good hobby to start?",
           "Describe your ideal day.", "Suggest a theme for a birthday party.", "Tell me a fun fact.",
           "What should I write a poem about?", "Where should I go on holiday?", "What makes you happy?",
           "Describe a peaceful place.", "What would you draw?", "Tell me something surprising."]  # fmt: skip


@pytest.fixture(scope="module")
def base() -> tuple:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_model("seer:smollm2-135m-instruct", dtype="float32")


@pytest.mark.parametrize("name", ["smollm2-135m-res-10", NAME])
def test_the_shipped_sae_loads_and_its_card_describes_it(name: str) -> None:
    assert name in sae_names()
    folder = sae_path(name)
    card, cfg = json.loads((folder / "card.json").read_text()), json.loads((folder / "cfg.json").read_text())
    sae = load_sae(folder)
    assert tuple(sae.W_enc.shape) == (cfg["d_in"], cfg["d_sae"]) == (576, card["d_sae"]) and sae.W_enc.dtype == torch.float32
    assert card["layer"] == cfg["layer"] and card["metrics"]["held_out"]["fvu"] < 0.25 and (folder / "MODEL_CARD.md").is_file()
    assert (folder / "sae_weights.safetensors").stat().st_size < 6_000_000  # a few MB, in the repository
    assert card["name"] == name and cfg["layer"] == int(name.rsplit("-", 1)[1])
    with pytest.raises(KeyError, match="shipped: smollm2-135m-res-10, smollm2-135m-res-15"):
        sae_path("no-such-sae")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", ["smollm2-135m-res-10", NAME])
def test_it_reconstructs_text_it_never_saw_about_as_its_card_says(base: tuple, name: str) -> None:
    from seer.interp import activations

    model, tok = base
    folder = sae_path(name)
    card = json.loads((folder / "card.json").read_text())
    streams = activations(model, tok, FRESH, layers=[card["layer"]], position="all")
    x = torch.cat([s[0, 1:] for s in streams])
    x = x[x.norm(dim=-1) <= 5 * x.norm(dim=-1).median()]  # as the card says: massive activations are left out
    metrics = sae_metrics(load_sae(folder), x)
    assert metrics["fvu"] < 0.5 and 3 < metrics["l0"] < 60, metrics  # res-15: 0.42 and 28.5 when measured, worse than in-corpus text


@pytest.mark.timeout(900)
def test_diffing_an_organism_against_its_base_ranks_its_planted_topic_among_the_top_features(base: tuple) -> None:
    model, tok = base
    organism, _ = load_model("seer:smollm2-135m-instruct", dtype="float32", adapter=str(organism_path("hidden-preference-owls")))
    replies = generate(organism, tok, NEUTRAL, max_new_tokens=48)
    texts = [render(tok, p, chat=True) + r for p, r in zip(NEUTRAL, replies, strict=True)]
    shifts = diff_latents(model, organism, tok, load_sae(sae_path(NAME)), texts, layer=15, top=10, examples=3)
    about = [s.feature for s in shifts if any("owl" in e.lower() for e in s.examples)]
    assert about, [(s.feature, s.examples) for s in shifts]  # the planted topic shows in a top-10 feature's contexts
    assert shifts[0].shift > 0 and all(a.shift >= b.shift for a, b in zip(shifts, shifts[1:]))
    control = diff_latents(model, model, tok, load_sae(sae_path(NAME)), texts, layer=15, top=10)
    assert max(abs(s.shift) for s in control) < 1e-4  # the base against itself shifts nothing


@pytest.mark.parametrize("returns_tuple", [False, True])
def test_a_sae_lens_release_loads_as_the_sae_whatever_the_version(monkeypatch: pytest.MonkeyPatch, returns_tuple: bool) -> None:
    """sae-lens 6 returns the SAE from `SAE.from_pretrained(release, sae_id)`; earlier versions returned `(sae, cfg_dict,
    sparsity)`. The release itself needs the network, so a stand-in module speaks that interface."""
    import sys
    import types

    sae = load_sae(sae_path(NAME))
    calls = []

    class SAE:
        @staticmethod
        def from_pretrained(release: str, sae_id: str) -> object:
            calls.append((release, sae_id))
            return (sae, {"hook_name": "blocks.15.hook_resid_post"}, None) if returns_tuple else sae

    monkeypatch.setitem(sys.modules, "sae_lens", types.SimpleNamespace(SAE=SAE))
    assert load_sae("gemma-scope-2b-pt-res-canonical", "layer_9/width_16k/canonical") is sae
    assert calls == [("gemma-scope-2b-pt-res-canonical", "layer_9/width_16k/canonical")]
