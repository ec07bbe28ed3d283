"""Reading MATLAB .mat files (v4 and v5) into checked NumPy arrays, with one-line errors naming file and variable."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from nrsfm_bench.datasets.file_cache import cached, freeze
from nrsfm_bench.errors import DataFormatError, DataNotFoundError


@cached
def read_mat(path: Path) -> dict[str, Any]:
    """The variables of a .mat file (MAT v4 or v5), read once per process.

    Raises:
        DataNotFoundError: the file does not exist.
        DataFormatError: the file is not a readable MAT v4/v5 file (truncated, corrupt, HDF5-based v7.3, ...).
    """
    import scipy.io

    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    try:
        variables = scipy.io.loadmat(str(path))
    except NotImplementedError:  # scipy's answer to MAT v7.3 (HDF5)
        raise DataFormatError(path, "is a MATLAB v7.3 (HDF5) file; expected MAT v4/v5 "
                                    "(re-save it in MATLAB with save(..., '-v7'))") from None
    except Exception as error:  # scipy raises ValueError, TypeError, OSError, zlib.error ... on damaged files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataFormatError(path, f"is not a readable MATLAB .mat file ({reason})") from None
    return freeze({k: v for k, v in variables.items() if not k.startswith("__")})


def variable(mat: Mapping[str, Any], path: Path, name: str, expected: str) -> Any:
    """`mat[name]`, or DataFormatError naming the variable, what was expected and what the file holds."""
    if name not in mat:
        held = ", ".join(sorted(mat)) or "no variables"
        raise DataFormatError(path, f"variable '{name}' missing; expected {expected} (the file holds: {held})")
    return mat[name]


def matrix(mat: Mapping[str, Any], path: Path, name: str, expected: str, *, row_multiple: int = 1,
           columns: int | None = None, finite: bool = True) -> np.ndarray:
    """A real 2D float64 matrix variable whose row count is a positive multiple of `row_multiple`.

    Args:
        expected: the expected form, for the error message (e.g. "a 2F x P double matrix").
        columns: the required number of columns, if fixed.
        finite: reject NaN / inf entries.
    """
    value = variable(mat, path, name, expected)
    kind = getattr(value, "dtype", None)
    if kind is None or kind.kind not in "iuf" or value.ndim != 2 or value.size == 0:
        shape = getattr(value, "shape", "?")
        raise DataFormatError(path, f"variable '{name}' is {_describe(value)} of shape {shape}; expected {expected}")
    rows, cols = value.shape
    if rows % row_multiple:
        raise DataFormatError(path, f"variable '{name}' has {rows} rows, not a multiple of {row_multiple}; "
                                    f"expected {expected}")
    if columns is not None and cols != columns:
        raise DataFormatError(path, f"variable '{name}' has {cols} columns; expected {expected}")
    value = value.astype(np.float64)
    if finite and not np.isfinite(value).all():
        raise DataFormatError(path, f"variable '{name}' has {int((~np.isfinite(value)).sum())} non-finite "
                                    f"entries; expected finite values")
    return value


def scalar(mat: Mapping[str, Any], name: str) -> float | None:
    """A numeric 1x1 variable as a Python number, or None when absent or not a scalar."""
    value = mat.get(name)
    if value is None or getattr(value, "size", 0) != 1 or value.dtype.kind not in "biuf":
        return None
    number = value.item()
    return int(number) if float(number).is_integer() else float(number)


def struct_field(value: Any, field: str) -> Any:
    """Field `field` of a 1x1 MATLAB struct as loaded by scipy (a structured array), or None if absent."""
    names = getattr(getattr(value, "dtype", None), "names", None)
    if not names or field not in names or value.size == 0:
        return None
    return value.flat[0][field]


def frames_from_rows(A: np.ndarray, k: int, layout: str) -> np.ndarray:
    """Turn a (kF, P) matrix of stacked coordinates into frame-first (F, P, k).

    Args:
        A: (kF, P) matrix.
        k: coordinates per point (2 for tracks, 3 for shapes).
        layout: "interleaved" (rows k·i .. k·i+k-1 are frame i: Akhter, CSF) or "blocked" (rows c·F + i hold
            coordinate c of frame i: Torresani's `P3_gt`).
    Returns:
        (F, P, k) array.
    """
    F = A.shape[0] // k
    if layout == "interleaved":
        return A.reshape(F, k, -1).transpose(0, 2, 1).copy()
    if layout == "blocked":
        return A.reshape(k, F, -1).transpose(1, 2, 0).copy()
    raise ValueError(f"layout must be 'interleaved' or 'blocked', got {layout!r}")


def _describe(value: Any) -> str:
    kind = getattr(value, "dtype", None)
    if kind is None:
        return f"a {type(value).__name__}"
    if kind.names:
        return "a struct"
    if kind == object:
        return "a cell array"
    return {"U": "a string", "S": "a string", "c": "complex", "b": "logical"}.get(kind.kind, f"{kind}")
