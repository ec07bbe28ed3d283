"""Memory guard of the classical methods: estimate a solve's peak need and stop before allocating it.

The limit is `$NRSFM_BENCH_MAX_MEMORY_GB` when set, else half of the machine's physical memory. It is an
execution setting, not a method parameter, so it does not change a run's configuration hash.
"""
from __future__ import annotations

import os

from nrsfm_bench.errors import MethodFailure

ENV_VAR = "NRSFM_BENCH_MAX_MEMORY_GB"
FLOAT = 8  # bytes per float64


def memory_limit_bytes() -> int:
    """The most memory a classical solve may plan to use, in bytes."""
    value = os.environ.get(ENV_VAR)
    if value:
        try:
            return int(float(value) * 2 ** 30)
        except ValueError:
            raise MethodFailure(f"${ENV_VAR}={value!r} is not a number of GiB") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def require_memory(method: str, need_bytes: float, detail: str) -> None:
    """Raise MethodFailure, before anything is allocated, when `need_bytes` exceeds the limit.

    Args:
        method: the method's registry name.
        need_bytes: the estimated peak memory of the solve.
        detail: what dominates the need (e.g. "the 20000 x 36 motion matrix and 31 SVDs of ...").
    """
    limit = memory_limit_bytes()
    if need_bytes > limit:
        raise MethodFailure(f"{method} would need about {_size(need_bytes)} ({detail}); the limit is "
                            f"{_size(limit)} (set ${ENV_VAR} to change it)")


def _size(n_bytes: float) -> str:
    """A byte count for people: MiB below 1 GiB, GiB above."""
    return f"{n_bytes / 2 ** 30:.1f} GiB" if n_bytes >= 2 ** 30 else f"{n_bytes / 2 ** 20:.0f} MiB"
