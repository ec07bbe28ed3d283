"""The results store: one JSON record per run, keyed by the hash of its configuration, written atomically.

Layout of a store folder:
    runs/<key>.json        the run record (see docs/architecture.md for its fields)
    arrays/<key>.npz       the reconstruction (float32 S, M and the evaluated frame indices), when small enough
    work/<key>/            a method's private working folder (checkpoints), kept until the run completes
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nrsfm_bench.errors import NrsfmError

ENV_VAR = "NRSFM_BENCH_STORE"
DEFAULT_STORE = "nrsfm-results"
MAX_SAVED_VALUES = 12_000_000  # reconstructions with more (F·P·3) values are not kept as arrays (~48 MB)


def resolve_store(explicit: str | os.PathLike | None = None) -> Path:
    """`--store DIR`, else `$NRSFM_BENCH_STORE`, else `./nrsfm-results`."""
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_STORE).expanduser()


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: os.umask can only be read by setting it


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename, else it is removed.

    Readers therefore see the old file or the complete new one, never a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file private (0600); give it the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays and non-finite floats (→ None) for strict JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_atomic(path: Path, data: Any) -> Any:
    """Write `data` as strict JSON through a temporary file; returns the JSON-able form that was written."""
    data = _jsonable(data)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n")
    return data


class ResultsStore:
    """A folder of run records."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def record_path(self, key: str) -> Path:
        return self.root / "runs" / f"{key}.json"

    def arrays_path(self, key: str) -> Path:
        return self.root / "arrays" / f"{key}.npz"

    def workdir(self, key: str) -> Path:
        """The private working folder of a run (created on demand)."""
        path = self.root / "work" / key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def has(self, key: str) -> bool:
        return self.record_path(key).exists()

    def get(self, key: str) -> dict:
        path = self.record_path(key)
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise NrsfmError(f"{path}: cannot read run record ({error})") from None

    def put(self, record: dict, arrays: dict[str, np.ndarray] | None = None) -> dict:
        """Write a record (and its arrays) atomically, then drop the run's working folder.

        Returns:
            the record as stored (plain JSON types), identical to what `get` will return.
        """
        key = record["key"]
        if arrays is not None and sum(a.size for a in arrays.values()) <= MAX_SAVED_VALUES:
            with atomic_path(self.arrays_path(key)) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez_compressed(handle, **arrays)
        stored = write_json_atomic(self.record_path(key), record)
        shutil.rmtree(self.root / "work" / key, ignore_errors=True)
        return stored

    def load_arrays(self, key: str) -> dict[str, np.ndarray] | None:
        path = self.arrays_path(key)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}

    def records(self) -> list[dict]:
        """Every readable record; unreadable files are reported, not silently skipped."""
        folder = self.root / "runs"
        return [self.get(p.stem) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
