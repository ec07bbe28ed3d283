"""Shared factorisation pieces of the classical baselines: masked low-rank factorisation and metric upgrade."""
import numpy as np
import pytest

from nrsfm_bench.baselines import factorization as fz
from nrsfm_bench.errors import MethodFailure
from nrsfm_bench.geometry import random_rotations


def _low_rank(rows, cols, rank, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, rank)) @ rng.standard_normal((rank, cols)) + rng.standard_normal((rows, 1))


def test_complete_factorisation_is_exact_and_centred():
    Wm = _low_rank(40, 15, 4, 0)
    f = fz.low_rank_factorize(Wm, 4)
    assert np.allclose(f.A @ f.B + f.t[:, None], Wm, atol=1e-10)
    assert f.iterations == 0 and f.converged


@pytest.mark.parametrize("missing", [0.2, 0.4])
def test_masked_factorisation_recovers_hidden_entries(missing):
    Wm = _low_rank(120, 30, 6, 1)
    mask = np.random.default_rng(2).random(Wm.shape) > missing
    f = fz.low_rank_factorize(np.where(mask, Wm, 1e6), 6, mask, iterations=2000, tol=1e-14)
    assert f.converged
    # the hidden entries (filled with garbage above) are predicted from the low-rank model
    assert np.abs(f.A @ f.B + f.t[:, None] - Wm).max() < 1e-6


def test_factorisation_rejects_impossible_rank():
    with pytest.raises(MethodFailure, match="rank-9"):
        fz.low_rank_factorize(np.zeros((10, 8)), 9)


def test_sym_coefficients_match_quadratic_form():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 5))
    L = rng.standard_normal((5, 5))
    L = L + L.T
    upper = L[np.triu_indices(5)]
    assert np.isclose(fz.sym_coefficients(a, b) @ upper, a @ L @ b)
    assert np.allclose(fz.sym_from_upper(upper, 5), L)


def test_nearest_psd_factor_clips_negative_eigenvalues():
    L = np.diag([3.0, 1.0, -2.0])
    Q, clipped = fz.nearest_psd_factor(L, 3)
    assert clipped
    assert np.allclose(Q @ Q.T, np.diag([3.0, 1.0, 0.0]), atol=1e-8)
    with pytest.raises(MethodFailure, match="no positive eigenvalue"):
        fz.nearest_psd_factor(-np.eye(3), 3)


def test_metric_upgrade_turns_affine_cameras_orthonormal():
    R = random_rotations(30, 4)[:, :2]                        # true cameras (30, 2, 3)
    H = np.random.default_rng(5).standard_normal((3, 3))      # unknown affine ambiguity
    A = (R @ np.linalg.inv(H)).reshape(60, 3)
    Q, info = fz.metric_upgrade_rigid(A)
    M = fz.frame_blocks(A @ Q)
    assert np.allclose(M @ M.transpose(0, 2, 1), np.eye(2), atol=1e-8)
    assert info["metric_residual"] < 1e-8


def test_rigid_shape_given_cameras_inverts_projection():
    rng = np.random.default_rng(6)
    S = rng.standard_normal((9, 3))
    S -= S.mean(0)
    M = random_rotations(12, 7)[:, :2]
    W = S @ M.transpose(0, 2, 1)
    visible = rng.random((12, 9)) > 0.3
    assert np.allclose(fz.rigid_shape_given_cameras(W, visible, M), S, atol=1e-8)
