"""PR-RRN (`paper` profile: batch 64, N_mem 1024) on the dense sheet: one step and one epoch of 2000 frames."""
from __future__ import annotations

import functools

import pytest

import workloads


@functools.lru_cache(maxsize=1)
def _trainer(points: int, device: str):
    run = workloads.trainer(points, device=device)
    workloads.fill_bank(run)
    return run


@pytest.mark.parametrize("phase", ["contrast", "consist"])
@pytest.mark.parametrize("points", workloads.TRAIN_POINTS)
def test_training_step(benchmark, record, device, points, phase):
    run = _trainer(points, device)
    out = benchmark.pedantic(lambda: (workloads.training_step(run, phase), workloads.synchronize(device))[0],
                             rounds=5, warmup_rounds=1)
    record(points=points, phase=phase, batch=run.config.batch_size, bank=run.bank.size)
    assert out["total"] == out["total"]  # finite, not NaN


@pytest.mark.parametrize("phase", ["contrast", "consist"])
@pytest.mark.parametrize("points", workloads.TRAIN_POINTS)
def test_training_epoch(benchmark, record, device, points, phase):
    run = _trainer(points, device)
    out = benchmark.pedantic(lambda: (workloads.training_epoch(run, phase), workloads.synchronize(device))[0],
                             rounds=2 if points >= 5000 else 3, warmup_rounds=0)
    record(points=points, phase=phase, frames=workloads.TRAIN_FRAMES)
    assert out["reproj"] == out["reproj"]
