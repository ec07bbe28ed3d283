"""msr from 4×4 Gram eigenvalues against the 4×P SVD definition, its range, and the pair-label table."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nrsfm_bench.geometry import cameras_from_rotations, project, random_rotations  # noqa: E402
from nrsfm_bench.methods.pr_rrn.rigidity import msr, msr_svd, rigidity_table  # noqa: E402


def _views(shapes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """(F, P, 3) shapes seen through random orthographic cameras → (F, P, 2) float64 tensor."""
    M = cameras_from_rotations(random_rotations(shapes.shape[0], rng))
    return torch.as_tensor(project(shapes, M))


def test_gram_equals_svd_on_random_frames():
    rng = np.random.default_rng(0)
    W = torch.as_tensor(rng.standard_normal((6, 40, 2)))
    ratio, defined = msr(W, W[:5])
    assert defined.all()
    assert torch.allclose(ratio, msr_svd(W, W[:5]), atol=1e-5, rtol=0)
    assert (ratio >= 0).all() and (ratio <= 0.25).all()
    assert ratio[~torch.eye(6, 5, dtype=torch.bool)].min() > 0.01  # random 2D frames are far from rigid


def test_gram_equals_svd_on_rank_deficient_frames():
    rng = np.random.default_rng(1)
    flat = rng.standard_normal((30, 3)) * [1.0, 1.0, 0.0]          # a planar shape: its pairs have rank ≤ 2
    line = np.outer(rng.standard_normal(30), [1.0, 2.0, -1.0])      # a collinear shape: rank 1
    W = torch.cat([_views(np.stack([flat] * 3), rng), _views(np.stack([line] * 3), rng)])
    ratio, defined = msr(W, W)
    reference = msr_svd(W, W)
    ok = ~torch.isnan(reference)
    assert torch.allclose(ratio[ok], reference[ok], atol=1e-5, rtol=0)
    assert ratio[:3, :3].max() < 1e-10                              # same rigid planar shape: rank ≤ 3


def test_gram_equals_svd_with_missing_points():
    rng = np.random.default_rng(2)
    W = torch.as_tensor(rng.standard_normal((5, 25, 2)) + 3.0)     # off-centre on purpose
    visible = torch.as_tensor(rng.random((5, 25)) > 0.3)
    visible[0, :] = False
    visible[0, :4] = True                                           # frame 0: 4 points, fewer than 5 in common
    ratio, defined = msr(W, W, visible, visible)
    reference = msr_svd(W, W, visible, visible)
    assert torch.equal(defined, ~torch.isnan(reference))
    assert not defined[0].any()
    assert torch.allclose(ratio[defined], reference[defined], atol=1e-5, rtol=0)
    assert torch.isnan(ratio[~defined]).all()


def test_rigid_pair_scores_zero_even_with_missing_points():
    rng = np.random.default_rng(3)
    shape = rng.standard_normal((31, 3))
    W = _views(np.stack([shape, shape]), rng)
    visible = torch.as_tensor(rng.random((2, 31)) > 0.2)
    W = W - (W * visible[..., None]).sum(1, keepdim=True) / visible.sum(1)[:, None, None]  # centred per frame
    W = W * visible[..., None]                                      # hidden points zeroed, like a Sequence
    ratio, _ = msr(W[:1], W[1:], visible[:1], visible[1:])
    assert ratio.item() < 1e-12
    other = _views(rng.standard_normal((1, 31, 3)), rng)
    assert msr(W[:1], other)[0].item() > 0.01                        # a different shape is not rigid with it


def test_hidden_entries_are_ignored_whatever_they_hold():
    rng = np.random.default_rng(4)
    W = torch.as_tensor(rng.standard_normal((3, 20, 2)))
    visible = torch.as_tensor(rng.random((3, 20)) > 0.25)
    garbage = torch.where(visible[..., None], W, torch.full_like(W, 1e6))
    assert torch.allclose(msr(W, W, visible, visible)[0], msr(garbage, garbage, visible, visible)[0],
                          equal_nan=True)


def test_table_labels_match_thresholded_msr():
    rng = np.random.default_rng(5)
    basis = rng.standard_normal((2, 31, 3))
    coefficients = rng.uniform(-0.4, 0.4, size=(40, 1))
    W = _views(basis[0] + coefficients[:, :, None] * basis[1], rng).float()
    ratio, defined = msr(W, W)
    table = rigidity_table(W, None, tau=0.02, xi=0.04, pairs_per_chunk=300)  # several chunks
    assert torch.equal(table == 1, defined & (ratio < 0.02))
    assert torch.equal(table == -1, defined & (ratio > 0.04))
    assert (table == 1).any() and (table == -1).any()
