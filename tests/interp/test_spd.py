"""SPD's metrics and its recovery of the toy model's mechanisms (TMS 5-2: one subcomponent per column of W)."""

import pytest
import torch

from seer.interp import TMS, decompose_parameters, mmcs_ml2r


def test_the_columns_of_w_score_one_and_a_faithful_svd_split_does_not() -> None:
    W = torch.randn(2, 5, generator=torch.Generator().manual_seed(0))
    columns = torch.stack([torch.outer(W[:, j], torch.eye(5)[j]) for j in range(5)])
    assert mmcs_ml2r(columns, W) == pytest.approx((1.0, 1.0))
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    svd = torch.einsum("k,hk,kf->khf", S, U, Vh)
    torch.testing.assert_close(svd.sum(0), W)
    assert mmcs_ml2r(svd, W)[0] < 0.99
    assert mmcs_ml2r(0.5 * columns, W) == pytest.approx((1.0, 0.5))  # shrinkage shows in ML2R alone


@pytest.mark.timeout(300)
def test_spd_recovers_the_columns_of_the_packaged_tms_5_2() -> None:
    from seer.task import find_task

    task = find_task("spd-tms")
    assert task is not None
    tms = TMS.load(task.path / "tms_5-2.pt")
    torch.testing.assert_close(tms.W, torch.tensor(task.ground_truth["offline"]["weight"]))  # the judge's copy is the shipped one
    # A shorter run than the default 12000 steps, with a higher learning rate and importance coefficient: MMCS 0.9995,
    # ML2R 0.978, faithfulness error 2e-5 in 5000 steps (the defaults: 1.000, 1.007, 1e-5 in 12000; at the default rate
    # 4000 steps reach only ML2R 0.52). The defaults themselves are graded in the task's baseline test (tests/tasks/test_spd.py).
    spd = decompose_parameters(tms, steps=5000, lr=6e-3, importance_coeff=1e-2, seed=0)
    components = spd.components
    mmcs, ml2r = mmcs_ml2r(components, tms.W, min_norm=0.05)
    assert float((components.sum(0) - tms.W).norm() / tms.W.norm()) < 0.01
    assert mmcs > 0.99 and abs(ml2r - 1) < 0.1, (mmcs, ml2r)
