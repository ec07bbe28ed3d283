"""A per-process cache of parsed data files, keyed by path, size and modification time."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_MAX_ENTRIES = 64


def cached(parser: Callable[..., T]) -> Callable[..., T]:
    """Wrap `parser(path, *more_paths)` so that files are parsed once per process while they are unchanged.

    The key is each resolved path with its size and modification time, so an edited or replaced file is
    parsed again. Parsers must return values their callers do not modify (arrays are made read-only by
    `freeze`). Errors are not cached.
    """

    @functools.lru_cache(maxsize=_MAX_ENTRIES)
    def _parse(*keys: tuple[str, int, int]) -> T:
        return parser(*(Path(key[0]) for key in keys))

    @functools.wraps(parser)
    def wrapper(*paths: os.PathLike | str) -> T:
        resolved = [Path(p).resolve() for p in paths]
        try:
            stats = [p.stat() for p in resolved]
        except OSError:
            return parser(*resolved)  # the parser raises its own error naming the file
        return _parse(*((str(p), s.st_size, s.st_mtime_ns) for p, s in zip(resolved, stats)))

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
