"""Camera protocols that turn 3D shapes into 2D observations (shared by every dataset that has only 3D)."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.geometry import cameras_from_rotations, center_masked, project, random_rotations


def random_orthographic_views(S: np.ndarray, rng: np.random.Generator | int | None,
                              visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre each shape and view it through an independent, uniformly random orthographic camera.

    This is the CMU MOCAP protocol of Deep NRSfM and PR-RRN ("random orthographic projections of the 3D
    shapes; shapes centred per frame"), also used for every 3D-only dataset.

    Args:
        S: (F, P, 3) shapes in world coordinates.
        rng: seed or generator for the cameras.
        visible: optional (F, P) mask; centring uses visible points only.
    Returns:
        W: (F, P, 2) observations, S_centred: (F, P, 3), M: (F, 2, 3) cameras with `W = S_centred Mᵀ`.
    """
    S_centred = center_masked(np.asarray(S, dtype=np.float64), visible)
    M = cameras_from_rotations(random_rotations(S.shape[0], rng))
    return project(S_centred, M), S_centred, M


def smooth_orbit_cameras(frames: int, rng: np.random.Generator | int | None, turns: float = 1.0) -> np.ndarray:
    """Cameras circling the object once per `frames / turns` frames at a random, fixed elevation.

    Returns:
        (F, 2, 3) cameras with orthonormal rows, smooth in time (for methods that need temporal order).
    """
    rng = np.random.default_rng(rng)
    elevation = rng.uniform(-0.5, 0.5)
    azimuth = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi * turns, frames, endpoint=False)
    ca, sa, ce, se = np.cos(azimuth), np.sin(azimuth), np.cos(elevation), np.sin(elevation)
    zeros = np.zeros_like(ca)
    R_azimuth = np.stack([np.stack([ca, zeros, sa], -1), np.stack([zeros, zeros + 1, zeros], -1),
                          np.stack([-sa, zeros, ca], -1)], -2)
    R_elevation = np.array([[1, 0, 0], [0, ce, -se], [0, se, ce]])
    return cameras_from_rotations(R_elevation @ R_azimuth)
