"""Seeded perturbations of 2D observations: Gaussian noise at a given ratio, points hidden at random or in
occlusion-like blocks, training on a fraction of the training frames."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from nrsfm_bench.sequence import Sequence


def _frobenius(a: np.ndarray) -> float:
    """‖a‖_F by NumPy's own pairwise sum: the same bits whatever the BLAS thread count (np.linalg.norm of a
    flattened array calls BLAS, whose threaded reductions round differently with 1 or 2 threads)."""
    return float(np.sqrt(np.square(a).sum()))


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
    scale = ratio * _frobenius(W * mask) / max(_frobenius(noise), np.finfo(float).tiny)
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


def _point_order(anchor: int, W_block: np.ndarray, visible_block: np.ndarray, hops: np.ndarray | None
                 ) -> np.ndarray:
    """All points ordered by closeness to `anchor`: skeleton hops first (when known), then 2D distance.

    Args:
        anchor: the point the block grows from.
        W_block: (L, P, 2) observations of the block's frames; visible_block: (L, P).
        hops: (P,) skeleton hop counts from the anchor (inf when unreachable), or None without a skeleton.
    Returns:
        (P,) point indices, the anchor first.
    """
    counts = visible_block.sum(0)
    mean = (W_block * visible_block[..., None]).sum(0) / np.maximum(counts, 1)[:, None]  # (P, 2)
    distance = np.where(counts > 0, np.linalg.norm(mean - mean[anchor], axis=-1), np.inf)
    distance[anchor] = -1.0
    primary = np.zeros_like(distance) if hops is None else hops
    return np.lexsort((distance, primary))


def _random_visible_entry(visible: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """A (frame, point) drawn uniformly among the visible entries (rejection first, exact list if that stalls)."""
    for _ in range(32):
        flat = int(rng.integers(visible.size))
        if visible.flat[flat]:
            return divmod(flat, visible.shape[1])
    flat = int(rng.choice(np.flatnonzero(visible)))
    return divmod(flat, visible.shape[1])


def hide_blocks(W: np.ndarray, visible: np.ndarray, fraction: float, block_frames: int, block_points: int,
                rng: np.random.Generator, edges: np.ndarray | None = None) -> np.ndarray:
    """Hide a `fraction` of the visible entries in occlusion-like blocks of consecutive frames × neighbouring points.

    Each block grows from a visible (frame, point) entry drawn uniformly at random: `block_frames` consecutive
    frames containing that frame, and the `block_points` points closest to that point — along the skeleton
    (fewest edges) when `edges` are given, ties and skeleton-less data by 2D distance over the block's frames.
    Blocks are added until exactly `round(fraction · visible)` entries are hidden (the last block is cut short,
    frame by frame). "Consecutive" follows the sequence's frame order, which is temporal on ordered data.

    Args:
        W: (F, P, 2) observations; visible: (F, P) mask; fraction: in [0, 1).
        block_frames, block_points: block size (clipped to F and P).
        rng: the random generator; edges: optional (E, 2) skeleton point pairs.
    Returns:
        (F, P) new visibility mask.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"occlusion fraction must be in [0, 1), got {fraction}")
    if block_frames < 1 or block_points < 1:
        raise ValueError(f"occlusion blocks need ≥ 1 frame and ≥ 1 point, got {block_frames} × {block_points}")
    visible = visible.copy()
    F, P = visible.shape
    L, K = min(block_frames, F), min(block_points, P)
    need = int(round(fraction * visible.sum()))
    graph = None
    if edges is not None and len(edges):
        from scipy.sparse import coo_matrix

        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(P, P)).tocsr()
    hop_cache: dict[int, np.ndarray] = {}
    while need > 0:
        f, p = _random_visible_entry(visible, rng)
        start = int(rng.integers(max(0, f - L + 1), min(f, F - L) + 1))
        if graph is not None and p not in hop_cache:
            from scipy.sparse.csgraph import shortest_path

            hop_cache[p] = shortest_path(graph, directed=False, unweighted=True, indices=p)
        window = slice(start, start + L)
        points = _point_order(p, W[window], visible[window], hop_cache.get(p))[:K]
        frame, point = np.nonzero(visible[window][:, points])  # frame-major: cutting the tail shortens the block
        take = min(need, frame.size)
        visible[start + frame[:take], points[point[:take]]] = False
        need -= take
    return visible


