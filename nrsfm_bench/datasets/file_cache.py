"""A per-process cache of parsed data files, keyed by path, size and modification time."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_MAX_ENTRIES = 64


def cached(parser: Callable[[Path], T]) -> Callable[[Path], T]:
    """Wrap `parser(path)` so that a file is parsed once per process while it is unchanged.

    The key is the resolved path with its size and modification time, so an edited or replaced file is
    parsed again. Parsers must return values their callers do not modify (arrays are made read-only by
    `freeze`). Errors are not cached.
    """

    @functools.lru_cache(maxsize=_MAX_ENTRIES)
    def _parse(path: str, size: int, mtime_ns: int) -> T:
        return parser(Path(path))

    @functools.wraps(parser)
    def wrapper(path: os.PathLike | str) -> T:
        path = Path(path).resolve()
        try:
            stat = path.stat()
        except OSError:
            return parser(path)  # the parser raises its own error naming the file
        return _parse(str(path), stat.st_size, stat.st_mtime_ns)

    wrapper.cache_clear = _parse.cache_clear  # type: ignore[attr-defined]
    return wrapper


def freeze(value: Any) -> Any:
    """Make the NumPy arrays in `value` (an array, or a dict / list / tuple holding some) read-only."""
    if hasattr(value, "setflags") and hasattr(value, "dtype"):
        value.setflags(write=False)
    elif isinstance(value, dict):
        for item in value.values():
            freeze(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            freeze(item)
    return value
