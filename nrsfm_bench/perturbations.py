"""Seeded perturbations of 2D observations: Gaussian noise at a given ratio, points hidden at random,
training on a fraction of the training frames."""
from __future__ import annotations

import dataclasses

import numpy as np

from nrsfm_bench.sequence import Sequence


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


@dataclasses.dataclass(frozen=True)
class Perturbation:
    """A seeded perturbation of a dataset, recorded with (and hashed into) every run it applies to.

    Attributes:
        noise: Gaussian noise ratio ‖noise‖_F / ‖W‖_F added to the observations.
        missing: fraction of visible observations hidden uniformly at random.
        train_fraction: inductive methods train on this fraction of the training frames (chosen at random)
            and are evaluated on all frames.
        seed: the seed of the perturbation's random choices (the run's seed by default).
    """

    noise: float = 0.0
    missing: float = 0.0
    train_fraction: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.noise < 0 or not 0 <= self.missing < 1 or not 0 < self.train_fraction <= 1:
            raise ValueError("perturbation needs noise ≥ 0, 0 ≤ missing < 1 and 0 < train_fraction ≤ 1")

    @property
    def is_identity(self) -> bool:
        return self.noise == 0 and self.missing == 0 and self.train_fraction == 1

    def to_dict(self) -> dict:
        """The non-default fields only, so unperturbed runs keep a stable configuration hash."""
        defaults = Perturbation()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(defaults, f.name)}

    def apply(self, seq: Sequence, seed: int) -> Sequence:
        """The sequence with noise added and points hidden (observations only; ground truth untouched)."""
        if self.noise == 0 and self.missing == 0:
            return seq
        noise_rng, missing_rng = np.random.default_rng([seed if self.seed is None else self.seed, 7]).spawn(2)
        visible = hide_at_random(seq.visible, self.missing, missing_rng) if self.missing else seq.visible
        W = add_noise(seq.W, visible, self.noise, noise_rng)
        meta = {**seq.meta, "perturbation": self.to_dict()}
        return seq.replace(W=W, visible=visible, meta=meta)

    def training_frames(self, frames: np.ndarray, seed: int) -> np.ndarray:
        """A sorted random subset of `frames` of size ⌈train_fraction · len⌉ (all when the fraction is 1)."""
        if self.train_fraction == 1:
            return frames
        rng = np.random.default_rng([seed if self.seed is None else self.seed, 11])
        count = max(1, int(np.ceil(self.train_fraction * frames.size)))
        return np.sort(rng.choice(frames, size=count, replace=False))
