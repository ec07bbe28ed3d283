"""Measuring a run: wall time of its stages and the process's peak resident memory while it ran."""
from __future__ import annotations

import resource
import threading
import time
from contextlib import contextmanager
from typing import Iterator


def _rss_mb() -> float | None:
    """Current resident set size of this process in MB (Linux /proc), None where unavailable."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return None


class PeakMemory:
    """Samples the process RSS every `interval` seconds on a daemon thread; `peak_mb` is the maximum seen.

    Where /proc is unavailable it falls back to the process's lifetime high-water mark (ru_maxrss).
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_mb: float = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _rss_mb() or 0.0)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        now = _rss_mb()
        if now is None:  # no /proc: lifetime maximum (KiB on Linux)
            self.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        else:
            self.peak_mb = max(self.peak_mb, now)


class Stopwatch:
    """Named stage timings: `with watch("fit"): ...` then `watch.seconds == {"fit": 1.2, ...}`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
