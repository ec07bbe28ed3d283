"""The evaluator: e3D under a preset, per-point error, stress and 2D reprojection error."""
from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np

from nrsfm_bench.evaluation.presets import DEFAULT_PRESET, PRESETS, Preset, get_preset
from nrsfm_bench.evaluation.procrustes import align
from nrsfm_bench.geometry import (camera_scale, center_masked, complete_rotation, orthonormalize_camera, project,
                                  safe_ratio)

MIN_VISIBLE_POINTS = 3
STRESS_MAX_PAIRS = 10_000
STRESS_MAX_FRAMES = 5_000
#: (frame, point pair) entries per chunk of the stress computation: bounds its working memory (~100 MB)
STRESS_CHUNK_ENTRIES = 1 << 20


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Scores of one reconstruction under one preset.

    Attributes:
        preset: the preset's name.
        e3d: mean of `e3d_per_frame` over scored frames (paper eq. 19 under this preset).
        e3d_per_frame: (F,) per-frame errors, NaN for unscored frames.
        mpjpe: mean per-point Euclidean error after the preset's alignment, in the data's units.
        stress: mean absolute difference of pairwise point distances, prediction vs ground truth, data units
            (no alignment; the camera's scale moved into the shape when cameras are given; same in every preset).
        reprojection: mean over frames of `‖W_i − M_i X_i‖ / ‖W_i‖` with the method's own cameras
            (both sides centred over visible points), or None when the method gives no cameras.
        frames_scored: number of frames in the means.
        unscored_frames: frames left out, with fewer than 3 visible points or a zero-norm ground truth.
    """

    preset: str
    e3d: float
    e3d_per_frame: np.ndarray
    mpjpe: float
    stress: float
    reprojection: float | None
    frames_scored: int
    unscored_frames: tuple[int, ...]

    def summary(self) -> dict:
        """The scalar metrics, JSON-able."""
        return {"preset": self.preset, "e3d": self.e3d, "mpjpe": self.mpjpe, "stress": self.stress,
                "reprojection": self.reprojection, "frames_scored": self.frames_scored,
                "unscored_frames": list(self.unscored_frames)}


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def reprojection_errors(S: np.ndarray, M: np.ndarray, W: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Per-frame `‖W_i − M_i S_i‖ / ‖W_i‖` over visible points, both sides centred.

    Args:
        S: (F, P, 3); M: (F, 2, 3); W: (F, P, 2); visible: (F, P).
    Returns:
        (F,) relative 2D errors (0 for a frame whose centred W is zero and is matched exactly).
    """
    W_c = center_masked(W, visible)
    residual = center_masked(project(S, M), visible) - W_c
    return np.sqrt(safe_ratio((residual ** 2).sum(axis=(1, 2)), (W_c ** 2).sum(axis=(1, 2))))


def _pair_distances(Y: np.ndarray, f: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(n, pairs) distances |Y[f, i] − Y[f, j]| for frames `f (n, 1)` and point pairs `i, j (pairs,)`."""
    difference = Y[f, i]
    difference -= Y[f, j]
    return np.sqrt(np.einsum("npk,npk->np", difference, difference))


def stress(X: np.ndarray, G: np.ndarray, weights: np.ndarray) -> float:
    """Mean |d_X(p, q) − d_G(p, q)| over the point pairs visible in both, over scored frames.

    Needs no alignment. Cost is bounded: with more than `STRESS_MAX_FRAMES` frames or `STRESS_MAX_PAIRS`
    pairs per frame, a fixed sample (seed 0, depending only on F and P) of that many frames / pairs is used.

    Args:
        X, G: (F, P, 3) prediction and ground truth (finite); weights: (F, P) bool, points to compare.
    """
    F, P = weights.shape
    rng = np.random.default_rng(0)
    frames = np.flatnonzero(weights.any(1))
    if frames.size > STRESS_MAX_FRAMES:
        frames = np.sort(rng.choice(frames, STRESS_MAX_FRAMES, replace=False))
    i, j = np.triu_indices(P, k=1)
    if i.size > STRESS_MAX_PAIRS:
        keep = np.sort(rng.choice(i.size, STRESS_MAX_PAIRS, replace=False))
        i, j = i[keep], j[keep]
    total, count = 0.0, 0
    chunk = max(1, STRESS_CHUNK_ENTRIES // max(i.size, 1))
    for start in range(0, frames.size, chunk):
        f = frames[start:start + chunk, None]
        both = weights[f, i] & weights[f, j]                                        # (n, pairs)
        total += float((np.abs(_pair_distances(X, f, i, j) - _pair_distances(G, f, i, j)) * both).sum())
        count += int(both.sum())
    return total / count if count else float("nan")


@dataclasses.dataclass(frozen=True)
class Alignment:
    """Predictions aligned to ground truth exactly as the evaluator scores them under one preset.

    Attributes:
        X: (F, P, 3) predictions before alignment (camera scale moved in when the preset says so).
        G: (F, P, 3) ground truth, zeros at hidden or non-finite points.
        visible: (F, P) points visible with finite ground truth.
        scored: (F,) frames with ≥ 3 such points and a non-zero ground truth.
        weights: (F, P) `visible` restricted to scored frames (the alignment's weights).
        X_aligned, G_compared: (F, P, 3) the outputs of `procrustes.align` with the preset's options.
    """

    X: np.ndarray
    G: np.ndarray
    visible: np.ndarray
    scored: np.ndarray
    weights: np.ndarray
    X_aligned: np.ndarray
    G_compared: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Inputs:
    """Validated evaluator inputs shared by every preset: X (F, P, 3), X scaled by the cameras' σ₁, G with
    zeros where not visible, visible / weights (F, P), scored (F,), the ground-truth norms (F,), the
    ground truth centred over all its defined points (F, P, 3), and the predicted and ground-truth cameras
    (F, 2, 3) or None."""

    X: np.ndarray
    X_scaled: np.ndarray
    G: np.ndarray
    visible: np.ndarray
    scored: np.ndarray
    weights: np.ndarray
    gt_norm: np.ndarray
    G_centred: np.ndarray
    M_pred: np.ndarray | None = None
    M_gt: np.ndarray | None = None

    @classmethod
    def prepare(cls, S_pred, S_gt, visible, M_pred, M_gt=None) -> "_Inputs":
        X = np.asarray(S_pred, dtype=np.float64)
        G = np.asarray(S_gt, dtype=np.float64)
        if X.shape != G.shape or X.ndim != 3 or X.shape[-1] != 3:
            raise ValueError(f"S_pred {X.shape} and S_gt {G.shape} must both be (F, P, 3)")
        visible = np.ones(X.shape[:2], bool) if visible is None else np.asarray(visible, bool)
        defined = np.isfinite(G).all(-1)
        visible = visible & defined
        # Centring the ground truth ("centre G per frame") uses every point where it is defined, hidden ones
        # too: centring over the visible subset alone would shift G away from a correct, centred prediction.
        G_centred = center_masked(np.where(defined[..., None], G, 0.0), defined)
        if not visible.all():
            G = np.where(visible[..., None], G, 0.0)
            G_centred = np.where(visible[..., None], G_centred, 0.0)
        X_scaled = X if M_pred is None else X * camera_scale(np.asarray(M_pred, dtype=np.float64))[:, None, None]
        gt_norm = np.sqrt(np.square(G).sum(axis=(1, 2)))
        scored = (visible.sum(1) >= MIN_VISIBLE_POINTS) & (gt_norm > 0)
        as_array = lambda M: None if M is None else np.asarray(M, dtype=np.float64)  # noqa: E731
        return cls(X, X_scaled, G, visible, scored, visible & scored[:, None], gt_norm, G_centred,
                   as_array(M_pred), as_array(M_gt))

    def align(self, preset: Preset) -> Alignment:
        X = self.X_scaled if preset.camera_scale else self.X
        options = preset.alignment_options()
        G = self.G
        if options["center"] == "ground_truth":
            G, options["center"] = self.G_centred, "none"
        if preset.camera_frame:
            X, G = in_camera_frame(X, self.M_pred), in_camera_frame(G, self.M_gt)
        X_aligned, G_compared = align(X, G, self.weights, **options)
        return Alignment(X, G, self.visible, self.scored, self.weights, X_aligned, G_compared)


def in_camera_frame(S: np.ndarray, M: np.ndarray | None) -> np.ndarray:
    """Shapes (F, P, 3) in camera coordinates `S Rᵀ` with R the rotation completing the camera M (F, 2, 3) with
    orthonormalised rows; unchanged when M is None (the shapes are taken as already in the camera frame)."""
    if M is None:
        return S
    return S @ complete_rotation(orthonormalize_camera(M)).swapaxes(1, 2)


def align_to_ground_truth(S_pred: np.ndarray, S_gt: np.ndarray, visible: np.ndarray | None = None, *,
                          M_pred: np.ndarray | None = None, M_gt: np.ndarray | None = None,
                          preset: str | Preset = DEFAULT_PRESET) -> Alignment:
    """The preset's alignment of S_pred (F, P, 3) to S_gt (F, P, 3), as scored by `evaluate` (for figures)."""
    return _Inputs.prepare(S_pred, S_gt, visible, M_pred, M_gt).align(get_preset(preset))


def evaluate(S_pred: np.ndarray, S_gt: np.ndarray, visible: np.ndarray | None = None, *,
             M_pred: np.ndarray | None = None, W: np.ndarray | None = None, M_gt: np.ndarray | None = None,
             preset: str | Preset = DEFAULT_PRESET) -> Evaluation:
    """Score predicted shapes against ground truth under one preset.

    Args:
        S_pred: (F, P, 3) predicted shapes.
        S_gt: (F, P, 3) ground truth (may be non-finite at hidden points).
        visible: (F, P) mask of points to score; all when None.
        M_pred: optional (F, 2, 3) predicted cameras (camera-scale step, camera-frame presets, reprojection).
        W: optional (F, P, 2) observations (for the reprojection error).
        M_gt: optional (F, 2, 3) ground-truth cameras (camera-frame presets; without them S_gt is taken as
            already in the camera frame).
        preset: a preset name (`dnrsfm`, `camera_zflip`, `akhter`) or a custom `Preset`.
    Returns:
        An Evaluation.
    """
    preset = get_preset(preset)
    return evaluate_presets(S_pred, S_gt, visible, M_pred=M_pred, W=W, M_gt=M_gt, presets=(preset,))[preset.name]


def evaluate_presets(S_pred: np.ndarray, S_gt: np.ndarray, visible: np.ndarray | None = None, *,
                     M_pred: np.ndarray | None = None, W: np.ndarray | None = None,
                     M_gt: np.ndarray | None = None,
                     presets: Iterable[str | Preset] = tuple(PRESETS)) -> dict[str, Evaluation]:
    """`evaluate` under several presets, sharing the preset-independent work (stress, reprojection).

    Returns:
        {preset name: Evaluation}.
    """
    inputs = _Inputs.prepare(S_pred, S_gt, visible, M_pred, M_gt)
    scored, weights = inputs.scored, inputs.weights
    frames = np.flatnonzero(scored)
    shared = dict(stress=stress(inputs.X_scaled, inputs.G, weights), reprojection=None,
                  frames_scored=int(frames.size), unscored_frames=tuple(int(f) for f in np.flatnonzero(~scored)))
    if M_pred is not None and W is not None:
        shared["reprojection"] = _mean(reprojection_errors(inputs.X, np.asarray(M_pred, float),
                                                           np.asarray(W, float), inputs.visible)[frames])
    results = {}
    for preset in map(get_preset, presets):
        aligned = inputs.align(preset)
        difference = aligned.X_aligned - aligned.G_compared
        del aligned  # frees this preset's shapes before the next preset aligns (peak memory at large F·P)
        point_error = np.sqrt(np.square(difference, out=difference).sum(-1)) * weights  # (F, P)
        del difference
        mean_point_error = point_error.sum(1) / np.maximum(weights.sum(1), 1)
        if preset.error == "relative_frobenius":
            per_frame = np.sqrt(np.square(point_error).sum(1)) / np.where(scored, inputs.gt_norm, 1.0)
        else:  # Akhter: mean point distance in units of the mean per-coordinate std of the ground truth
            per_frame = mean_point_error / _akhter_unit(inputs.G, weights)
        per_frame = np.where(scored, per_frame, np.nan)
        results[preset.name] = Evaluation(preset=preset.name, e3d=_mean(per_frame[frames]), e3d_per_frame=per_frame,
                                          mpjpe=_mean(mean_point_error[frames]), **shared)
    return results


def _akhter_unit(G: np.ndarray, weights: np.ndarray) -> float:
    """Akhter's `s = mean(std(S, 1, 2))`: the mean over all 3F coordinate rows of the (population) standard
    deviation of that row across the visible points."""
    w = weights[..., None].astype(np.float64)
    n = np.maximum(w.sum(1, keepdims=True), 1)
    mean = (w * G).sum(1, keepdims=True) / n
    std = np.sqrt((w * (G - mean) ** 2).sum(1) / n[:, 0])  # (F, 3)
    rows = weights.any(1)
    return float(std[rows].mean()) if rows.any() else 1.0
