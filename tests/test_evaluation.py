"""The evaluator: hand-computed cases, and properties of each preset (what it forgives and what it does not)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nrsfm_bench.evaluation import PRESETS, align, evaluate, get_preset
from nrsfm_bench.errors import UnknownNameError
from nrsfm_bench.geometry import center_masked, random_rotations

CROSS = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])  # centred, ‖CROSS‖ = 2
REFLECT = np.diag([1.0, 1.0, -1.0])


def generic_shapes(seed: int, F: int, P: int) -> np.ndarray:
    G = np.random.default_rng(seed).standard_normal((F, P, 3))
    return G - G.mean(1, keepdims=True)


# ----------------------------------------------------------------------------------------- hand-computed
def test_dnrsfm_hand_computed_anisotropic_stretch():
    G = CROSS[None]
    X = G * [2.0, 1.0, 1.0]  # points (±2,0,0), (0,±1,0): ‖X‖ = √10; rotation stays the identity
    scale = 2 / np.sqrt(10)  # norm ratio ‖G‖/‖X‖
    expected = np.sqrt(2 * (2 * scale - 1) ** 2 + 2 * (scale - 1) ** 2) / 2
    assert evaluate(X, G, preset="dnrsfm").e3d == pytest.approx(expected, rel=1e-12)


def test_akhter_hand_computed_units_and_no_scale():
    G = np.stack([CROSS, CROSS])
    s = (np.sqrt(0.5) + np.sqrt(0.5) + 0) / 3  # mean per-row population std: x, y, z rows
    result = evaluate(2 * G, G, preset="akhter")  # no scale fitting: every point is 1 unit off
    assert result.e3d == pytest.approx(1 / s, rel=1e-12)
    assert result.mpjpe == pytest.approx(1.0, rel=1e-12)


def test_camera_zflip_hand_computed():
    G = CROSS[None]
    assert evaluate(2 * G, G, preset="camera_zflip").e3d == pytest.approx(1.0)
    shifted_and_flipped = G * [1, 1, -1] + [3.0, -2.0, 5.0]
    assert evaluate(shifted_and_flipped, G, preset="camera_zflip").e3d == pytest.approx(0, abs=1e-12)


def test_camera_scale_is_moved_into_the_shape_for_dnrsfm():
    G = generic_shapes(0, 3, 6)
    M = 0.5 * random_rotations(3, 1)[:, :2]  # a camera with spectral norm 0.5
    X = G * 2.0
    result = evaluate(X, G, M_pred=M, preset="dnrsfm")
    assert result.e3d == pytest.approx(0, abs=1e-12)


def test_stress_needs_no_alignment_and_counts_pairs():
    G = CROSS[None]
    X = (G @ random_rotations(1, 5)[0]) + 10  # rigid motion: distances unchanged
    assert evaluate(X, G).stress == pytest.approx(0, abs=1e-12)
    # stretch x by 2: pair (0,1) grows from 2 to 4; pairs (0|1, 2|3) grow from √2 to √5; (2,3) unchanged
    expected = (2 + 4 * (np.sqrt(5) - np.sqrt(2))) / 6
    assert evaluate(G * [2, 1, 1], G).stress == pytest.approx(expected)


def test_reprojection_error_uses_method_cameras():
    G = generic_shapes(3, 4, 7)
    M = random_rotations(4, 4)[:, :2]
    W = G @ M.transpose(0, 2, 1)
    assert evaluate(G, G, M_pred=M, W=W).reprojection == pytest.approx(0, abs=1e-12)
    assert evaluate(G, G, M_pred=M, W=W * 1.1).reprojection == pytest.approx(0.1 / 1.1, rel=1e-9)
    assert evaluate(G, G).reprojection is None


# ----------------------------------------------------------------------------------------- missing points
def test_hidden_points_are_ignored_and_sparse_frames_reported():
    visible = np.ones((4, 8), bool)
    visible[1, 2] = False
    visible[3, 3:] = False  # frame 3 keeps 3 points: still scored
    visible[2, 2:] = False  # frame 2 keeps 2 points: unscored, reported
    G = center_masked(generic_shapes(1, 4, 8), visible)  # inputs are centred over their visible points
    X = G.copy()
    X[~visible] = 1e6  # garbage where hidden
    G_nan = G.copy()
    G_nan[~visible] = np.nan
    for preset in PRESETS:
        result = evaluate(X, G_nan, visible, preset=preset)
        assert result.e3d == pytest.approx(0, abs=1e-9), preset
        assert result.unscored_frames == (2,) and result.frames_scored == 3
        assert np.isnan(result.e3d_per_frame[2])


def test_zero_prediction_scores_finite_not_nan():
    G = generic_shapes(2, 3, 5)
    for preset in PRESETS:
        assert np.isfinite(evaluate(np.zeros_like(G), G, preset=preset).e3d)


def test_unknown_preset_suggests_names():
    with pytest.raises(UnknownNameError, match="dnrsfm"):
        get_preset("dnrsf")


# ----------------------------------------------------------------------------------------- properties
shapes = dict(seed=st.integers(0, 2**32 - 1), F=st.integers(2, 6), P=st.integers(4, 12))


@settings(max_examples=40, deadline=None)
@given(**shapes, scale=st.floats(0.1, 10))
def test_dnrsfm_forgives_per_frame_rotation_reflection_and_scale(seed, F, P, scale):
    G = generic_shapes(seed, F, P)
    R = random_rotations(F, seed + 1)
    R[::2] = R[::2] @ REFLECT  # every other frame reflected
    assert evaluate(scale * G @ R, G, preset="dnrsfm").e3d < 1e-9


@settings(max_examples=40, deadline=None)
@given(**shapes, reflect=st.booleans())
def test_akhter_forgives_one_rotation_for_the_sequence(seed, F, P, reflect):
    G = generic_shapes(seed, F, P)
    R = random_rotations(1, seed + 1)[0] @ (REFLECT if reflect else np.eye(3))
    assert evaluate(G @ R, G, preset="akhter").e3d < 1e-9


@settings(max_examples=40, deadline=None)
@given(**shapes)
def test_akhter_does_not_forgive_per_frame_rotations_or_scale(seed, F, P):
    G = generic_shapes(seed, F, P)
    R = random_rotations(F, seed + 1)
    assert evaluate(G @ R, G, preset="akhter").e3d > 1e-3
    assert evaluate(1.5 * G, G, preset="akhter").e3d > 1e-3


@settings(max_examples=40, deadline=None)
@given(**shapes, shift=st.floats(-5, 5))
def test_camera_zflip_forgives_depth_flips_and_translation_only(seed, F, P, shift):
    G = generic_shapes(seed, F, P)
    flipped = G.copy()
    flipped[::2] *= [1, 1, -1]
    assert evaluate(flipped + shift, G, preset="camera_zflip").e3d < 1e-9
    R = random_rotations(F, seed + 1)
    assert evaluate(G @ R, G, preset="camera_zflip").e3d > 1e-3
    assert evaluate(2 * G, G, preset="camera_zflip").e3d > 1e-3


@settings(max_examples=30, deadline=None)
@given(**shapes)
def test_align_without_reflection_rejects_mirror_images(seed, F, P):
    G = generic_shapes(seed, F, P)
    R = random_rotations(F, seed + 1)
    error = lambda X, **kw: np.abs(align(X, G, **kw)[0] - G).max()  # noqa: E731
    assert error(G @ R, reflection=False) < 1e-9
    assert error(G @ R @ REFLECT, reflection=False) > 1e-3
    assert error(G @ R @ REFLECT, reflection=True) < 1e-9


@settings(max_examples=30, deadline=None)
@given(**shapes, scale=st.floats(0.2, 5))
def test_least_squares_and_norm_ratio_scale_agree_on_exact_copies(seed, F, P, scale):
    G = generic_shapes(seed, F, P)
    for mode in ("least_squares", "norm_ratio"):
        for scope in ("frame", "sequence"):
            X = align(scale * G, G, scale=mode, scope=scope)[0]
            assert np.abs(X - G).max() < 1e-9


def test_sequence_scope_cannot_undo_per_frame_rotations():
    G = generic_shapes(7, 4, 9)
    R = random_rotations(4, 8)
    assert np.abs(align(G @ R, G, scope="sequence")[0] - G).max() > 1e-2
    assert np.abs(align(G @ R, G, scope="frame")[0] - G).max() < 1e-9


@settings(max_examples=30, deadline=None)
@given(**shapes, reflect=st.booleans())
def test_camera_zflip_compares_in_each_frames_camera_coordinates(seed, F, P, reflect):
    G = generic_shapes(seed, F, P)
    M_gt = random_rotations(F, seed + 1)[:, :2]
    Q = random_rotations(F, seed + 2) @ (REFLECT if reflect else np.eye(3))  # the method's own world frame
    X, M_pred = G @ Q, M_gt @ Q  # same observations: X M_predᵀ = G M_gtᵀ
    assert np.allclose(X @ M_pred.transpose(0, 2, 1), G @ M_gt.transpose(0, 2, 1))
    assert evaluate(X, G, M_pred=M_pred, M_gt=M_gt, preset="camera_zflip").e3d < 1e-9
    flat = np.concatenate([G @ M_gt.transpose(0, 2, 1), np.zeros((F, P, 1))], -1)  # right x, y; no depth
    assert evaluate(flat, G, M_pred=np.broadcast_to(np.eye(3)[:2], (F, 2, 3)), M_gt=M_gt,
                    preset="camera_zflip").e3d > 1e-3
