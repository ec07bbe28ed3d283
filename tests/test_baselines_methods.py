"""Every classical method: exact recovery of matching-rank synthetic data, determinism, K choice, memory guard."""
import numpy as np
import pytest

from nrsfm_bench.baselines.basis_size import choose_K
from nrsfm_bench.baselines.pta import dct_basis
from nrsfm_bench.datasets.synthetic import Synthetic
from nrsfm_bench.errors import MethodFailure
from nrsfm_bench.evaluation import evaluate
from nrsfm_bench.geometry import center_masked, project, random_rotations
from nrsfm_bench.registry import METHODS
from nrsfm_bench.sequence import Sequence

BASELINES = ("tomasi_kanade", "flat", "em_ppca", "bmm", "pta")


def _method(name, **params):
    return METHODS.resolve(name)[0].cls(**params)


def _e3d(result, seq, preset="dnrsfm"):
    return evaluate(result.S, seq.S_gt, seq.visible, M_pred=result.M, W=seq.W, preset=preset).e3d


def trajectory_sequence(frames=120, points=20, K=3, missing=0.0, seed=0):
    """Points whose trajectories lie exactly in the first K DCT vectors, seen by independent random cameras
    (fast camera motion: Akhter et al.'s reconstructibility is best when it is uncorrelated with the points')."""
    rng = np.random.default_rng(seed)
    coefficients = rng.standard_normal((K, points, 3)) * np.array([4.0] + [1.0] * (K - 1))[:, None, None]
    S = center_masked(np.einsum("fk,kpj->fpj", dct_basis(frames, K) * np.sqrt(frames), coefficients))
    M = random_rotations(frames, rng)[:, :2]
    visible = rng.random((frames, points)) >= missing
    return Sequence(W=project(S, M), visible=visible, S_gt=S, M_gt=M, name="trajectory", ordered=True,
                    meta={"K": K})


@pytest.fixture(scope="module")
def lowrank():
    return Synthetic(K=3, frames=200, points=25).load()


@pytest.mark.parametrize("name", ["em_ppca", "bmm"])
def test_shape_basis_methods_recover_matching_rank_data(name, lowrank):
    result = _method(name).fit(lowrank.observations()).result_
    assert result.info["K"] == 3 and result.info["K_source"].startswith("dataset meta")
    assert _e3d(result, lowrank) < 1e-3
    assert _e3d(result, lowrank, "akhter") < 1e-3


def test_pta_recovers_trajectories_in_its_dct_basis():
    seq = trajectory_sequence()
    result = _method("pta").fit(seq.observations()).result_
    assert _e3d(result, seq) < 1e-3
    assert _e3d(result, seq, "akhter") < 1e-3
    # the same method on shapes whose trajectories are not in the basis is clearly worse
    other = Synthetic(K=3, frames=200).load()
    assert _e3d(_method("pta", K=3).fit(other.observations()).result_, other) > 0.05


@pytest.mark.parametrize("name", ["em_ppca", "bmm", "pta"])
def test_methods_handle_missing_points(name):
    seq = trajectory_sequence(missing=0.2) if name == "pta" else Synthetic(K=2, frames=200, missing=0.2).load()
    result = _method(name).fit(seq.observations()).result_
    assert _e3d(result, seq) < 1e-2


def test_bmm_pseudo_inverse_shape_is_the_weaker_option(lowrank):
    pinv = _method("bmm", shape="pinv").fit(lowrank.observations()).result_
    assert _e3d(pinv, lowrank) > 0.1
    with pytest.raises(ValueError, match="shape must be one of"):
        _method("bmm", shape="svd")


@pytest.mark.parametrize("name", BASELINES)
def test_deterministic_under_a_seed(name):
    seq = Synthetic(K=2, frames=80, noise=0.02, missing=0.1, seed=3).load()
    params = {**METHODS.resolve(name)[0].cls.test_parameters, "seed": 7}
    first = _method(name, **params).fit(seq.observations()).result_
    second = _method(name, **params).fit(seq.observations()).result_
    # equal up to last-bit differences of BLAS results (OpenBLAS kernels may sum in another order run to run)
    scale = np.abs(first.S).max()
    assert np.allclose(first.S, second.S, rtol=0, atol=1e-7 * scale) and np.allclose(first.M, second.M, atol=1e-7)
    assert first.S.shape == (80, seq.P, 3) and np.isfinite(first.S).all()


def test_pta_is_skipped_on_orderless_data():
    seq = Synthetic(frames=30).load().replace(ordered=False)
    skip, reason = _method("pta").skip(seq)
    assert skip and "temporal order" in reason
    assert _method("bmm").skip(seq) == (False, "")


def test_choose_K_order_of_preference():
    seq = Synthetic(K=4, frames=30).load()
    assert choose_K("bmm", seq, None) == (4, "dataset meta (rank_of_W / 3)")
    assert choose_K("bmm", seq, 2) == (2, "parameter")
    drink_like = seq.replace(name="classic/drink", meta={"K": 13})
    K, source = choose_K("bmm", drink_like, None)
    assert K == 10 and "Dai" in source            # published 12, capped by P = 31 points: (31 − 1) // 3
    assert choose_K("pta", drink_like, None) == (10, "dataset meta (K)")
    assert choose_K("bmm", seq.replace(meta={}), None) == (5, "rule")
    with pytest.raises(MethodFailure, match="K=40 does not fit"):
        choose_K("bmm", seq, 40)


@pytest.mark.parametrize("name", ["tomasi_kanade", "em_ppca", "bmm", "pta"])
def test_memory_guard_stops_before_allocating(name, monkeypatch):
    monkeypatch.setenv("NRSFM_BENCH_MAX_MEMORY_GB", "0.0001")
    seq = Synthetic(K=2, frames=2000).load()
    with pytest.raises(MethodFailure, match=rf"{name} would need about .* MiB .*; the limit is 0 MiB"):
        _method(name).fit(seq.observations())


@pytest.mark.realdata
def test_bmm_reproduces_dai_on_drink(data_root):
    from nrsfm_bench.registry import DATASETS

    entry, params = DATASETS.resolve("classic/drink")
    seq = entry.cls(**params).load(data_root)
    result = _method("bmm", K=12).fit(seq.observations()).result_
    assert abs(_e3d(result, seq, "akhter") - 0.0266) < 0.1 * 0.0266
