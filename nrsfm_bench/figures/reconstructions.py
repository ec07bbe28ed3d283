"""Pictures of reconstructions: ground truth and prediction overlaid after the preset's alignment, as still
frames (PNG) and as an animated GIF of the sequence; skeleton edges drawn where the dataset has them.

The store keeps each run's reconstruction (`arrays/<key>.npz`: S, M, evaluated frames); the ground truth is
reloaded from the dataset spec in the record, with the run's perturbation applied again (it is seeded), so the
visibility is exactly the one the run was scored with.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from nrsfm_bench.data_root import resolve_data_root
from nrsfm_bench.errors import NrsfmError
from nrsfm_bench.evaluation import align_to_ground_truth, get_preset
from nrsfm_bench.figures import new_figure, save
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.store import ResultsStore

TRUTH, PREDICTION = "#222222", "#d62728"


@dataclasses.dataclass(frozen=True)
class AlignedRun:
    """One stored run's reconstruction aligned to its ground truth.

    Attributes:
        record: the run record.
        frames: (F,) indices of the evaluated frames in the dataset.
        X: (F, P, 3) the prediction after the preset's alignment; G: (F, P, 3) the ground truth as compared.
        visible: (F, P) points scored; e3d: (F,) per-frame e3D under the preset (NaN when unscored).
        edges: (E, 2) skeleton point pairs, or None.
        preset: the preset's name.
    """

    record: dict
    frames: np.ndarray
    X: np.ndarray
    G: np.ndarray
    visible: np.ndarray
    e3d: np.ndarray
    edges: np.ndarray | None
    preset: str

    @property
    def title(self) -> str:
        return f"{self.record['method']['name']} on {self.record['dataset']['name']} (seed {self.record['seed']})"


def load_aligned(store: ResultsStore, record: dict, preset: str, data_root: str | None = None) -> AlignedRun:
    """Reload a run's ground truth and align its stored reconstruction under `preset`.

    Raises:
        NrsfmError: when the run kept no arrays, has no 3D ground truth, or the data no longer matches.
    """
    from nrsfm_bench.runner import build_dataset

    key = record["key"]
    arrays = store.load_arrays(key)
    if arrays is None:
        raise NrsfmError(f"run {key} ({record['method']['name']} on {record['dataset']['name']}) kept no "
                         f"reconstruction arrays in {store.root / 'arrays'}; run it again with --force")
    spec = record["dataset"]
    dataset, _ = build_dataset(spec["name"], spec["params"], record["seed"])
    stored_root = spec.get("data_root", {}).get("path")
    root, _ = resolve_data_root(data_root or stored_root)
    seq = Perturbation.from_dict(record.get("perturbation", {})).apply(dataset.load(root), record["seed"])
    frames = np.asarray(arrays["frames"])
    if seq.S_gt is None:
        raise NrsfmError(f"dataset '{spec['name']}' has no 3D ground truth: nothing to overlay")
    if frames.max(initial=-1) >= seq.F or arrays["S"].shape != (frames.size, seq.P, 3):
        raise NrsfmError(f"{store.arrays_path(key)}: reconstruction of shape {arrays['S'].shape} does not fit "
                         f"dataset '{spec['name']}' (F={seq.F}, P={seq.P}) as loaded now; has the data changed?")
    M = arrays.get("M")
    aligned = align_to_ground_truth(arrays["S"].astype(float), seq.S_gt[frames], seq.visible[frames],
                                    M_pred=None if M is None else M.astype(float), preset=preset)
    group = record["evaluation"].get(record["split"], {})
    per_frame = group.get("presets", {}).get(get_preset(preset).name, {}).get("per_frame")
    e3d = np.array([np.nan if v is None else v for v in per_frame], float) if per_frame else \
        np.full(frames.size, np.nan)
    return AlignedRun(record, frames, aligned.X_aligned, aligned.G_compared, aligned.weights, e3d, seq.edges,
                      get_preset(preset).name)


def default_frames(run: AlignedRun, count: int = 4) -> list[int]:
    """`count` evenly spaced positions among the scored frames."""
    scored = np.flatnonzero(run.visible.any(1))
    if scored.size == 0:
        raise NrsfmError(f"{run.title}: no scored frame to draw")
    return sorted({int(scored[i]) for i in np.linspace(0, scored.size - 1, min(count, scored.size)).round().astype(int)})


def _limits(run: AlignedRun, positions: list[int]) -> tuple[np.ndarray, float]:
    """A common centre and half-width for the drawn frames (equal aspect on all three axes)."""
    points = np.concatenate([run.G[positions][run.visible[positions]], run.X[positions][run.visible[positions]]])
    centre = (points.max(0) + points.min(0)) / 2
    return centre, float(np.abs(points - centre).max() or 1.0)


def _with_gaps(run: AlignedRun, shape: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points, edge polyline) of one shape: hidden points as NaN; edges joined into one line broken by NaNs."""
    points = np.where(seen[:, None], shape, np.nan)
    if run.edges is None or not len(run.edges):
        return points, np.full((0, 3), np.nan)
    segments = np.concatenate([points[run.edges], np.full((len(run.edges), 1, 3), np.nan)], axis=1)
    return points, segments.reshape(-1, 3)


