"""The evaluator on 100,000 frames × 31 points: `evaluate` (default preset) and `evaluate_presets` (all three)."""
from __future__ import annotations

import numpy as np
import pytest

import workloads
from nrsfm_bench.evaluation.metrics import evaluate, evaluate_presets


@pytest.fixture(scope="module")
def inputs() -> dict:
    return workloads.evaluator_inputs()


def test_evaluate_default_preset(benchmark, record, inputs):
    result = benchmark.pedantic(lambda: evaluate(inputs["S_pred"], inputs["S_gt"]), rounds=5, warmup_rounds=1)
    record(frames=workloads.EVAL_FRAMES, points=workloads.EVAL_POINTS)
    assert np.isfinite(result.e3d) and result.frames_scored == workloads.EVAL_FRAMES


def test_evaluate_default_preset_with_cameras(benchmark, record, inputs):
    result = benchmark.pedantic(lambda: evaluate(**inputs), rounds=5, warmup_rounds=1)
    record(frames=workloads.EVAL_FRAMES, points=workloads.EVAL_POINTS)
    assert result.reprojection is not None


def test_evaluate_presets_all(benchmark, record, inputs):
    results = benchmark.pedantic(lambda: evaluate_presets(**inputs), rounds=5, warmup_rounds=1)
    record(frames=workloads.EVAL_FRAMES, points=workloads.EVAL_POINTS, presets=sorted(results))
    assert len(results) == 3
