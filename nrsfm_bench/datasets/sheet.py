"""A dense, cloth-like deforming sheet: a grid of P points with travelling waves and a moving fold."""
from __future__ import annotations

import math

import numpy as np


def grid_shape(points: int) -> tuple[int, int]:
    """(rows, cols) of the sheet's grid: rows = ⌈√(P/2)⌉, cols = ⌈P/rows⌉ (P = 5000 gives 50 × 100)."""
    rows = max(2, math.ceil(math.sqrt(points / 2)))
    return rows, math.ceil(points / rows)


def grid_edges(points: int) -> np.ndarray:
    """(E, 2) horizontal and vertical neighbour pairs among the first `points` grid points (row-major)."""
    rows, cols = grid_shape(points)
    index = np.arange(rows * cols).reshape(rows, cols)
    pairs = np.concatenate([np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], 1),
                            np.stack([index[:-1].ravel(), index[1:].ravel()], 1)])
    return pairs[(pairs < points).all(1)]


def animate(frames: int, points: int, rng: np.random.Generator, waves: int = 3) -> np.ndarray:
    """Shapes of a 2 × 1 sheet (units: sheet widths) rippled by `waves` travelling waves and folded along a
    moving line; the fold makes the deformation genuinely non-linear (not exactly low-rank).

    Returns:
        (F, P, 3) points, row-major over the grid, not centred.
    """
    rows, cols = grid_shape(points)
    u, v = np.meshgrid(np.linspace(-1, 1, cols), np.linspace(-0.5, 0.5, rows))
    u, v = u.ravel()[:points], v.ravel()[:points]
    t = np.arange(frames)[:, None] / 30.0
    z = np.zeros((frames, points))
    for _ in range(waves):
        direction = rng.uniform(0, 2 * np.pi)
        k = rng.uniform(1.5, 4.0) * np.pi
        omega = rng.uniform(0.5, 2.0) * np.pi
        amplitude = rng.uniform(0.03, 0.08) * (1 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(3, 6)))
        z += amplitude * np.sin(k * (np.cos(direction) * u + np.sin(direction) * v) - omega * t
                                + rng.uniform(0, 2 * np.pi))
    # fold: points beyond a moving line x = c(t) rotate about it by angle θ(t) around the y axis
    c = 0.4 * np.sin(2 * np.pi * t / rng.uniform(4, 8))
    theta = 0.6 * np.sin(2 * np.pi * t / rng.uniform(3, 5) + rng.uniform(0, 2 * np.pi)) ** 2
    beyond = u[None, :] > c
    dx = u[None, :] - c
    x = np.where(beyond, c + dx * np.cos(theta) - z * np.sin(theta), u[None, :])
    z = np.where(beyond, dx * np.sin(theta) + z * np.cos(theta), z)
    return np.stack([x, np.broadcast_to(v, x.shape), z], -1)
