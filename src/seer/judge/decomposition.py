"""The parameter-decomposition grader (`spd_components`; Bushnaq, Braun, Sharkey 2025, Table 1).

The agent hands in the subcomponents it found for the toy model's weight matrix W, as one saved tensor
`[C, n_hidden, n_features]` (rank-one matrices). The judge reads W from the task's ground truth, never
from the workspace (the agent's copy could have been edited), and recomputes:

- faithfulness: `‖Σ_c P_c − W‖ / ‖W‖`, the subcomponents must sum to the weights;
- MMCS and ML2R against the columns of W (`seer.interp.mmcs_ml2r`), the paper's metrics;
- the same for two controls: W's own singular vectors (a faithful rank-one split that is not the
  mechanism) and random rank-one matrices with the handed-in components' norms.

A file that is missing, of the wrong shape, not rank one, unfaithful, or random fails with its reason.
A column split written by hand (`W[:, j] e_jᵀ`) is the ground truth and passes: the check grades what was
recovered; how (SPD, not a split by hand) is the rubric's `method` criterion.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from seer.judge.checks import CheckContext, CheckResult
from seer.judge.measure import MAX_FILE_BYTES, _fail, _settings
from seer.judge.replicate import _bars, _verdict

__all__ = ["SPD_DEFAULTS", "spd_components"]

SPD_DEFAULTS: dict[str, Any] = {
    "min_mmcs": 0.99,
    "max_ml2r_deviation": 0.1,
    "max_faithfulness_error": 0.05,
    "max_rank_residual": 0.01,
    "min_column_norm": 0.05,
    "max_components": 4096,
    "random_controls": 3,
    "seed": 0,
}
"""`min_mmcs`: the mean max cosine similarity the subcomponents must reach (the paper: 1.000; W's singular
vectors reach 0.90 on the packaged TMS 5-2). `max_ml2r_deviation`: how far the mean L2 ratio may be from 1
(the paper: 0.993; APD's shrinkage, 0.9, is the edge). `max_faithfulness_error`: of `‖Σ P_c − W‖ / ‖W‖`.
`max_rank_residual`: each subcomponent's second singular value over its first (rank one). `min_column_norm`:
a subcomponent's column shorter than this fraction of W's column is no candidate for matching it (a
negligible column has no direction; the paper's formula takes every subcomponent)."""


def _load_components(workspace: Path, relative: Any, shape: tuple[int, int], limit: int) -> torch.Tensor | str:
    """The `[C, *shape]` float tensor saved at `relative` inside `workspace`, or why not."""
    if not isinstance(relative, str) or not relative.strip():
        return f"answer.components must be the path of a saved tensor (a string), not {relative!r}"
    root = Path(workspace).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        return f"answer.components {relative!r} points outside the workspace"
    if not path.is_file():
        return f"answer.components {relative!r}: no such file in the workspace"
    if path.stat().st_size > MAX_FILE_BYTES:
        return f"answer.components {relative!r} is larger than {MAX_FILE_BYTES // 2**20} MiB"
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable or unsafe file is the answer's fault
        return f"answer.components {relative!r} could not be loaded as a tensor: {type(exc).__name__}: {str(exc)[:200]}"
    expected = f"[C, {shape[0]}, {shape[1]}] (one rank-one [n_hidden, n_features] matrix per subcomponent)"
    if not isinstance(loaded, torch.Tensor) or not loaded.is_floating_point():
        return f"answer.components {relative!r} holds {type(loaded).__name__}, not a float tensor {expected}"
    if loaded.dim() != 3 or tuple(loaded.shape[1:]) != shape or not 1 <= loaded.shape[0] <= limit:
        return f"answer.components {relative!r} has shape {tuple(loaded.shape)}; expected {expected}, C at most {limit}"
    if not bool(torch.isfinite(loaded).all()):
        return f"answer.components {relative!r} holds non-finite values (nan or inf)"
    return loaded.detach().float()


def _scores(components: torch.Tensor, weight: torch.Tensor, min_norm: float) -> dict[str, float]:
    from seer.interp import mmcs_ml2r

    mmcs, ml2r = mmcs_ml2r(components, weight, min_norm=min_norm)
    return {"mmcs": mmcs, "ml2r": ml2r, "faithfulness_error": float((components.sum(0) - weight).norm() / weight.norm())}


def _random_rank_one(components: torch.Tensor, seed: int) -> torch.Tensor:
    """Random rank-one matrices with the Frobenius norms of `components`."""
    generator = torch.Generator().manual_seed(seed)
    count, rows, cols = components.shape
    random = torch.einsum("ch,cf->chf", torch.randn(count, rows, generator=generator), torch.randn(count, cols, generator=generator))
    return random / random.flatten(1).norm(dim=1)[:, None, None] * components.flatten(1).norm(dim=1)[:, None, None]


def spd_components(workspace: Path, answer: Mapping[str, Any], truth: Mapping[str, Any], settings: Mapping[str, Any] | None,
                   context: CheckContext) -> CheckResult:  # fmt: skip
    """Recompute the SPD paper's Table 1 (MMCS, ML2R) and faithfulness for the agent's subcomponents of W.

    `answer` is `{"components": <path>}`; `truth["weight"]` is W `[n_hidden, n_features]` as nested lists.

    Raises:
        ValueError: `settings` holds an unknown key or a value of the wrong type, or the truth has no weight.
    """
    kind = "spd_components"
    config = _settings(settings, SPD_DEFAULTS)
    if not isinstance(truth.get("weight"), list):
        raise ValueError("the ground truth needs `weight`: the toy model's W [n_hidden, n_features] as nested lists")
    weight = torch.tensor(truth["weight"], dtype=torch.float32)
    if not isinstance(answer, Mapping):
        return _fail(kind, f"the answer must be an object with components, not {type(answer).__name__}")
    components = _load_components(workspace, answer.get("components"), tuple(weight.shape), config["max_components"])
    if isinstance(components, str):
        return _fail(kind, components)
    singular = torch.linalg.svdvals(components)  # [C, min(n_hidden, n_features)]
    residual = singular[:, 1] / singular[:, 0].clamp(min=1e-12) if singular.shape[1] > 1 else torch.zeros(len(components))
    found = _scores(components, weight, config["min_column_norm"])
    U, S, Vh = torch.linalg.svd(weight, full_matrices=False)
    svd = _scores(torch.einsum("k,hk,kf->khf", S, U, Vh), weight, config["min_column_norm"])
    randoms = [_scores(_random_rank_one(components, config["seed"] + k), weight, config["min_column_norm"]) for k in range(config["random_controls"])]
    random = {key: sum(r[key] for r in randoms) / len(randoms) for key in found} if randoms else {}
    norms = components.flatten(1).norm(dim=1)
    figures: dict[str, Any] = {
        "components": len(components), "shape": list(components.shape),
        "significant_components": int((norms > 0.1 * float(norms.max())).sum()),
        "max_rank_residual": float(residual.max()), **found,
        "controls": {"svd": svd, "random": random}, "paper": {"mmcs": 1.0, "ml2r": 0.993, "model": "TMS 5-2"},
        "thresholds": {k: config[k] for k in ("min_mmcs", "max_ml2r_deviation", "max_faithfulness_error", "max_rank_residual", "min_column_norm")},
    }  # fmt: skip
    conditions = {"subcomponents": found, "W's singular vectors": svd, "random, same norms": random}
    groups = {"MMCS": {c: v.get("mmcs", 0.0) for c, v in conditions.items()}, "ML2R": {c: v.get("ml2r", 0.0) for c, v in conditions.items()},
              "1 − faithfulness error": {c: max(0.0, 1 - v.get("faithfulness_error", 1.0)) for c, v in conditions.items()}}  # fmt: skip
    figures["chart"] = _bars(context, kind, "SPD on the toy model: recomputed by the judge against the true W", groups, "value")
    summary = (f"{len(components)} subcomponents of W {tuple(weight.shape)}: MMCS {found['mmcs']:.3f}, ML2R {found['ml2r']:.3f}, "
               f"faithfulness error {found['faithfulness_error']:.4f} (paper, TMS 5-2: 1.000, 0.993); W's singular vectors "
               f"{svd['mmcs']:.3f}/{svd['ml2r']:.3f}; random rank-one {random.get('mmcs', 0):.3f}/{random.get('ml2r', 0):.3f}, "
               f"faithfulness error {random.get('faithfulness_error', 0):.2f}")  # fmt: skip
    problems = []
    if float(residual.max()) > config["max_rank_residual"]:
        worst = int(residual.argmax())
        problems.append(f"subcomponent {worst} is not rank one (second singular value {float(residual[worst]):.3f} of the first > "
                        f"{config['max_rank_residual']}); save outer(U[c], V[c]) for each c")  # fmt: skip
    if found["faithfulness_error"] > config["max_faithfulness_error"]:
        problems.append(f"the subcomponents do not sum to W (relative error {found['faithfulness_error']:.3f} > {config['max_faithfulness_error']})")
    if found["mmcs"] < config["min_mmcs"]:
        problems.append(f"MMCS {found['mmcs']:.3f} < {config['min_mmcs']}: some column of W has no subcomponent pointing its way")
    if abs(found["ml2r"] - 1) > config["max_ml2r_deviation"]:
        problems.append(f"ML2R {found['ml2r']:.3f} is more than {config['max_ml2r_deviation']} from 1: the matched subcomponents are "
                        f"{'shrunk' if found['ml2r'] < 1 else 'inflated'}")  # fmt: skip
    return _verdict(kind, summary, problems, figures)
