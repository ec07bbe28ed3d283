"""Each classical baseline (default parameters) on a 1,000- and a 10,000-frame synthetic sequence (31 points)."""
from __future__ import annotations

import pytest

import workloads


@pytest.mark.parametrize("frames", workloads.BASELINE_FRAMES)
@pytest.mark.parametrize("method", workloads.BASELINES)
def test_baseline_fit(benchmark, record, method, frames):
    workloads.lowrank_sequence(frames)  # build the data outside the timer
    fitted = benchmark.pedantic(lambda: workloads.fit_baseline(method, frames), rounds=3, warmup_rounds=0)
    record(method=method, frames=frames)
    assert fitted.result_.S.shape == (frames, 31, 3)
