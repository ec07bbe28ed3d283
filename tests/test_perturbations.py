"""Perturbations: occlusion-like blocks (consecutive frames × skeleton / 2D neighbours), records and skips."""
import json

import numpy as np
import pytest

import components  # noqa: F401 (registers the test components)
from nrsfm_bench.cli import main
from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.method import Capabilities, Method
from nrsfm_bench.perturbations import Perturbation, add_noise, hide_blocks
from nrsfm_bench.registry import register_dataset, register_method
from nrsfm_bench.runner import RunConfig, prepare, run
from nrsfm_bench.sequence import Sequence
from nrsfm_bench.store import ResultsStore

F, P = 40, 12


def chain_sequence(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """W (F, P, 2) of points on a line, and a skeleton that links them in an order unrelated to the line."""
    rng = np.random.default_rng(seed)
    x = np.arange(P, dtype=float)
    W = np.stack([np.broadcast_to(x, (F, P)), np.zeros((F, P))], -1) + 1e-3 * rng.standard_normal((F, P, 2))
    order = rng.permutation(P)  # skeleton chain order[0] - order[1] - ... : far apart on the line
    return W, np.stack([order[:-1], order[1:]], 1)


def hidden_block(visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = ~visible
    return np.flatnonzero(hidden.any(1)), np.flatnonzero(hidden.any(0))


def test_exact_fraction_and_seeded():
    W, edges = chain_sequence()
    visible = np.ones((F, P), bool)
    a = hide_blocks(W, visible, 0.3, 5, 3, np.random.default_rng(1), edges)
    b = hide_blocks(W, visible, 0.3, 5, 3, np.random.default_rng(1), edges)
    c = hide_blocks(W, visible, 0.3, 5, 3, np.random.default_rng(2), edges)
    assert (~a).sum() == round(0.3 * F * P)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert visible.all()  # input untouched
    partly = visible.copy()
    partly[:, 0] = False
    d = hide_blocks(W, partly, 0.25, 5, 3, np.random.default_rng(1), edges)
    assert (~d).sum() - (~partly).sum() == round(0.25 * partly.sum()) and not d[:, 0].any()


@pytest.mark.parametrize("with_skeleton", [True, False])
def test_one_block_is_consecutive_frames_times_neighbouring_points(with_skeleton):
    W, edges = chain_sequence()
    L, K = 6, 4
    for seed in range(5):
        visible = hide_blocks(W, np.ones((F, P), bool), L * K / (F * P), L, K, np.random.default_rng(seed),
                              edges if with_skeleton else None)
        frames, points = hidden_block(visible)
        assert (~visible).sum() == L * K and frames.size == L and points.size == K
        assert np.array_equal(frames, np.arange(frames[0], frames[0] + L))  # consecutive
        if with_skeleton:  # a connected piece of the chain: K consecutive entries of the chain order
            order = list(edges[:, 0]) + [edges[-1, 1]]
            positions = sorted(order.index(p) for p in points)
            assert positions == list(range(positions[0], positions[0] + K))
        else:  # neighbours on the line: K consecutive x positions
            assert np.array_equal(points, np.arange(points[0], points[0] + K))


def test_skeleton_neighbours_differ_from_2d_neighbours():
    W, edges = chain_sequence(3)
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    skeleton = hidden_block(hide_blocks(W, np.ones((F, P), bool), 0.05, 4, 3, rng(), edges))[1]
    plain = hidden_block(hide_blocks(W, np.ones((F, P), bool), 0.05, 4, 3, rng(), None))[1]
    assert set(skeleton) != set(plain)


def test_record_and_key():
    assert Perturbation().to_dict() == {} and Perturbation().is_identity
    block = Perturbation(occlusion=0.2)
    assert block.to_dict() == {"occlusion": 0.2, "occlusion_frames": 10, "occlusion_points": 4}
    assert Perturbation.from_dict(block.to_dict()) == block
    assert Perturbation(occlusion_frames=3).to_dict() == {}  # block size alone changes nothing
    with pytest.raises(ValueError, match="unknown perturbation field"):
        Perturbation.from_dict({"nois": 0.1})
    with pytest.raises(ValueError, match="occlusion"):
        Perturbation(occlusion=1.0)
    base = RunConfig("test_lift", "synthetic", dataset_params={"frames": 40})
    keys = {prepare(RunConfig("test_lift", "synthetic", dataset_params={"frames": 40}, perturbation=p)).key
            for p in (Perturbation(), Perturbation(occlusion=0.2), Perturbation(occlusion=0.2, occlusion_frames=5))}
    assert len(keys) == 3 and prepare(base).key in keys


def test_occlusion_on_the_articulated_figure_follows_its_skeleton(store_dir):
    from nrsfm_bench.datasets.synthetic import Synthetic

    seq = Synthetic(kind="articulated", frames=60).load()
    perturbed = Perturbation(occlusion=0.2, occlusion_frames=8, occlusion_points=3).apply(seq, seed=0)
    assert (~perturbed.visible).sum() == round(0.2 * seq.F * seq.P)
    assert np.array_equal(perturbed.S_gt, seq.S_gt) and perturbed.meta["perturbation"]["occlusion"] == 0.2
    record, _ = run(RunConfig("tomasi_kanade", "synthetic/articulated", dataset_params={"frames": 60},
                              perturbation=Perturbation(occlusion=0.2)), ResultsStore(store_dir))
    assert record["status"] == "ok" and record["perturbation"]["occlusion_frames"] == 10
    skipped, _ = run(RunConfig("test_lift", "synthetic/articulated", dataset_params={"frames": 60},
                               perturbation=Perturbation(occlusion=0.2)), ResultsStore(store_dir))
    assert skipped["status"] == "skipped" and "missing points" in skipped["skip_reason"]


def test_run_cli_flags_record_the_occlusion(capsys, store_dir):
    status = main(["run", "--method", "tomasi_kanade", "--dataset", "synthetic", "--param", "dataset.frames=30",
                   "--occlusion", "0.1", "--occlusion-frames", "5", "--store", str(store_dir), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert status == 0 and record["perturbation"] == {"occlusion": 0.1, "occlusion_frames": 5, "occlusion_points": 4}
    status = main(["run", "--method", "tomasi_kanade", "--dataset", "synthetic", "--occlusion", "1.5",
                   "--store", str(store_dir)])
    err = capsys.readouterr().err
    assert status == 2 and "occlusion" in err and err.count("\n") == 1


@register_method("test_inductive_complete")
class CompleteOnly(Method):
    """Test inductive method without missing-data support."""

    capabilities = Capabilities(inductive=True, missing_data=False)

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    def fit(self, seq):
        return self

    def reconstruct(self, seq):
        return components.lifted(seq)


@register_dataset("test_occluded_test_frames")
class OccludedTestFrames(Dataset):
    """Test dataset whose unseen (test) frames alone have hidden points."""

    builtin = True

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    def load(self, root=None):
        S = np.random.default_rng(self.seed).standard_normal((20, 6, 3))
        visible = np.ones((20, 6), bool)
        visible[15:, 0] = False
        return Sequence(W=S[..., :2], visible=visible, S_gt=S, split=np.array(["train"] * 15 + ["test"] * 5),
                        name="test_occluded_test_frames")


def test_inductive_method_is_skipped_when_unseen_frames_have_missing_points(store_dir):
    record, _ = run(RunConfig("test_inductive_complete", "test_occluded_test_frames"), ResultsStore(store_dir))
    assert record["status"] == "skipped" and "missing points" in record["skip_reason"]


NOISE_HASH = """
import hashlib, numpy as np
from nrsfm_bench.perturbations import add_noise
W = np.random.default_rng(0).standard_normal((400, 50, 2))
print(hashlib.sha256(add_noise(W, np.ones((400, 50), bool), 0.1, np.random.default_rng(1)).tobytes()).hexdigest())
"""


def test_noise_is_bit_identical_whatever_the_blas_thread_count():
    """Checkpoints and run fingerprints hash W: the noisy W must not depend on the thread count."""
    import os
    import subprocess
    import sys

    hashes = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        hashes.add(subprocess.run([sys.executable, "-c", NOISE_HASH], env=env, capture_output=True, text=True,
                                  check=True).stdout)
    assert len(hashes) == 1
    W = np.random.default_rng(0).standard_normal((30, 8, 2))
    noisy = add_noise(
        W, np.ones((30, 8), bool), 0.1, np.random.default_rng(1))
    assert np.linalg.norm(noisy - W) / np.linalg.norm(W) == pytest.approx(0.1, rel=1e-12)
