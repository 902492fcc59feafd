"""The interpretability toolkit the agent calls inside the kernel.

It imports only torch and transformers (PEFT when an adapter is used), with relative imports only, so
the session can ship this folder into a kernel where Seer is not installed (as `seer_interp`).

```python
from seer_interp import activations, diff_in_means, steer, generate
v = diff_in_means(model, tok, ["I love this"], ["I hate this"], layers=[6])[0]
with steer(model, {6: v}, strength=4.0, positions="generated"):
    print(generate(model, tok, ["Tell me about your day."]))
```
"""

from ._version import __version__
from .ablation import ablate, orthogonalize, project_out
from .actadd import actadd_vector, add_at_front
from .activations import activations, diff_in_means
from .arch import Arch, arch_of
from .compare import NextTokenShift, SampleComparison, compare_next_token, compare_samples, next_token_logprobs, overrepresented_words
from .concepts import concept_vector, inject, introspection_prompt, introspection_trials
from .diffing import LatentShift, diff_latents
from .entities import entity_prompt, known_entities, latent_frequency, separation_scores
from .generation import generate
from .lens import LensResult, logit_lens
from .loading import load_model
from .patching import patch_residual, patching_sweep, residual_stream
from .probes import Probe, train_probe
from .refusal import Selection, candidate_directions, refusal_score, select_direction
from .sae import SparseAutoencoder, load_sae, sae_metrics, steer_with_feature, top_features, train_sae
from .spd import TMS, Decomposition, decompose_parameters, mmcs_ml2r, train_tms
from .steering import steer

__all__ = [
    "__version__",
    "ablate",
    "actadd_vector",
    "add_at_front",
    "activations",
    "Arch",
    "arch_of",
    "candidate_directions",
    "compare_next_token",
    "compare_samples",
    "concept_vector",
    "decompose_parameters",
    "Decomposition",
    "diff_in_means",
    "diff_latents",
    "entity_prompt",
    "generate",
    "inject",
    "introspection_prompt",
    "introspection_trials",
    "known_entities",
    "latent_frequency",
    "LatentShift",
    "LensResult",
    "load_model",
    "load_sae",
    "logit_lens",
    "mmcs_ml2r",
    "next_token_logprobs",
    "NextTokenShift",
    "orthogonalize",
    "overrepresented_words",
    "patch_residual",
    "patching_sweep",
    "Probe",
    "project_out",
    "refusal_score",
    "residual_stream",
    "sae_metrics",
    "SampleComparison",
    "select_direction",
    "separation_scores",
    "Selection",
    "SparseAutoencoder",
    "steer",
    "steer_with_feature",
    "TMS",
    "top_features",
    "train_probe",
    "train_sae",
    "train_tms",
]