@dataclasses.dataclass(frozen=True)
class Perturbation:
    """A seeded perturbation of a dataset, recorded with (and hashed into) every run it applies to.

    Attributes:
        noise: Gaussian noise ratio ‖noise‖_F / ‖W‖_F added to the observations.
        missing: fraction of visible observations hidden uniformly at random.
        occlusion: fraction of (the remaining) visible observations hidden in occlusion-like blocks of
            `occlusion_frames` consecutive frames × `occlusion_points` neighbouring points (see `hide_blocks`).
        train_fraction: inductive methods train on this fraction of the training frames (chosen at random)
            and are evaluated on all frames.
        seed: the seed of the perturbation's random choices (the run's seed by default).
    """

    noise: float = 0.0
    missing: float = 0.0
    train_fraction: float = 1.0
    seed: int | None = None
    occlusion: float = 0.0
    occlusion_frames: int = 10
    occlusion_points: int = 4

    def __post_init__(self) -> None:
        if self.noise < 0 or not 0 <= self.missing < 1 or not 0 < self.train_fraction <= 1:
            raise ValueError("perturbation needs noise ≥ 0, 0 ≤ missing < 1 and 0 < train_fraction ≤ 1")
        if not 0 <= self.occlusion < 1:
            raise ValueError(f"perturbation needs 0 ≤ occlusion < 1, got {self.occlusion}")
        if self.occlusion_frames < 1 or self.occlusion_points < 1:
            raise ValueError("perturbation needs occlusion_frames ≥ 1 and occlusion_points ≥ 1")

    @property
    def is_identity(self) -> bool:
        return self.noise == 0 and self.missing == 0 and self.occlusion == 0 and self.train_fraction == 1

    def to_dict(self) -> dict:
        """The non-default fields only, so unperturbed runs keep a stable configuration hash; with occlusion
        the block size is always written, so the record says how big the blocks were."""
        defaults = Perturbation()
        block = ("occlusion_frames", "occlusion_points")
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in block and getattr(self, f.name) != getattr(defaults, f.name)}
        if self.occlusion:
            data.update({name: getattr(self, name) for name in block})
        return data

    def label(self) -> str:
        """A short human-readable form: "noise=0.05, occlusion=0.1 (10×4 blocks)"; "" for no perturbation."""
        data = self.to_dict()
        parts = [f"{k}={v}" for k, v in data.items() if not k.startswith("occlusion")]
        if self.occlusion:
            parts.append(f"occlusion={self.occlusion} ({self.occlusion_frames}×{self.occlusion_points} blocks)")
        return ", ".join(parts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Perturbation":
        """The perturbation a record's `perturbation` field (or a sweep's level) describes.

        Raises:
            ValueError: naming unknown fields or values out of range.
        """
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown perturbation field(s) {', '.join(unknown)}; expected noise, missing, "
                             "occlusion, occlusion_frames, occlusion_points, train_fraction, seed")
        return cls(**data)

    def apply(self, seq: Sequence, seed: int) -> Sequence:
        """The sequence with points hidden (at random, then in blocks) and noise added; ground truth untouched."""
        if self.noise == 0 and self.missing == 0 and self.occlusion == 0:
            return seq
        seed = seed if self.seed is None else self.seed
        noise_rng, missing_rng = np.random.default_rng([seed, 7]).spawn(2)
        visible = hide_at_random(seq.visible, self.missing, missing_rng) if self.missing else seq.visible
        if self.occlusion:
            visible = hide_blocks(seq.W, visible, self.occlusion, self.occlusion_frames, self.occlusion_points,
                                  np.random.default_rng([seed, 13]), seq.edges)
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
