"""Workloads shared by the pytest-benchmark files (benchmarks/test_*.py) and benchmarks/run_all.py.

Each builder makes its inputs from a fixed seed and returns them; the timed calls are the plain functions below.
Sizes are module constants so the docs, the tests and the script name the same thing. The device is
`NRSFM_BENCH_DEVICE` (auto | cpu | cuda; auto: CUDA when torch sees one, else CPU).
"""
from __future__ import annotations

import functools
import os
import resource
import subprocess
import sys
import time
from typing import Callable

import numpy as np

#: msr: a batch of B frames against a memory bank of N_mem frames (the `paper` profile's 64 and 1024)
MSR_BATCH, MSR_BANK = 64, 1024
MSR_POINTS = (31, 500, 5000)
#: the SVD definition is timed on the first MSR_SVD_BANK bank frames only at P ≥ 500 (each pair is an
#: independent SVD, so its time per pair does not depend on how many pairs there are); at P = 31 on all of them
MSR_SVD_BANK = {31: MSR_BANK, 500: 256, 5000: 64}
TRAIN_POINTS = (31, 500, 5000)
#: frames of the training sequence for one step and one epoch (the dense run's size)
TRAIN_FRAMES = 2000
EVAL_FRAMES, EVAL_POINTS = 100_000, 31
BASELINES = ("tomasi_kanade", "flat", "em_ppca", "bmm", "pta")
BASELINE_FRAMES = (1000, 10_000)


# ----------------------------------------------------------------------------------------------- machine
def limit_threads(count: int) -> None:
    """Use `count` threads in torch and (for processes started afterwards) in BLAS/OpenMP."""
    import torch

    torch.set_num_threads(count)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(count)


def device_name() -> str:
    """The torch device the benchmarks run on ("cpu" or "cuda")."""
    from nrsfm_bench.methods.pr_rrn.training import resolve_device

    return resolve_device(os.environ.get("NRSFM_BENCH_DEVICE", "auto")).type


