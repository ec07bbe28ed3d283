"""msr of a batch against a memory bank: the 4×4 Gram eigenvalues vs the per-pair 4×P SVD definition."""
from __future__ import annotations

import pytest
import torch

import workloads


@pytest.mark.parametrize("points", workloads.MSR_POINTS)
def test_msr_gram(benchmark, record, device, points):
    Wa, Wb = workloads.msr_inputs(points, device=device)
    result = benchmark.pedantic(lambda: (workloads.msr_gram(Wa, Wb), workloads.synchronize(device)),
                                rounds=5, warmup_rounds=1)
    record(points=points, pairs=Wa.shape[0] * Wb.shape[0])
    assert result[0].shape == (workloads.MSR_BATCH, workloads.MSR_BANK)


@pytest.mark.parametrize("points", workloads.MSR_POINTS)
def test_msr_svd(benchmark, record, device, points):
    Wa, Wb = workloads.msr_inputs(points, device=device)
    Wb = Wb[:workloads.MSR_SVD_BANK[points]]
    ratio = benchmark.pedantic(lambda: (workloads.msr_svd(Wa, Wb), workloads.synchronize(device))[0],
                               rounds=3, warmup_rounds=0)
    record(points=points, pairs=Wa.shape[0] * Wb.shape[0])
    # the two computations are the same quantity: the benchmark is void if they disagree
    torch.testing.assert_close(workloads.msr_gram(Wa, Wb).to(ratio.dtype), ratio, atol=1e-5, rtol=0)
