"""The user's own data: 2D tracks (and optional 3D) from .npz, .csv or .json files, as a validated Sequence.

Schemas (docs/datasets.md has examples):

* `.npz`: `W` (F, P, 2) float; optional `visible` (F, P) bool or 0/1, `S_gt` (F, P, 3), `M_gt` (F, 2, 3),
  `point_names` (P,) strings, `edges` (E, 2) ints, `ordered` (scalar bool). NaN in `W` marks a hidden point.
* `.csv`: a header and one row per observation with columns `frame, point, x, y` and optionally `X, Y, Z`
  (ground truth) and `visible` (0/1). Frames and points are integers (sorted numerically) or names (kept in
  order of first appearance; point names become `point_names`). A (frame, point) pair without a row, or with
  empty x / y, is hidden.
* `.json`: an object with the `.npz` keys, nested lists for arrays (`null` in `W` marks a hidden point), plus
  optional `name` and `meta` (an object copied into the sequence metadata).

Every loaded sequence is centred per frame on its visible points (W and S_gt alike), as in every NRSfM
benchmark; frames are taken as orderless unless the file says `ordered` (or the `ordered` parameter does).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.errors import DataFormatError, DataNotFoundError, InputError
from nrsfm_bench.geometry import center_masked
from nrsfm_bench.sequence import Sequence

SUFFIXES = (".npz", ".csv", ".json")
ARRAYS = {"W": "(F, P, 2) float", "visible": "(F, P) bool", "S_gt": "(F, P, 3) float", "M_gt": "(F, 2, 3) float",
          "point_names": "(P,) strings", "edges": "(E, 2) ints", "ordered": "a scalar bool"}
JSON_ONLY = {"name": "a string", "meta": "an object"}


def is_user_file(name: str) -> bool:
    """Whether a `--dataset` argument names a file rather than a registered dataset.

    Registered names never contain a dot, so any name with a suffix (or an existing file) is a path; an
    unsupported suffix then fails in `load_user_file` with a message listing the supported ones.
    """
    return bool(Path(name).suffix) or Path(name).is_file()


def load_user_file(path: str | Path, ordered: bool | None = None) -> Sequence:
    """Read a user file (.npz, .csv or .json) into a Sequence.

    Args:
        path: the file.
        ordered: override the file's statement of temporal order (None: the file's, default False).
    Raises:
        DataNotFoundError: the file does not exist.
        DataFormatError: the file is not one of the schemas (naming the file, the field and the expected form).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFormatError(path, f"has suffix {path.suffix!r}; expected one of {', '.join(SUFFIXES)} "
                                    "(schemas: docs/datasets.md)")
    fields = {".npz": _read_npz, ".csv": _read_csv, ".json": _read_json}[suffix](path)
    return _sequence(path, fields, ordered)


class UserFile(Dataset):
    """The user's own file (.npz, .csv, .json) given as `--dataset path/to/file`."""

    source = "the user's own file"
    layout = "any path: " + ", ".join(SUFFIXES) + " (schemas: docs/datasets.md)"
    registry_name = "file"

    def __init__(self, *, path: str, ordered: bool | None = None):
        """
        Args:
            path: the file (relative to the working directory).
            ordered: declare the frames temporal (True) or orderless (False); None takes the file's `ordered`.
        """
        self.path, self.ordered = str(path), ordered

    def sha256(self) -> str:
        """Digest of the file's bytes (stored with every result, so an edited file is never confused)."""
        path = Path(self.path)
        if not path.is_file():
            raise DataNotFoundError(f"{path}: file not found")
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def required_files(self, root: Path) -> list[Path]:
        return [Path(self.path).absolute()]

    def check_present(self, root: Path) -> None:
        if not Path(self.path).is_file():
            raise DataNotFoundError(f"{self.path}: file not found")

    def load(self, root: Path | None = None) -> Sequence:
        return load_user_file(self.path, self.ordered)


