"""MUCT faces (Milborrow, Morkel, Nicolls 2010): 76 manual 2D landmarks per face, from muct76.rda or the CSV files.

The landmark files of `muct-landmarks-v1.tar.gz` hold one row per face: `name`, `tag`, then `x00, y00, ...,
x75, y75`. `muct76.rda` (R data frame `muct76`) and `muct76.csv` use Stasm coordinates (origin at the image
centre, y up); `muct76-opencv.csv` uses OpenCV coordinates (origin top left, y down), whose y we negate so that
every source gives the same orientation. Unavailable landmarks are stored as (0, 0) in every file → hidden.

A face's name is `i[r]SSSLC-XX`: `r` marks the mirrored copy of a face, `SSS` the subject, `L` the lighting,
`C` the camera view (a-e). Mirrored copies are excluded by default.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.datasets.file_cache import cached, freeze
from nrsfm_bench.datasets.layout import first_existing, relative_name, root_or_default
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.geometry import center_masked
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

SOURCE = "MUCT landmarks (Milborrow, Morkel, Nicolls 2010), http://www.milbo.org/muct (muct-landmarks-v1.tar.gz)"
POINTS = 76
CAMERAS = "abcde"
NAME = re.compile(r"^i(r?)(\d{3})([a-z])([a-z])-\w+$")
#: Files searched under the data root, by kind, in order.
FILES = {
    "rda": ("muct/muct76.rda", "muct/muct-landmarks/muct76.rda"),
    "csv": ("muct/muct76.csv", "muct/muct-landmarks/muct76.csv"),
    "opencv-csv": ("muct/muct76-opencv.csv", "muct/muct-landmarks/muct76-opencv.csv"),
}
COLUMNS = ["name", "tag"] + [f"{axis}{k:02d}" for k in range(POINTS) for axis in "xy"]


def _table_to_arrays(path: Path, table, flip_y: bool) -> dict:
    """name (N,), tag (N,), points (N, 76, 2) from a data frame in the MUCT column layout."""
    columns = [str(c) for c in table.columns]
    landmark = [c for c in columns if re.fullmatch(r"[xy]\d+", c)]
    if columns[:2] != ["name", "tag"] or len(landmark) != 2 * POINTS or columns[2:] != COLUMNS[2:]:
        count = len(landmark) // 2
        raise DataFormatError(path, f"has columns {', '.join(columns[:3])}, ... with {count} landmark pairs; "
                                    f"expected name, tag, x00, y00, ..., x75, y75 ({POINTS} landmarks)")
    try:
        points = table[COLUMNS[2:]].to_numpy(dtype=np.float64).reshape(-1, POINTS, 2)
        tags = table["tag"].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataFormatError(path, "has non-numeric landmark or tag values") from None
    if not np.isfinite(points).all():
        rows = np.flatnonzero(~np.isfinite(points).all(axis=(1, 2)))
        raise DataFormatError(path, f"has missing or non-finite coordinates in {rows.size} row(s), first the face "
                                    f"'{table['name'].iloc[rows[0]]}'; expected numbers (unavailable points are 0,0)")
    names = table["name"].astype(str).to_numpy()
    bad = [n for n in names if not NAME.match(n) or NAME.match(n).group(4) not in CAMERAS]
    if bad:
        raise DataFormatError(path, f"has {len(bad)} face name(s) not of the MUCT form i[r]SSSLC-XX (camera a-e), "
                                    f"first {bad[0]!r}")
    if flip_y:
        points[..., 1] *= -1
    return freeze({"name": names, "tag": tags, "points": points})


@cached
def read_rda(path: Path) -> dict:
    """The `muct76` data frame of muct76.rda as arrays (see `_table_to_arrays`)."""
    import warnings

    import rdata

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rdata warns that the file declares no string encoding
            objects = rdata.read_rda(str(path))
    except Exception as error:  # rdata raises ValueError, EOFError, NotImplementedError ... on damaged files
        raise DataFormatError(path, f"is not a readable R data file ({type(error).__name__}: "
                                    f"{str(error).strip().splitlines()[0] if str(error).strip() else ''})") from None
    if "muct76" not in objects:
        raise DataFormatError(path, f"object 'muct76' missing; expected the MUCT data frame (the file holds: "
                                    f"{', '.join(objects) or 'nothing'})")
    return _table_to_arrays(path, objects["muct76"], flip_y=False)


@cached
def read_csv(path: Path) -> dict:
    """muct76.csv (Stasm coordinates) as arrays."""
    return _read_csv(path, flip_y=False)


@cached
def read_opencv_csv(path: Path) -> dict:
    """muct76-opencv.csv (OpenCV coordinates, y down) as arrays with y flipped to point up."""
    return _read_csv(path, flip_y=True)


def _read_csv(path: Path, flip_y: bool) -> dict:
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype={"name": str}, skipinitialspace=True)
    except Exception as error:  # pandas raises ParserError, EmptyDataError, UnicodeDecodeError ...
        raise DataFormatError(path, f"is not a readable CSV file ({type(error).__name__})") from None
    return _table_to_arrays(path, table, flip_y)


READERS = {"rda": read_rda, "csv": read_csv, "opencv-csv": read_opencv_csv}


@register_dataset("muct")
class Muct(Dataset):
    """MUCT: 76 facial landmarks of 3755 faces (2D only; unavailable points hidden; mirrored copies excluded)."""

    source = SOURCE
    layout = ("muct/muct76.rda, or muct/muct76.csv, or muct/muct76-opencv.csv (also under "
              "muct/muct-landmarks/, the tarball's folder)")
    has_ground_truth = False

    def __init__(self, *, file: str = "auto", mirrored: bool = False, views: str = CAMERAS):
        """
        Args:
            file: "rda", "csv", "opencv-csv", or "auto" (the first present in that order).
            mirrored: also include the mirrored copy of every face (names `ir...`).
            views: the camera views to keep, a subset of "abcde" (views b and c hold every unavailable point).
        """
        if file not in ("auto", *FILES):
            raise ValueError(f"file must be one of auto, {', '.join(FILES)}, got {file!r}")
        if not views or set(views) - set(CAMERAS):
            raise ValueError(f"views must be a non-empty subset of {CAMERAS!r}, got {views!r}")
        self.file, self.mirrored, self.views = file, bool(mirrored), "".join(sorted(set(views)))

    def _locate(self, root: Path) -> tuple[str, Path | None]:
        kinds = FILES if self.file == "auto" else [self.file]
        for kind in kinds:
            found = first_existing(root, FILES[kind])
            if found is not None:
                return kind, found
        return (self.file if self.file != "auto" else "rda"), None

    def required_files(self, root: Path) -> list[Path]:
        kind, found = self._locate(root)
        return [found if found is not None else root / FILES[kind][0]]

    def load(self, root: Path | None) -> Sequence:
        root = root_or_default(root)
        self.check_present(root)
        kind, path = self._locate(root)
        data = READERS[kind](path)
        parts = [NAME.match(n).groups() for n in data["name"]]
        mirrored = np.array([p[0] == "r" for p in parts])
        camera = np.array([p[3] for p in parts])
        keep = np.isin(camera, list(self.views)) & (self.mirrored | ~mirrored)
        if keep.sum() < 2:
            raise DataNotFoundError(f"{path}: fewer than 2 faces in views {self.views!r}")
        points = data["points"][keep]
        visible = ~(points == 0).all(-1)
        meta = {
            "source": SOURCE, "file": relative_name(path, root), "format": kind, "units": "pixels",
            "coordinates": "Stasm (y up), centred per frame on the visible landmarks",
            "ground_truth": "none: 2D landmarks only (e3D unavailable)",
            "views": self.views, "mirrored_included": self.mirrored,
            "camera_view": "".join(camera[keep]),
            "faces_per_view": {v: int((camera[keep] == v).sum()) for v in self.views},
            "missing_points": int((~visible).sum()), "faces_with_missing_points": int((~visible).any(1).sum()),
        }
        if self.mirrored:
            meta["mirrored"] = "".join("1" if m else "0" for m in mirrored[keep])
        return Sequence(W=center_masked(points, visible), visible=visible, name="muct", ordered=False, meta=meta)
