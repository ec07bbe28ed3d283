"""Built-in synthetic data: determinism, the promised rank, noise ratio, missing fraction, body and sheet."""
import numpy as np
import pytest

from nrsfm_bench.datasets import sheet, stick_figure
from nrsfm_bench.datasets.synthetic import Synthetic
from nrsfm_bench.geometry import project


def rank(W, tol=1e-9):
    s = np.linalg.svd(W.transpose(0, 2, 1).reshape(-1, W.shape[1]), compute_uv=False)
    return int((s > tol * s[0]).sum())


def test_deterministic_under_seed_and_different_across_seeds():
    a, b, c = (Synthetic(frames=50, seed=s).load() for s in (1, 1, 2))
    assert np.array_equal(a.W, b.W) and np.array_equal(a.S_gt, b.S_gt)
    assert not np.allclose(a.W, c.W)


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_lowrank_measurement_matrix_has_rank_3k_and_w_equals_ms(K):
    seq = Synthetic(frames=200, points=40, K=K).load()
    assert rank(seq.W) == 3 * K
    assert np.allclose(project(seq.S_gt, seq.M_gt), seq.W)
    assert np.allclose(seq.S_gt.mean(1), 0) and np.allclose(seq.M_gt @ seq.M_gt.transpose(0, 2, 1), np.eye(2))


def test_rigid_is_one_shape_up_to_rotation():
    seq = Synthetic(frames=30, rigid=True, K=4).load()
    assert rank(seq.W) == 3
    assert np.allclose(seq.S_gt, seq.S_gt[0])


def test_noise_ratio_and_missing_fraction_are_exact():
    clean = Synthetic(frames=100).load()
    noisy = Synthetic(frames=100, noise=0.05).load()
    assert np.linalg.norm(noisy.W - clean.W) / np.linalg.norm(clean.W) == pytest.approx(0.05, rel=1e-9)
    holey = Synthetic(frames=100, missing=0.3).load()
    assert (~holey.visible).mean() == pytest.approx(0.3, abs=1 / holey.visible.size)
    assert np.all(holey.W[~holey.visible] == 0)


def test_test_fraction_labels_the_last_frames():
    seq = Synthetic(frames=10, test_fraction=0.2).load()
    assert seq.split.tolist() == ["train"] * 8 + ["test"] * 2


def test_articulated_figure_keeps_bone_lengths():
    seq = Synthetic(kind="articulated", frames=120).load()
    bones = np.linalg.norm(seq.S_gt[:, seq.edges[:, 0]] - seq.S_gt[:, seq.edges[:, 1]], axis=-1)
    expected = np.linalg.norm(stick_figure.OFFSETS[seq.edges[:, 0]], axis=-1)
    assert np.allclose(bones, expected)
    assert seq.point_names == stick_figure.NAMES and seq.meta["units"] == "m"
    assert rank(seq.W, 1e-6) > 9  # articulated motion is not a low-rank basis


def test_sheet_grid_and_edges():
    assert sheet.grid_shape(5000) == (50, 100)
    seq = Synthetic(kind="sheet", frames=20, points=5000).load()
    assert seq.P == 5000 and len(seq.edges) == 50 * 99 + 49 * 100
    neighbours = np.linalg.norm(seq.S_gt[:, seq.edges[:, 0]] - seq.S_gt[:, seq.edges[:, 1]], axis=-1)
    assert neighbours.max() < 0.2  # a smooth surface: grid neighbours stay close
    assert Synthetic(kind="sheet", frames=5, points=77).load().P == 77


@pytest.mark.parametrize("kwargs", [dict(kind="bogus"), dict(kind="articulated", points=10), dict(frames=1),
                                    dict(cameras="x"), dict(test_fraction=1.0)])
def test_bad_parameters_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Synthetic(**kwargs)
