"""Shared NRSfM geometry: centring, rotations, orthographic cameras, 6D rotations.

Every function is batched over leading dimensions and works on NumPy arrays and, where it makes sense for
training, on torch tensors (torch is imported only when a tensor is passed). Shapes are frame-first:
points `(..., P, 3)`, 2D points `(..., P, 2)`, cameras `(..., 2, 3)`, rotations `(..., 3, 3)`.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _namespace(x: Any):
    """The array module of `x`: `torch` for a tensor, `numpy` otherwise (both offer stack, concatenate,
    linalg.svd and linalg.cross with the same meaning)."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _unit(v):
    """`v` divided by its norm over the last axis."""
    return v / ((v * v).sum(axis=-1, keepdims=True)) ** 0.5


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise (NumPy), 0 where den is 0: degenerate inputs give 0, never NaN or inf."""
    num = np.asarray(num, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=np.asarray(den) > 0)


def center_masked(X, visible=None):
    """Subtract from each frame the mean of its visible points; hidden points become 0.

    Args:
        X: (..., P, D) points.
        visible: optional (..., P) bool mask; all points when None.
    Returns:
        (..., P, D) centred points.
    """
    if visible is None:
        return X - X.mean(axis=-2, keepdims=True)
    weights = visible[..., None] * 1.0
    count = weights.sum(axis=-2, keepdims=True)
    count = count + (count == 0)  # a frame with no visible point stays at 0
    mean = (X * weights).sum(axis=-2, keepdims=True) / count
    if isinstance(X, np.ndarray):  # in place: one full-size temporary fewer (the evaluator's peak memory)
        centred = X - mean
        centred *= weights
        return centred
    return (X - mean) * weights


def random_rotations(n: int, rng: np.random.Generator | int | None) -> np.ndarray:
    """`n` rotation matrices drawn uniformly (Haar measure) from SO(3).

    Uses the unit-quaternion method: a normalised 4D Gaussian is uniform on S³, which double-covers SO(3).

    Returns:
        (n, 3, 3) float64 rotations with determinant +1.
    """
    rng = np.random.default_rng(rng)
    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def cameras_from_rotations(R):
    """Orthographic cameras from rotations: the first two rows.

    Args:
        R: (..., 3, 3) rotations.
    Returns:
        (..., 2, 3) cameras with orthonormal rows.
    """
    return R[..., :2, :]


def project(S, M):
    """Orthographic projection `W_i = M_i S_i` in frame-first layout.

    Args:
        S: (..., P, 3) shapes.
        M: (..., 2, 3) cameras.
    Returns:
        (..., P, 2) projected points (`S @ Mᵀ`).
    """
    return S @ M.swapaxes(-1, -2)


def camera_scale(M: np.ndarray) -> np.ndarray:
    """Largest singular value of each 2×3 camera, in closed form (largest eigenvalue of the 2×2 `M Mᵀ`).

    Args:
        M: (..., 2, 3) NumPy cameras.
    Returns:
        (...,) spectral norms (1 for cameras with orthonormal rows).
    """
    a = (M[..., 0, :] ** 2).sum(-1)
    b = (M[..., 0, :] * M[..., 1, :]).sum(-1)
    d = (M[..., 1, :] ** 2).sum(-1)
    return np.sqrt((a + d) / 2 + np.sqrt(((a - d) / 2) ** 2 + b ** 2))


def orthonormalize_camera(M_tilde):
    """The nearest matrix with orthonormal rows (`M Mᵀ = I₂`) by SVD: `M = U Vᵀ` where `M̃ = U Σ Vᵀ`.

    Args:
        M_tilde: (..., 2, 3) unconstrained cameras.
    Returns:
        (..., 2, 3) cameras with orthonormal rows.
    """
    U, _, Vh = _namespace(M_tilde).linalg.svd(M_tilde, full_matrices=False)
    return U @ Vh


def camera_from_6d(x):
    """PR-RRN's camera head: a 6D output reshaped to `M̃` (2×3) and orthonormalised by SVD (paper eq. 6).

    Args:
        x: (..., 6) network outputs.
    Returns:
        (..., 2, 3) cameras with orthonormal rows.
    """
    return orthonormalize_camera(x.reshape(*x.shape[:-1], 2, 3))


def rotation_from_6d(x):
    """Zhou et al.'s continuous 6D rotation representation, mapped to SO(3) by Gram–Schmidt.

    Args:
        x: (..., 6): the first two rows of a rotation, possibly unnormalised.
    Returns:
        (..., 3, 3) rotations with determinant +1.
    """
    xp = _namespace(x)
    a, b = x[..., 0:3], x[..., 3:6]
    r1 = _unit(a)
    r2 = _unit(b - (r1 * b).sum(axis=-1, keepdims=True) * r1)
    return xp.stack([r1, r2, xp.linalg.cross(r1, r2)], -2)


def rotation_to_6d(R):
    """The 6D representation of rotations or cameras: their first two rows, flattened.

    Args:
        R: (..., 3, 3) rotations or (..., 2, 3) cameras.
    Returns:
        (..., 6).
    """
    return R[..., :2, :].reshape(*R.shape[:-2], 6)


def complete_rotation(M):
    """The rotation whose first two rows are the camera `M` (third row `m1 × m2`).

    Args:
        M: (..., 2, 3) cameras with orthonormal rows.
    Returns:
        (..., 3, 3) rotations.
    """
    xp = _namespace(M)
    r3 = xp.linalg.cross(M[..., 0, :], M[..., 1, :])
    return xp.concatenate([M, r3[..., None, :]], -2)
