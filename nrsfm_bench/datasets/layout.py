"""Finding a dataset's files under the data root among the file names and folders its downloads use."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


def first_existing(root: Path, candidates: Iterable[str]) -> Path | None:
    """The first of `candidates` (paths relative to `root`) that is a file, or None."""
    for relative in candidates:
        path = root / relative
        if path.is_file():
            return path
    return None


def relative_name(path: Path, root: Path | None) -> str:
    """`path` relative to `root` when it lies below it (for metadata that should not depend on the machine)."""
    if root is not None:
        for candidate, base in ((Path(path), Path(root)), (Path(path).resolve(), Path(root).resolve())):
            try:
                return str(candidate.relative_to(base))
            except ValueError:
                pass
    return str(path)


def root_or_default(root: Path | str | None) -> Path:
    """`root` as a Path, or the resolved data root (`$NRSFM_BENCH_DATA`, else the per-user default) when None."""
    if root is not None:
        return Path(root)
    from nrsfm_bench.data_root import resolve_data_root

    return resolve_data_root()[0]
