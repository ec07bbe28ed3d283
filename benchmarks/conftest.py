"""Settings of the pytest-benchmark suite: thread count, device, and the load average beside every result.

Run with `pytest benchmarks --benchmark-enable` (the repository's pytest config disables benchmarks and
collects only tests/ by default). `NRSFM_BENCH_THREADS` (default 1, see docs/performance.md) sets torch's thread count;
`NRSFM_BENCH_DEVICE` (auto | cpu | cuda) the torch device.
"""
from __future__ import annotations

import os

import pytest

import workloads

THREADS = int(os.environ.get("NRSFM_BENCH_THREADS", "1"))


@pytest.fixture(scope="session", autouse=True)
def _threads() -> None:
    workloads.limit_threads(THREADS)


@pytest.fixture(scope="session")
def device() -> str:
    return workloads.device_name()


@pytest.fixture
def record(benchmark, device):
    """`record(**facts)` adds facts to this benchmark's extra_info, with the device, threads and load."""
    benchmark.extra_info.update(device=device, threads=THREADS, load=workloads.load_average())

    def add(**facts) -> None:
        benchmark.extra_info.update(facts)

    return add
