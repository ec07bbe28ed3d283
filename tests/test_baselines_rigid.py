"""Tomasi–Kanade recovers rigid synthetic data exactly under every preset; `flat` scores clearly worse."""
import numpy as np
import pytest

from nrsfm_bench.datasets.synthetic import Synthetic
from nrsfm_bench.evaluation import evaluate
from nrsfm_bench.registry import METHODS


def _run(name, seq, **params):
    method = METHODS.resolve(name)[0].cls(**params)
    return method.fit(seq.observations()).reconstruct(seq.observations())


@pytest.fixture(scope="module")
def rigid():
    return Synthetic(rigid=True, frames=200).load()


@pytest.mark.parametrize("preset", ["dnrsfm", "akhter"])
def test_tomasi_kanade_recovers_rigid_shape(rigid, preset):
    result = _run("tomasi_kanade", rigid)
    score = evaluate(result.S, rigid.S_gt, rigid.visible, M_pred=result.M, W=rigid.W, preset=preset)
    assert score.e3d < 1e-6
    assert score.reprojection < 1e-6
    flat = _run("flat", rigid)
    flat_score = evaluate(flat.S, rigid.S_gt, rigid.visible, M_pred=flat.M, preset=preset)
    assert flat_score.e3d > 0.1 and flat_score.e3d > 1e5 * score.e3d


def test_tomasi_kanade_with_missing_points():
    seq = Synthetic(rigid=True, frames=200, missing=0.3).load()
    result = _run("tomasi_kanade", seq)
    assert result.info["converged"]
    assert evaluate(result.S, seq.S_gt, seq.visible, M_pred=result.M).e3d < 1e-6


def test_tomasi_kanade_tolerates_noise_and_keeps_cameras_orthonormal():
    seq = Synthetic(rigid=True, frames=200, noise=0.05).load()
    result = _run("tomasi_kanade", seq)
    assert np.allclose(result.M @ result.M.transpose(0, 2, 1), np.eye(2), atol=1e-10)
    assert evaluate(result.S, seq.S_gt, seq.visible, M_pred=result.M).e3d < 0.05


def test_flat_is_the_centred_2d_at_depth_zero():
    seq = Synthetic(frames=10, missing=0.2).load()
    result = _run("flat", seq)
    assert np.all(result.S[..., 2] == 0)
    assert np.allclose(result.S[..., :2][seq.visible].reshape(-1, 2).sum(0), 0, atol=1e-9)
    assert np.array_equal(result.M[3], np.eye(2, 3))
