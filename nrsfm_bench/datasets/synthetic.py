"""Built-in synthetic data (no files): a low-rank shape basis and an articulated stick figure."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nrsfm_bench.datasets import sheet, stick_figure
from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.datasets.projection import random_orthographic_views, smooth_orbit_cameras
from nrsfm_bench.geometry import center_masked, project
from nrsfm_bench.perturbations import add_noise, hide_at_random
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

KINDS = ("lowrank", "articulated", "sheet")
DEFAULT_POINTS = {"lowrank": 31, "sheet": 5000}


def lowrank_shapes(frames: int, points: int, K: int, deformation: float, rng: np.random.Generator) -> np.ndarray:
    """Shapes in a rank-K basis: `S_i = B_1 + Σ_{k≥2} c_ik B_k`, coefficients smooth in time.

    Bases are i.i.d. Gaussian (P, 3); each coefficient is a sum of three random-phase sinusoids with
    standard deviation `deformation`, so consecutive frames are close (temporal methods can use the order).

    Returns:
        (F, P, 3) shapes, centred per frame; `W` built from them has rank ≤ 3K.
    """
    basis = rng.standard_normal((K, points, 3))
    t = np.arange(frames)[:, None, None]
    periods = rng.uniform(frames / 8, frames / 2, size=(1, K - 1, 3)) if K > 1 else np.ones((1, 0, 3))
    phases = rng.uniform(0, 2 * np.pi, size=periods.shape)
    coefficients = np.sin(2 * np.pi * t / periods + phases).sum(-1) * deformation * np.sqrt(2 / 3)
    coefficients = np.concatenate([np.ones((frames, 1)), coefficients], axis=1)
    return center_masked(np.einsum("fk,kpd->fpd", coefficients, basis))


@register_dataset("synthetic", variant_param="kind", variants=KINDS[1:])
class Synthetic(Dataset):
    """Built-in synthetic sequences: low-rank shapes (default), a walking stick figure (`synthetic/articulated`)
    or a dense folding sheet (`synthetic/sheet`, 5000 points by default)."""

    builtin = True
    source = "built in (generated from the seed; no files)"
    test_parameters = {"frames": 60}

    def __init__(self, *, kind: str = "lowrank", frames: int = 500, points: int | None = None, K: int = 3,
                 rigid: bool = False, deformation: float = 0.5, noise: float = 0.0, missing: float = 0.0,
                 cameras: str = "random", test_fraction: float = 0.0, seed: int = 0):
        """
        Args:
            kind: "lowrank" (random rank-K basis), "articulated" (17-joint walking figure) or "sheet" (a dense
                cloth-like grid with travelling waves and a moving fold).
            frames: number of frames F.
            points: number of points P (lowrank: default 31, like the CMU skeleton; sheet: default 5000, a 50 × 100
                grid; not settable for articulated).
            K: basis rank of the lowrank kind (W has rank ≤ 3K).
            rigid: one rigid shape in every frame (lowrank with K = 1).
            deformation: standard deviation of the non-rigid basis coefficients (lowrank).
            noise: ratio ‖noise‖_F / ‖W‖_F of Gaussian noise added to W.
            missing: fraction of (frame, point) observations hidden at random.
            cameras: "random" (independent uniformly random rotation per frame, the paper's protocol) or
                "orbit" (a smooth circle around the object).
            test_fraction: the last fraction of frames labelled "test" (0 = no split).
            seed: the seed of every random choice.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if kind == "articulated" and points is not None:
            raise ValueError(f"the articulated figure has {len(stick_figure.JOINTS)} joints; points cannot be set")
        if cameras not in ("random", "orbit"):
            raise ValueError(f"cameras must be 'random' or 'orbit', got {cameras!r}")
        if frames < 2 or (points is not None and points < 4) or K < 1:
            raise ValueError("need frames ≥ 2, points ≥ 4 and K ≥ 1")
        if not 0 <= test_fraction < 1:
            raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
        self.kind, self.frames, self.points, self.K, self.rigid = kind, frames, points, K, rigid
        self.deformation, self.noise, self.missing, self.cameras = deformation, noise, missing, cameras
        self.test_fraction, self.seed = test_fraction, seed

    def load(self, root: Path | None = None) -> Sequence:
        rng = np.random.default_rng(self.seed)
        shape_rng, camera_rng, noise_rng, missing_rng = rng.spawn(4)
        if self.kind == "lowrank":
            K = 1 if self.rigid else self.K
            S = lowrank_shapes(self.frames, self.points or DEFAULT_POINTS["lowrank"], K, self.deformation, shape_rng)
            names, edges, meta = None, None, {"units": "arbitrary", "rank_of_W": 3 * K}
        elif self.kind == "sheet":
            points = self.points or DEFAULT_POINTS["sheet"]
            S = sheet.animate(self.frames, points, shape_rng)
            names, edges, meta = None, sheet.grid_edges(points), {"units": "sheet widths / 2",
                                                                "grid": list(sheet.grid_shape(points))}
        else:
            S = stick_figure.animate(self.frames, shape_rng)
            names, edges, meta = stick_figure.NAMES, stick_figure.EDGES, {"units": "m"}
        if self.cameras == "random":
            W, S, M = random_orthographic_views(S, camera_rng)
        else:
            S = center_masked(S)
            M = smooth_orbit_cameras(self.frames, camera_rng)
            W = project(S, M)
        visible = hide_at_random(np.ones(W.shape[:2], bool), self.missing, missing_rng)
        W = add_noise(W, visible, self.noise, noise_rng)
        split = None
        if self.test_fraction > 0:
            split = np.where(np.arange(self.frames) < round(self.frames * (1 - self.test_fraction)), "train", "test")
        name = "synthetic" if self.kind == "lowrank" else f"synthetic/{self.kind}"
        meta.update(source="synthetic", cameras=self.cameras)
        return Sequence(W=W, visible=visible, S_gt=S, M_gt=M, split=split, point_names=names, edges=edges,
                        name=name, ordered=True, meta=meta)