def synchronize(device: str) -> None:
    """Wait for queued CUDA work, so a timer sees its cost (no-op on the CPU)."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages (`uptime`), to print beside each measurement."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def median_seconds(call: Callable[[], object], repeats: int, device: str = "cpu", warmup: int = 1) -> float:
    """Median wall time of `call()` over `repeats` runs after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux ru_maxrss), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_subprocess(code: str) -> str:
    """Run `code` in a fresh Python (same interpreter and environment); returns its last line of stdout."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.abspath(__file__)))
    return result.stdout.strip().splitlines()[-1]


# ----------------------------------------------------------------------------------------------- msr
def msr_inputs(points: int, batch: int = MSR_BATCH, bank: int = MSR_BANK, device: str = "cpu", seed: int = 0):
    """A batch and a bank of 2D frames of a random rigid-or-not scene: `Wa (batch, P, 2)`, `Wb (bank, P, 2)`
    float32 (the training dtype): orthographic views of a few random 3D shapes, so that msr spans [0, 0.25]."""
    import torch

    from nrsfm_bench.geometry import cameras_from_rotations, project, random_rotations

    rng = np.random.default_rng(seed)
    shapes = rng.standard_normal((4, points, 3))
    frames = batch + bank
    S = shapes[rng.integers(0, 4, frames)] + 0.05 * rng.standard_normal((frames, points, 3))
    W = project(S, cameras_from_rotations(random_rotations(frames, rng)))
    W = torch.as_tensor(W, dtype=torch.float32, device=device)
    return W[:batch].contiguous(), W[batch:].contiguous()


def msr_gram(Wa, Wb):
    """msr of every pair from the 4×4 Gram eigenvalues (what training uses): (A, B) ratios."""
    from nrsfm_bench.methods.pr_rrn.rigidity import msr

    return msr(Wa, Wb)[0]


def msr_svd(Wa, Wb, pairs_per_chunk: int = 256):
    """The paper's definition, batched as well as it can be: for every pair, stack the two frames into `A`
    (4 × P), centre its rows and take `σ₄² / Σ σ_l²` from a 4 × P SVD. Complete data only.

    Args:
        Wa: (A, P, 2); Wb: (B, P, 2).
    Returns:
        (A, B) msr in Wa's dtype.
    """
    import torch

    A, P, _ = Wa.shape
    B = Wb.shape[0]
    ia, ib = torch.meshgrid(torch.arange(A, device=Wa.device), torch.arange(B, device=Wa.device), indexing="ij")
    ia, ib = ia.reshape(-1), ib.reshape(-1)
    out = torch.empty(A * B, dtype=Wa.dtype, device=Wa.device)
    for start in range(0, A * B, pairs_per_chunk):
        a, b = ia[start:start + pairs_per_chunk], ib[start:start + pairs_per_chunk]
        stacked = torch.cat([Wa[a].transpose(1, 2), Wb[b].transpose(1, 2)], 1)          # (n, 4, P)
        stacked = stacked - stacked.mean(2, keepdim=True)
        sigma2 = torch.linalg.svdvals(stacked) ** 2                                    # (n, 4) descending
        out[start:start + pairs_per_chunk] = sigma2[:, 3] / sigma2.sum(1)
    return out.reshape(A, B)


# ----------------------------------------------------------------------------------------------- training
@functools.lru_cache(maxsize=4)
def sheet_sequence(points: int, frames: int = TRAIN_FRAMES, seed: int = 0):
    """The dense synthetic sheet (`synthetic/sheet`) with `points` points and `frames` random views."""
    from nrsfm_bench.datasets.synthetic import Synthetic

    return Synthetic(kind="sheet", frames=frames, points=points, seed=seed).load()


def trainer(points: int, frames: int = TRAIN_FRAMES, device: str = "cpu", **overrides):
    """A PR-RRN `_Trainer` with the `paper` profile (batch 64, N_mem 1024) on the sheet, ready to step.

    `overrides` replace profile values (e.g. `epochs`). The contrastive phase is epoch 0, the consistency
    phase epoch `alternate_every` (100).
    """
    from nrsfm_bench.method import RunContext
    from nrsfm_bench.methods.pr_rrn import PRRRN, training

    seq = sheet_sequence(points, frames)
    config = PRRRN(profile="paper", threads=None, **overrides).config_for(seq.name)
    return training._Trainer(config, seq.W, seq.visible, RunContext(device=device), fingerprint="")


def fill_bank(run) -> None:
    """Push the representations of the first N_mem frames, so the contrastive step sees a full bank."""
    import torch

    with torch.no_grad():
        index = torch.arange(min(run.bank.size, run.W.shape[0]), device=run.W.device)
        run.bank.push(torch.nn.functional.normalize(run.shape_net(run.W[index])[1], dim=1), index)


def training_step(run, phase: str) -> dict:
    """One optimisation step on the first batch (`phase`: "contrast" or "consist")."""
    import torch

    index = torch.arange(run.config.batch_size, device=run.W.device)
    return run._step(index, phase == "contrast", phase == "consist")


def training_epoch(run, phase: str) -> dict:
    """One epoch over every frame in the given phase (the learning rate of epoch 0 or 100)."""
    return run._epoch(0 if phase == "contrast" else run.config.alternate_every)


# ----------------------------------------------------------------------------------------------- evaluator
def evaluator_inputs(frames: int = EVAL_FRAMES, points: int = EVAL_POINTS, seed: int = 0) -> dict:
    """Prediction, ground truth, cameras and 2D data of `frames` random frames: keyword arguments of
    `evaluate(S_pred, S_gt, M_pred=..., W=..., M_gt=...)`."""
    from nrsfm_bench.geometry import cameras_from_rotations, project, random_rotations

    rng = np.random.default_rng(seed)
    S_gt = rng.standard_normal((frames, points, 3))
    S_pred = S_gt @ random_rotations(frames, rng) + 0.05 * rng.standard_normal((frames, points, 3))
    M = cameras_from_rotations(random_rotations(frames, rng))
    return dict(S_pred=S_pred, S_gt=S_gt, M_pred=M, W=project(S_gt, M), M_gt=M)


# ----------------------------------------------------------------------------------------------- baselines
@functools.lru_cache(maxsize=2)
def lowrank_sequence(frames: int, seed: int = 0):
    """The default synthetic sequence (low rank K = 3, 31 points, random cameras) with `frames` frames."""
    from nrsfm_bench.datasets.synthetic import Synthetic

    return Synthetic(frames=frames, seed=seed).load()


def fit_baseline(name: str, frames: int):
    """Fit the registered classical method `name` (its default parameters) on `lowrank_sequence(frames)`."""
    from nrsfm_bench.registry import METHODS

    entry, params = METHODS.resolve(name)
    return entry.cls(**params).fit(lowrank_sequence(frames))