# ------------------------------------------------------------------------------------------------ readers
def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise DataFormatError(path, "holds an object array (pickled data); expected plain numeric or string "
                                        "arrays") from None
        raise DataFormatError(path, f"is not a readable .npz archive ({error})") from None
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError ... on damaged archives
        raise DataFormatError(path, f"is not a readable .npz archive ({type(error).__name__})") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataFormatError(path, f"is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise DataFormatError(path, f"holds a JSON {type(data).__name__}; expected an object with key 'W'")
    fields = {}
    for key, value in data.items():
        if key in ("W", "S_gt", "M_gt"):
            try:
                fields[key] = np.array([[[np.nan if v is None else v for v in p] if isinstance(p, list) else
                                          ([np.nan] * 2 if p is None else p) for p in f] for f in value]
                                       if key == "W" else value, dtype=np.float64)
            except (TypeError, ValueError):
                raise DataFormatError(path, f"key '{key}' is not a rectangular nested list of numbers; expected "
                                            f"{ARRAYS[key]}") from None
        else:
            fields[key] = value
    return fields


def _read_csv(path: Path) -> dict[str, Any]:
    import pandas as pd

    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except Exception as error:  # ParserError, EmptyDataError, UnicodeDecodeError ...
        raise DataFormatError(path, f"is not a readable CSV file ({type(error).__name__})") from None
    columns = [str(c).strip() for c in table.columns]
    table.columns = columns
    required = ["frame", "point", "x", "y"]
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataFormatError(path, f"has columns {', '.join(columns)}; expected frame, point, x, y "
                                    "[, X, Y, Z][, visible]")
    extra = sorted(set(columns) - {*required, "X", "Y", "Z", "visible"})
    if extra:
        raise DataFormatError(path, f"has unknown column(s) {', '.join(extra)}; expected frame, point, x, y "
                                    "[, X, Y, Z][, visible]")
    has_3d = {"X", "Y", "Z"} & set(columns)
    if has_3d and has_3d != {"X", "Y", "Z"}:
        raise DataFormatError(path, "has only some of the columns X, Y, Z; expected all three or none")
    if table.empty:
        raise DataFormatError(path, "has a header but no rows; expected one row per (frame, point)")
    frames, frame_index = _ids(path, table["frame"], "frame")
    points, point_index = _ids(path, table["point"], "point")
    pairs = frame_index * len(points) + point_index
    counts = np.bincount(pairs, minlength=len(frames) * len(points))
    if counts.max() > 1:
        twice = int(np.flatnonzero(counts > 1)[0])
        raise DataFormatError(path, f"has {counts[twice]} rows for frame {frames[twice // len(points)]}, point "
                                    f"{points[twice % len(points)]}; expected one row per (frame, point)")

    def grid(names: list[str], width: int) -> np.ndarray:
        try:
            values = table[names].apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataFormatError(path, f"column(s) {', '.join(names)} hold non-numeric values") from None
        out = np.full((len(frames) * len(points), width), np.nan)
        out[pairs] = values
        return out.reshape(len(frames), len(points), width)

    W = grid(["x", "y"], 2)
    fields: dict[str, Any] = {"W": W}
    if "visible" in columns:
        vis = np.zeros(len(frames) * len(points))
        vis[pairs] = pd.to_numeric(table["visible"], errors="coerce").fillna(-1).to_numpy()
        if not np.isin(vis, (0, 1)).all():
            raise DataFormatError(path, "column visible holds values other than 0 and 1")
        fields["visible"] = vis.reshape(W.shape[:2]).astype(bool) & np.isfinite(W).all(-1)
    if has_3d:
        fields["S_gt"] = grid(["X", "Y", "Z"], 3)
    if not all(isinstance(p, (int, np.integer)) for p in points):
        fields["point_names"] = np.array([str(p) for p in points])
    return fields


def _ids(path: Path, column, what: str) -> tuple[list, np.ndarray]:
    """Distinct identifiers (ints sorted, else names in order of appearance) and each row's index into them."""
    if column.isna().any():
        raise DataFormatError(path, f"column {what} has empty cells; expected an id on every row")
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        ids = sorted(set(values.tolist()))
    else:
        if np.issubdtype(values.dtype, np.floating):
            raise DataFormatError(path, f"column {what} holds non-integer numbers; expected integers or names")
        values = values.astype(str)
        ids = list(dict.fromkeys(values.tolist()))
    lookup = {v: i for i, v in enumerate(ids)}
    return ids, np.array([lookup[v] for v in values.tolist()])


# ------------------------------------------------------------------------------------------------ checks
def _sequence(path: Path, fields: Mapping[str, Any], ordered: bool | None) -> Sequence:
    allowed = {**ARRAYS, **(JSON_ONLY if path.suffix.lower() == ".json" else {})}
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise DataFormatError(path, f"has unknown field(s) {', '.join(unknown)}; expected {', '.join(allowed)}")
    if "W" not in fields:
        raise DataFormatError(path, f"field 'W' missing; expected W {ARRAYS['W']} (the file holds: "
                                    f"{', '.join(fields) or 'nothing'})")
    W = _float_array(path, fields["W"], "W", (None, None, 2))
    F, P = W.shape[:2]
    finite = np.isfinite(W).all(-1)
    visible = finite
    if fields.get("visible") is not None:
        visible = np.asarray(fields["visible"])
        if visible.shape != (F, P) or not np.isin(visible, (0, 1)).all():
            raise DataFormatError(path, f"field 'visible' has shape {visible.shape} and values "
                                        f"{np.unique(visible)[:4].tolist()}; expected (F, P) = {(F, P)} of 0/1")
        visible = visible.astype(bool)
        if (visible & ~finite).any():
            raise DataFormatError(path, f"field 'W' has {int((visible & ~finite).sum())} non-finite value(s) at "
                                        "points marked visible")
    S = M = None
    if fields.get("S_gt") is not None:
        S = _float_array(path, fields["S_gt"], "S_gt", (F, P, 3))
        if (~np.isfinite(S).all(-1) & visible).any():
            raise DataFormatError(path, "field 'S_gt' has non-finite values at visible points")
        S = center_masked(np.where(np.isfinite(S), S, 0.0), visible)
    if fields.get("M_gt") is not None:
        M = _float_array(path, fields["M_gt"], "M_gt", (F, 2, 3))
    names = fields.get("point_names")
    if names is not None:
        names = np.asarray(names)
        if names.shape != (P,) or names.dtype.kind not in "US":
            raise DataFormatError(path, f"field 'point_names' has shape {names.shape}; expected {P} strings")
        names = tuple(str(n) for n in names)
    edges = fields.get("edges")
    if edges is not None:
        edges = np.asarray(edges)
        if edges.size and (edges.ndim != 2 or edges.shape[1] != 2 or edges.dtype.kind not in "iu"
                           or edges.min() < 0 or edges.max() >= P):
            raise DataFormatError(path, f"field 'edges' has shape {edges.shape}; expected (E, 2) integer point "
                                        f"indices in [0, {P})")
    if ordered is None:
        stated = fields.get("ordered", False)
        if np.asarray(stated).shape != () or np.asarray(stated).dtype.kind not in "bui":
            raise DataFormatError(path, f"field 'ordered' is {stated!r}; expected true or false")
        ordered = bool(stated)
    meta = {"source": "user file", "file": str(path), "format": path.suffix.lower().lstrip("."),
            "centring": "W (and S_gt) centred per frame on the visible points"}
    user_meta = fields.get("meta")
    if user_meta is not None:
        if not isinstance(user_meta, dict):
            raise DataFormatError(path, "field 'meta' is not an object; expected a JSON object")
        meta["user"] = user_meta
    name = fields.get("name") if isinstance(fields.get("name"), str) else f"file:{path.name}"
    try:
        return Sequence(W=center_masked(np.where(visible[..., None], W, 0.0), visible), visible=visible, S_gt=S,
                        M_gt=M, point_names=names, edges=edges, name=name, ordered=ordered, meta=meta)
    except InputError as error:  # e.g. fewer than 2 frames or 4 points
        raise DataFormatError(path, str(error)) from None


def _float_array(path: Path, value: Any, field: str, shape: tuple) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataFormatError(path, f"field '{field}' is not numeric; expected {ARRAYS[field]}") from None
    if array.ndim != len(shape) or any(s is not None and a != s for a, s in zip(array.shape, shape)):
        rank = f"rank {array.ndim}, shape {array.shape}"
        raise DataFormatError(path, f"field '{field}' has {rank}; expected {ARRAYS[field]}"
                                    + (f" = {shape}" if None not in shape else ""))
    return array
