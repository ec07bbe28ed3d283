"""Robustness curves (PR-RRN Fig. 4 form): e3D against noise ratio, training fraction and missing ratios.

One panel per perturbation axis, one row per dataset, one line per method (mean over seeds) with a shaded
band of ± one standard deviation over seeds. A run belongs to an axis when that axis is its only perturbation;
unperturbed runs are the axis's default level (noise 0, training fraction 1, nothing missing) on every axis.
A method measured only at the default level of an axis (a per-sequence method cannot train on a fraction of
the frames) is drawn as a dashed horizontal line at that value.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nrsfm_bench import report
from nrsfm_bench.figures import new_figure, save, slug

AXES = {  # axis → (x label, default level)
    "noise": ("noise ratio ‖noise‖$_F$ / ‖W‖$_F$", 0.0),
    "train_fraction": ("training fraction (evaluated on all frames)", 1.0),
    "missing": ("missing ratio (points hidden at random)", 0.0),
    "occlusion": ("missing ratio (occlusion blocks)", 0.0),
}
MAX_ROWS = 6


def curve_points(records: list[dict], preset: str, group: str = "all") -> pd.DataFrame:
    """One row per (completed record, axis it lies on): method, dataset, axis, level, seed, e3d, inductive.

    Records perturbed along two axes at once (grid sweeps) lie on no curve and are left out.
    """
    rows = []
    for record in records:
        if record["status"] != "ok":
            continue
        block = record["evaluation"].get(group) or record["evaluation"].get(record["split"], {})
        e3d = block.get("presets", {}).get(preset, {}).get("e3d")
        if e3d is None:
            continue
        perturbation = record.get("perturbation", {})
        moved = [axis for axis in AXES if axis in perturbation]
        if len(moved) > 1:
            continue
        axes = moved or list(AXES)
        base = {"method": report.label("method", record["method"]), "dataset": report.label("dataset", record["dataset"]),
                "seed": record["seed"], "e3d": e3d, "inductive": record["frames"]["inductive"]}
        for axis in axes:
            name = axis
            if axis == "occlusion" and moved:
                name = f"occlusion ({perturbation['occlusion_frames']}×{perturbation['occlusion_points']} blocks)"
            rows.append({**base, "axis": name, "level": perturbation.get(axis, AXES[axis][1])})
    frame = pd.DataFrame(rows, columns=["method", "dataset", "axis", "level", "seed", "e3d", "inductive"])
    return _attach_default_to_block_axes(frame)


def _attach_default_to_block_axes(frame: pd.DataFrame) -> pd.DataFrame:
    """Unperturbed points were filed under "occlusion"; give them to every occlusion block size present."""
    block_axes = [a for a in frame["axis"].unique() if a.startswith("occlusion (")]
    if not block_axes:
        return frame
    default = frame[frame["axis"] == "occlusion"]
    rest = frame[frame["axis"] != "occlusion"]
    return pd.concat([rest, *[default.assign(axis=a) for a in block_axes]], ignore_index=True)


def _axis_key(axis: str) -> str:
    return axis.split(" (")[0]


def _x_label(axis: str) -> str:
    """The axis label; occlusion axes say their block size: "occlusion (10×4 blocks)"."""
    if axis.startswith("occlusion ("):
        return f"missing ratio (occlusion, {axis[len('occlusion ('):-1]})"
    return AXES[axis][0]


def panels(points: pd.DataFrame) -> dict[str, list[str]]:
    """dataset → the axes with at least two levels measured (in the order noise, fraction, missing, occlusion)."""
    result = {}
    for dataset, rows in points.groupby("dataset", sort=True):
        levels = rows.groupby("axis")["level"].nunique()
        axes = [a for a in levels.index if levels[a] >= 2]
        order = list(AXES)
        axes.sort(key=lambda a: (order.index(_axis_key(a)), a))
        if axes:
            result[dataset] = axes
    return result


def _colours(methods: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(methods) <= 10 else "tab20"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(methods)}


def draw(points: pd.DataFrame, datasets: list[str], layout: dict[str, list[str]], preset: str, group: str):
    """A figure with one row per dataset and one panel per axis of that row."""
    columns = max(len(layout[d]) for d in datasets)
    figure = new_figure(3.6 * columns + 1.6, 2.9 * len(datasets))
    grid = figure.subplots(len(datasets), columns, squeeze=False)
    colours = _colours(sorted(points["method"].unique()))
    handles = {}
    for row, dataset in enumerate(datasets):
        for col in range(columns):
            ax = grid[row, col]
            if col >= len(layout[dataset]):
                ax.set_visible(False)
                continue
            axis = layout[dataset][col]
            rows = points[(points["dataset"] == dataset) & (points["axis"] == axis)]
            _panel(ax, rows, axis, colours, handles)
            ax.set_title(f"{dataset}", fontsize=9)
            ax.set_xlabel(_x_label(axis), fontsize=8)
            ax.set_ylabel(f"e3D ({preset}, {group} frames)" if col == 0 else "", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    labels = sorted(handles)
    figure.legend([handles[k] for k in labels], labels, loc="outside right upper", fontsize=8, frameon=False)
    return figure


def _panel(ax, rows: pd.DataFrame, axis: str, colours: dict, handles: dict) -> None:
    x_all = np.sort(rows["level"].unique())
    for method, runs in rows.groupby("method", sort=True):
        stats = runs.groupby("level")["e3d"].agg(["mean", "std", "count"]).sort_index()
        colour = colours[method]
        if len(stats) == 1:  # only the default level: a reference line across the panel
            label = f"{method} (per-sequence: all frames)" if _axis_key(axis) == "train_fraction" else method
            line = ax.axhline(stats["mean"].iloc[0], color=colour, ls="--", lw=1.2)
            handles.setdefault(label, line)
            continue
        x, mean, std = stats.index.to_numpy(float), stats["mean"].to_numpy(), stats["std"].fillna(0).to_numpy()
        (line,) = ax.plot(x, mean, marker="o", ms=3.5, lw=1.5, color=colour)
        if (stats["count"] > 1).any():
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.18, lw=0)
        handles.setdefault(method, line)
    if x_all.size:
        ax.set_xlim(x_all.min() - 0.03 * np.ptp(x_all), x_all.max() + 0.03 * np.ptp(x_all))


def write_data(points: pd.DataFrame, layout: dict[str, list[str]], path: Path) -> Path:
    """The numbers behind the curves: dataset, axis, method, level, mean, std, n (seeds)."""
    from nrsfm_bench.report import write_text

    shown = points[[axis in layout.get(d, []) for d, axis in zip(points["dataset"], points["axis"])]]
    table = (shown.groupby(["dataset", "axis", "method", "level"])["e3d"].agg(["mean", "std", "count"])
             .reset_index().rename(columns={"count": "n"}))
    write_text(path, table.to_csv(index=False))
    return path


def write_curves(records: list[dict], out: Path, preset: str, group: str = "all") -> list[Path]:
    """Robustness figures under `out`: `robustness.{png,pdf}` with every dataset that has an axis of ≥ 2 levels
    as a row (up to 6 datasets), with several datasets also `robustness_<dataset>.{png,pdf}` for each, and
    `robustness.csv` with the plotted means, standard deviations and seed counts."""
    points = curve_points(records, preset, group)
    layout = panels(points)
    written: list[Path] = []
    if layout:
        written.append(write_data(points, layout, out / "robustness.csv"))
    if 1 <= len(layout) <= MAX_ROWS:
        written += save(draw(points, list(layout), layout, preset, group), out / "robustness")
    if len(layout) > 1:
        for dataset in layout:
            written += save(draw(points, [dataset], layout, preset, group), out / f"robustness_{slug(dataset)}")
    return written
