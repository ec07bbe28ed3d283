"""Seeded perturbations of 2D observations: Gaussian noise at a given ratio, points hidden at random."""
from __future__ import annotations

import numpy as np


def add_noise(W: np.ndarray, visible: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Add i.i.d. Gaussian noise scaled so that `‖noise‖_F / ‖W‖_F = ratio` over visible points.

    This is the noise definition of PR-RRN's Fig. 4.

    Args:
        W: (F, P, 2) observations; visible: (F, P) mask; ratio: ≥ 0.
    Returns:
        (F, P, 2) noisy observations (hidden entries unchanged).
    """
    if ratio < 0:
        raise ValueError(f"noise ratio must be ≥ 0, got {ratio}")
    if ratio == 0:
        return W
    mask = visible[..., None]
    noise = rng.standard_normal(W.shape) * mask
    scale = ratio * np.linalg.norm(W * mask) / max(np.linalg.norm(noise), np.finfo(float).tiny)
    return W + scale * noise


def hide_at_random(visible: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Hide a `fraction` of the currently visible (frame, point) entries, chosen uniformly at random.

    Returns:
        (F, P) new visibility mask.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"missing fraction must be in [0, 1), got {fraction}")
    visible = visible.copy()
    candidates = np.flatnonzero(visible)
    hidden = rng.choice(candidates, size=int(round(fraction * candidates.size)), replace=False)
    visible.flat[hidden] = False
    return visible