def _setup_axes(ax, run: AlignedRun, centre: np.ndarray, half: float) -> list:
    """Empty artists for ground truth and prediction (points, skeleton) on a cube-shaped 3D axes."""
    artists = []
    for colour, marker, label in ((TRUTH, "o", "ground truth"), (PREDICTION, "^", "prediction")):
        (points,) = ax.plot([], [], [], ls="", marker=marker, ms=3, color=colour, label=label)
        (skeleton,) = ax.plot([], [], [], lw=1.0, color=colour, alpha=0.8)
        artists.append((points, skeleton))
    for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
        setter(c - half, c + half)
    ax.set_box_aspect((1, 1, 1))
    ax.tick_params(labelsize=5, pad=0)
    return artists


def _show_frame(ax, artists: list, run: AlignedRun, position: int) -> None:
    seen = run.visible[position]
    for (points, skeleton), shape in zip(artists, (run.G[position], run.X[position])):
        dots, lines = _with_gaps(run, shape, seen)
        points.set_data_3d(*dots.T)
        skeleton.set_data_3d(*lines.T)
    error = run.e3d[position]
    ax.set_title(f"frame {int(run.frames[position])}" + ("" if np.isnan(error) else f", e3D {error:.3f}"), fontsize=8)


def write_frames(run: AlignedRun, stem: Path, positions: list[int] | None = None) -> list[Path]:
    """A row of 3D panels, ground truth and prediction overlaid, for evaluated-frame `positions` (PNG)."""
    positions = positions or default_frames(run)
    bad = [p for p in positions if not 0 <= p < run.frames.size]
    if bad:
        raise NrsfmError(f"--frames {bad[0]}: the run evaluated {run.frames.size} frames (positions 0 to "
                         f"{run.frames.size - 1})")
    figure = new_figure(2.6 * len(positions), 3.0)
    centre, half = _limits(run, positions)
    for i, position in enumerate(positions):
        ax = figure.add_subplot(1, len(positions), i + 1, projection="3d")
        _show_frame(ax, _setup_axes(ax, run, centre, half), run, position)
    figure.suptitle(f"{run.title}: ground truth (black) and prediction (red), aligned under {run.preset}",
                    fontsize=9)
    return save(figure, stem, ("png",))


def write_animation(run: AlignedRun, path: Path, max_frames: int = 60, fps: int = 8) -> Path:
    """An animated GIF of the sequence (at most `max_frames` evenly spaced scored frames)."""
    from matplotlib import animation

    if not animation.writers.is_available("pillow"):
        raise NrsfmError("writing a GIF needs Pillow (installed with matplotlib); pip install pillow")
    scored = np.flatnonzero(run.visible.any(1))
    positions = [int(scored[i]) for i in np.unique(np.linspace(0, scored.size - 1, min(max_frames, scored.size))
                                                   .round().astype(int))]
    centre, half = _limits(run, positions)
    figure = new_figure(3.4, 3.4, layout=None)  # a fixed layout: frames render twice as fast
    figure.subplots_adjust(0, 0, 1, 0.92)
    ax = figure.add_subplot(projection="3d")
    artists = _setup_axes(ax, run, centre, half)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_ticklabels([])
    ax.text2D(0.0, 1.06, run.title, transform=ax.transAxes, fontsize=6, va="bottom")
    writer = animation.PillowWriter(fps=fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.gif")  # Pillow picks the format from the suffix
    try:
        with writer.saving(figure, str(partial), dpi=72):
            for position in positions:
                _show_frame(ax, artists, run, position)
                writer.grab_frame()
        os.replace(partial, path)  # atomic: a reader sees the old GIF or the complete new one
    finally:
        partial.unlink(missing_ok=True)
    return path
