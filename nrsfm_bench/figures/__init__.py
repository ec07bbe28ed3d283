"""Figures for reports (robustness curves, reconstructions, animations), drawn on matplotlib's Agg canvas.

Figures are built as `matplotlib.figure.Figure` objects with an Agg canvas, never through pyplot, so making a
report changes no global matplotlib state and needs no display.
"""
from __future__ import annotations

import re
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nrsfm_bench.store import atomic_path

PNG_DPI = 110
# no software URL or creation date in the files: reproducible bytes, and nothing that points off the machine
METADATA = {"png": {"Software": None}, "pdf": {"Creator": "nrsfm-bench", "CreationDate": None}}


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """A figure of `width` × `height` inches on an Agg canvas (constrained layout unless `layout=None`)."""
    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, stem: Path, formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
    """Write `stem.<format>` for each format atomically; returns the paths written."""
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=METADATA.get(fmt))
        paths.append(path)
    return paths


def slug(text: str) -> str:
    """A file-name-safe form of a label: "pr_rrn [profile=paper]" → "pr_rrn_profile=paper"."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "unnamed"
