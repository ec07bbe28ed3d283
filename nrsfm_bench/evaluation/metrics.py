"""The evaluator: e3D under a preset, per-point error, stress and 2D reprojection error."""
from __future__ import annotations

import dataclasses

import numpy as np

from nrsfm_bench.evaluation.presets import DEFAULT_PRESET, Preset, get_preset
from nrsfm_bench.evaluation.procrustes import align
from nrsfm_bench.geometry import center_masked, project, safe_ratio

MIN_VISIBLE_POINTS = 3
STRESS_MAX_PAIRS = 10_000
CHUNK_FRAMES = 8192


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Scores of one reconstruction under one preset.

    Attributes:
        preset: the preset's name.
        e3d: mean of `e3d_per_frame` over scored frames (paper eq. 19 under this preset).
        e3d_per_frame: (F,) per-frame errors, NaN for unscored frames.
        mpjpe: mean per-point Euclidean error after the preset's alignment, in the data's units.
        stress: mean absolute difference of pairwise point distances, prediction vs ground truth, data units
            (no alignment; camera scale moved into the shape when the preset says so).
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


def stress(X: np.ndarray, G: np.ndarray, visible: np.ndarray, frames: np.ndarray) -> float:
    """Mean |d_X(p, q) − d_G(p, q)| over visible point pairs of the given frames.

    With more than `STRESS_MAX_PAIRS` pairs per frame, a fixed (seed 0) sample of that many pairs is used.
    """
    P = X.shape[1]
    i, j = np.triu_indices(P, k=1)
    if i.size > STRESS_MAX_PAIRS:
        keep = np.sort(np.random.default_rng(0).choice(i.size, STRESS_MAX_PAIRS, replace=False))
        i, j = i[keep], j[keep]
    total, count = 0.0, 0
    for start in range(0, frames.size, CHUNK_FRAMES):
        f = frames[start:start + CHUNK_FRAMES]
        both = visible[f][:, i] & visible[f][:, j]
        d_X = np.linalg.norm(X[f][:, i] - X[f][:, j], axis=-1)
        d_G = np.linalg.norm(np.nan_to_num(G[f][:, i] - G[f][:, j]), axis=-1)
        total += float((np.abs(d_X - d_G) * both).sum())
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


def align_to_ground_truth(S_pred: np.ndarray, S_gt: np.ndarray, visible: np.ndarray | None = None, *,
                          M_pred: np.ndarray | None = None, preset: str | Preset = DEFAULT_PRESET) -> Alignment:
    """The preset's alignment of S_pred (F, P, 3) to S_gt (F, P, 3), used by `evaluate` and by figures."""
    preset = get_preset(preset)
    X = np.asarray(S_pred, dtype=np.float64)
    G = np.asarray(S_gt, dtype=np.float64)
    if X.shape != G.shape or X.ndim != 3 or X.shape[-1] != 3:
        raise ValueError(f"S_pred {X.shape} and S_gt {G.shape} must both be (F, P, 3)")
    visible = np.ones(X.shape[:2], bool) if visible is None else np.asarray(visible, bool)
    visible = visible & np.isfinite(G).all(-1)
    G = np.where(visible[..., None], G, 0.0)
    if preset.camera_scale and M_pred is not None:
        X = X * np.linalg.norm(M_pred, ord=2, axis=(1, 2))[:, None, None]
    gt_norm = np.sqrt((G ** 2).sum(axis=(1, 2)))
    scored = (visible.sum(1) >= MIN_VISIBLE_POINTS) & (gt_norm > 0)
    weights = visible & scored[:, None]
    X_aligned, G_compared = align(X, G, weights, **preset.alignment_options())
    return Alignment(X, G, visible, scored, weights, X_aligned, G_compared)


def evaluate(S_pred: np.ndarray, S_gt: np.ndarray, visible: np.ndarray | None = None, *,
             M_pred: np.ndarray | None = None, W: np.ndarray | None = None,
             preset: str | Preset = DEFAULT_PRESET) -> Evaluation:
    """Score predicted shapes against ground truth under one preset.

    Args:
        S_pred: (F, P, 3) predicted shapes.
        S_gt: (F, P, 3) ground truth (may be non-finite at hidden points).
        visible: (F, P) mask of points to score; all when None.
        M_pred: optional (F, 2, 3) predicted cameras (for the camera-scale step and the reprojection error).
        W: optional (F, P, 2) observations (for the reprojection error).
        preset: a preset name (`dnrsfm`, `camera_zflip`, `akhter`) or a custom `Preset`.
    Returns:
        An Evaluation.
    """
    preset = get_preset(preset)
    aligned = align_to_ground_truth(S_pred, S_gt, visible, M_pred=M_pred, preset=preset)
    X, G, scored, weights = aligned.X, aligned.G, aligned.scored, aligned.weights
    X_aligned, G_compared = aligned.X_aligned, aligned.G_compared
    gt_norm = np.sqrt((G ** 2).sum(axis=(1, 2)))
    visible = aligned.visible

    point_error = np.linalg.norm(X_aligned - G_compared, axis=-1) * weights  # (F, P)
    n_points = np.maximum(weights.sum(1), 1)
    if preset.error == "relative_frobenius":
        per_frame = np.sqrt((point_error ** 2).sum(1)) / np.where(scored, gt_norm, 1.0)
    else:  # Akhter: mean point distance in units of the mean per-coordinate std of the ground truth
        per_frame = (point_error.sum(1) / n_points) / _akhter_unit(G, weights)
    per_frame = np.where(scored, per_frame, np.nan)
    frames = np.flatnonzero(scored)

    reprojection = None
    if M_pred is not None and W is not None:
        reprojection = _mean(reprojection_errors(np.asarray(S_pred, float), np.asarray(M_pred, float),
                                                 np.asarray(W, float), visible)[frames])
    return Evaluation(
        preset=preset.name,
        e3d=_mean(per_frame[frames]),
        e3d_per_frame=per_frame,
        mpjpe=_mean((point_error.sum(1) / n_points)[frames]),
        stress=stress(X, G, weights, frames),
        reprojection=reprojection,
        frames_scored=int(frames.size),
        unscored_frames=tuple(int(f) for f in np.flatnonzero(~scored)),
    )


def _akhter_unit(G: np.ndarray, weights: np.ndarray) -> float:
    """Akhter's `s = mean(std(S, 1, 2))`: the mean over all 3F coordinate rows of the (population) standard
    deviation of that row across the visible points."""
    w = weights[..., None].astype(np.float64)
    n = np.maximum(w.sum(1, keepdims=True), 1)
    mean = (w * G).sum(1, keepdims=True) / n
    std = np.sqrt((w * (G - mean) ** 2).sum(1) / n[:, 0])  # (F, 3)
    rows = weights.any(1)
    return float(std[rows].mean()) if rows.any() else 1.0
