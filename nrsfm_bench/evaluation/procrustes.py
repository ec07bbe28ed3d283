"""Batched, weighted Procrustes alignment of predicted shapes to ground truth, every choice explicit."""
from __future__ import annotations

from typing import Literal

import numpy as np

from nrsfm_bench.geometry import center_masked, safe_ratio

Scope = Literal["frame", "sequence", "none"]
Scale = Literal["none", "norm_ratio", "least_squares"]
Center = Literal["none", "both", "ground_truth"]
RotationFit = Literal["orthogonal", "lstsq_project"]

DEPTH_FLIP = np.array([1.0, 1.0, -1.0])


def nearest_orthogonal(A: np.ndarray, reflection: bool) -> np.ndarray:
    """The orthogonal matrix nearest to A in Frobenius norm, `U Vᵀ`, optionally restricted to det = +1.

    Args:
        A: (..., 3, 3).
        reflection: allow det = −1 (no determinant fix).
    Returns:
        (..., 3, 3) orthogonal matrices.
    """
    U, _, Vh = np.linalg.svd(A)
    if not reflection:
        d = np.sign(np.linalg.det(U @ Vh))
        U = U * np.concatenate([np.ones(d.shape + (2,)), d[..., None]], -1)[..., None, :]
    return U @ Vh


def fit_rotation(X: np.ndarray, G: np.ndarray, w: np.ndarray, scope: Scope, reflection: bool,
                 rotation_fit: RotationFit) -> np.ndarray:
    """The rotation R (applied as `X @ R`) that best maps X onto G.

    Args:
        X, G: (F, P, 3); w: (F, P) weights.
        scope: "frame" gives one R per frame, "sequence" one R for all frames.
        rotation_fit: "orthogonal" solves orthogonal Procrustes (SVD of `Xᵀ G`); "lstsq_project" (Akhter's
            `findRotation`) solves unconstrained least squares then projects to the nearest orthogonal matrix.
    Returns:
        (F, 3, 3) for scope "frame", (3, 3) for "sequence".
    """
    Xw = X if w.all() else X * w[..., None]
    cross = Xw.swapaxes(1, 2) @ G  # Σ_p w X_pᵀ G_p, (F, 3, 3)
    if scope == "frame":
        if rotation_fit != "orthogonal":
            raise ValueError("per-frame alignment uses rotation_fit='orthogonal'")
        return nearest_orthogonal(cross, reflection)
    cross = cross.sum(0)
    if rotation_fit == "lstsq_project":
        gram = (Xw.swapaxes(1, 2) @ X).sum(0)  # Σ Xᵀ X
        # least squares R minimising Σ‖X_i R − G_i‖²: (Σ XᵀX) R = Σ XᵀG
        return nearest_orthogonal(np.linalg.lstsq(gram, cross, rcond=None)[0], reflection)
    return nearest_orthogonal(cross, reflection)


def fit_scale(X: np.ndarray, G: np.ndarray, w: np.ndarray, scope: Scope, scale: Scale) -> np.ndarray:
    """Scale factors for the (already rotated) X: (F, 1, 1) per frame, or a (1, 1, 1) for the sequence."""
    axes = (1, 2) if scope == "frame" else (0, 1, 2)
    if scale == "none":
        return np.ones((X.shape[0] if scope == "frame" else 1, 1, 1))
    wx = w[..., None]
    xx = (wx * X * X).sum(axis=axes, keepdims=True)
    if scale == "norm_ratio":
        return np.sqrt(safe_ratio((wx * G * G).sum(axis=axes, keepdims=True), xx))
    if scale == "least_squares":
        return safe_ratio((wx * X * G).sum(axis=axes, keepdims=True), xx)
    raise ValueError(f"unknown scale {scale!r}")


#: frames per chunk of the per-frame sums below (bounds their temporaries)
CHUNK_FRAMES = 256


def _weighted_sse(Y: np.ndarray, G: np.ndarray, w: np.ndarray, factor: np.ndarray | float = 1.0) -> np.ndarray:
    """(F,) `Σ_p w_p ‖f ⊙ Y_p − G_p‖²` of (F, P, 3) arrays, (F, P) weights and a per-axis factor `f` (3,),
    in chunks of frames, so that the temporaries stay small whatever F."""
    out = np.empty(Y.shape[0])
    for start in range(0, Y.shape[0], CHUNK_FRAMES):
        part = slice(start, start + CHUNK_FRAMES)
        squared = Y[part] * factor - G[part] if np.ndim(factor) else Y[part] - G[part]
        np.square(squared, out=squared)
        squared *= w[part, :, None]
        out[part] = squared.sum(axis=(1, 2))
    return out


def align(X: np.ndarray, G: np.ndarray, weights: np.ndarray | None = None, *, scope: Scope = "frame",
          reflection: bool = True, scale: Scale = "norm_ratio", center: Center = "none",
          rotation_fit: RotationFit = "orthogonal", depth_flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Align predictions X to ground truth G.

    Args:
        X: (F, P, 3) predicted shapes.
        G: (F, P, 3) ground truth (values at zero-weight points are ignored).
        weights: (F, P) 0/1 visibility weights; all ones when None.
        scope: "frame" (one similarity per frame), "sequence" (one for all frames) or "none" (no rotation:
            shapes are compared in the camera frame).
        reflection: allow an improper rotation (det = −1).
        scale: "none", "norm_ratio" (‖G‖/‖X‖) or "least_squares" (⟨XR, G⟩/‖X‖²).
        center: "none", "both" (centre X and G per frame over weighted points) or "ground_truth" (G only).
        rotation_fit: see `fit_rotation`.
        depth_flip: with scope "none", per frame keep X or X with z negated, whichever is closer to G.
    Returns:
        X_aligned: (F, P, 3), and G as compared (centred if asked, zeros at zero-weight points).
    """
    w = np.ones(X.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64)
    if not w.all():  # zero the ignored points once, so every sum below may run over all points
        G = np.where(w[..., None] > 0, G, 0.0)
        X = np.where(w[..., None] > 0, X, 0.0)
    if center in ("both", "ground_truth"):
        G = center_masked(G, w > 0)
    if center == "both":
        X = center_masked(X, w > 0)
    if scope == "none":
        if depth_flip:
            flip = _weighted_sse(X, G, w, DEPTH_FLIP) < _weighted_sse(X, G, w)               # (F,)
            X = X * np.where(flip[:, None, None], DEPTH_FLIP, 1.0)  # z negated where flipped, else unchanged
        return X * fit_scale(X, G, w, "frame", scale), G
    R = fit_rotation(X, G, w, scope, reflection, rotation_fit)
    X = X @ R
    return X * fit_scale(X, G, w, scope, scale), G
