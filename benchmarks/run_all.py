"""Every performance benchmark in one process, printed as Markdown tables of medians and of ratios measured in
this run (so that a loaded or a different machine still gives comparable ratios).

    python benchmarks/run_all.py [--only msr,training,memory,threads,evaluator,baselines] [--repeats 3]
                                 [--threads 1] [--device auto|cpu|cuda]

Sections (sizes in benchmarks/workloads.py):
- msr: a batch of 64 frames against a memory bank of 1024 (the `paper` profile), P = 31, 500, 5000: the 4×4
  Gram eigenvalues (`rigidity.msr`) vs the 4×P SVD of every stacked pair, time per pair and their ratio.
- training: PR-RRN (`paper` profile) on the dense sheet of 2000 frames: one step and one epoch in each loss
  phase at P = 31, 500, 5000, and time per point relative to P = 31 (≤ 1: linear or better).
- memory: extra resident memory of one msr call and of one training step at each P, and of `evaluate_presets`
  on 2000 frames × 5000 points (fresh process each).
- threads: one training step at P = 5000 with 1 and with 2 torch threads.
- evaluator: `evaluate` (default preset) and `evaluate_presets` (all three) on 100,000 frames × 31 points.
- baselines: each classical method on a 1,000- and a 10,000-frame sequence (31 points), and their ratio.
Each row shows the load average (`uptime`) when it was measured. The evaluator and the baselines are NumPy
(CPU) whatever `--device` says.
"""
from __future__ import annotations

import argparse
import os
import sys

SECTIONS = ("msr", "training", "memory", "threads", "evaluator", "baselines")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median shown)")
    parser.add_argument("--threads", type=int, default=1, help="torch / BLAS threads (default 1)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # BLAS reads these when NumPy is first imported: set them before any import below
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = str(ARGS.threads)
    os.environ["NRSFM_BENCH_DEVICE"] = ARGS.device

import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import workloads as wl  # noqa: E402


def row(*cells) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def header(title: str, *columns: str) -> None:
    print(f"\n### {title}\n", flush=True)
    row(*columns)
    row(*("---" for _ in columns))


def machine() -> None:
    import torch

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; commit {commit}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; GPU {gpu}; device {wl.device_name()}; threads {ARGS.threads}; "
          f"torch {torch.__version__}, numpy {np.__version__}; repeats {ARGS.repeats} (medians); "
          f"load at start {wl.load_average()}")


def msr_section(device: str) -> None:
    header("msr: 4×4 Gram eigenvalues vs the 4×P SVD of every stacked pair (batch 64 × bank; time per pair)",
           "P", "Gram pairs", "Gram µs/pair", "batched SVD pairs", "batched SVD µs/pair", "batched SVD / Gram",
           "loop SVD µs/pair (64×4)", "loop SVD / Gram", "max |Δmsr|", "load")
    from nrsfm_bench.methods.pr_rrn.rigidity import msr_svd as msr_svd_loop

    for P in wl.MSR_POINTS:
        Wa, Wb = wl.msr_inputs(P, device=device)
        Wb_svd = Wb[:wl.MSR_SVD_BANK[P]]
        gram = wl.median_seconds(lambda: wl.msr_gram(Wa, Wb), ARGS.repeats, device) / (Wa.shape[0] * Wb.shape[0])
        svd = wl.median_seconds(lambda: wl.msr_svd(Wa, Wb_svd), ARGS.repeats, device, warmup=0)
        svd /= Wa.shape[0] * Wb_svd.shape[0]
        loop = np.nan
        if device == "cpu":  # rigidity.msr_svd: the reference definition, one SVD call per pair in Python
            loop = wl.median_seconds(lambda: msr_svd_loop(Wa, Wb[:4]), ARGS.repeats, device, warmup=0)
            loop /= Wa.shape[0] * 4
        gap = float((wl.msr_gram(Wa, Wb_svd).to(Wa.dtype) - wl.msr_svd(Wa, Wb_svd)).abs().max())
        row(P, f"{Wa.shape[0]}×{Wb.shape[0]}", f"{gram * 1e6:.3f}", f"{Wa.shape[0]}×{Wb_svd.shape[0]}",
            f"{svd * 1e6:.2f}", f"**{svd / gram:.0f}×**", f"{loop * 1e6:.1f}", f"{loop / gram:.0f}×",
            f"{gap:.1e}", wl.load_average())


def training_section(device: str) -> None:
    header(f"PR-RRN training (`paper` profile, sheet, {wl.TRAIN_FRAMES} frames)",
           "P", "measure", "seconds", "÷ time at P=31", "÷ (P/31): time per point vs P=31", "load")
    base: dict[str, float] = {}
    for P in wl.TRAIN_POINTS:
        run = wl.trainer(P, device=device)
        wl.fill_bank(run)
        for phase in ("contrast", "consist"):
            for what, call, repeats in (("step", wl.training_step, ARGS.repeats),
                                        ("epoch", wl.training_epoch, 1 if P >= 5000 else ARGS.repeats)):
                seconds = wl.median_seconds(lambda: call(run, phase), repeats, device)
                key = f"{what} ({phase})"
                base.setdefault(key, seconds)
                ratio = seconds / base[key]
                row(P, key, f"{seconds:.4f}", f"{ratio:.1f}", f"{ratio / (P / wl.TRAIN_POINTS[0]):.3f}",
                    wl.load_average())
        del run


_MEMORY_CODE = """
import json, os, torch
import workloads as wl
from nrsfm_bench.resources import PeakMemory, _rss_mb
torch.set_num_threads({threads})
P, what = {points}, {what!r}
if what == "evaluate_presets":
    from nrsfm_bench.evaluation.metrics import evaluate_presets
    inputs = wl.evaluator_inputs(frames=wl.TRAIN_FRAMES, points=P)
    call = lambda: evaluate_presets(**inputs)
elif what == "msr":
    Wa, Wb = wl.msr_inputs(P)
    call = lambda: wl.msr_gram(Wa, Wb)
else:
    run = wl.trainer(P)
    wl.fill_bank(run)
    call = lambda: wl.training_step(run, "consist" if what == "consist step" else "contrast")
call()
before = _rss_mb()
with PeakMemory(0.002) as peak:
    for _ in range(3):
        call()
print(json.dumps({{"before": before, "peak": peak.peak_mb}}))
"""


def memory_section(device: str) -> None:
    if device != "cpu":
        import torch
        header("extra memory (CUDA: torch.cuda.max_memory_allocated)", "P", "what", "MB", "MB per 1000 points",
               "load")
        for P in wl.TRAIN_POINTS:
            run = wl.trainer(P, device=device)
            wl.fill_bank(run)
            for phase in ("contrast", "consist"):
                wl.training_step(run, phase)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                wl.training_step(run, phase)
                extra = (torch.cuda.max_memory_allocated() - base) / 2**20
                row(P, f"{phase} step", f"{extra:.1f}", f"{extra / P * 1000:.2f}", wl.load_average())
            del run
        return
    header("extra resident memory of one call (fresh process per row; RSS sampled every 2 ms)",
           "P", "what", "MB", "MB per 1000 points", "load")
    for what in ("msr", "contrast step", "consist step", "evaluate_presets"):
        for P in (wl.MSR_POINTS if what == "msr" else (5000,) if what == "evaluate_presets" else wl.TRAIN_POINTS):
            out = json.loads(wl.in_subprocess(_MEMORY_CODE.format(threads=ARGS.threads, points=P, what=what)))
            extra = max(out["peak"] - out["before"], 0.0)
            label = {"msr": f"msr {wl.MSR_BATCH}×{wl.MSR_BANK}",
                     "evaluate_presets": f"evaluate_presets, {wl.TRAIN_FRAMES} frames"}.get(what, what)
            row(P, label, f"{extra:.1f}", f"{extra / P * 1000:.2f}", wl.load_average())


def threads_section(device: str) -> None:
    import torch

    if device != "cpu":
        return
    header("torch threads on this machine: one training step at P = 5000", "phase", "1 thread s", "2 threads s",
           "2 threads / 1 thread", "load")
    run = wl.trainer(5000, device=device)
    wl.fill_bank(run)
    before = torch.get_num_threads()
    for phase in ("contrast", "consist"):
        seconds = {}
        for count in (1, 2):
            torch.set_num_threads(count)
            seconds[count] = wl.median_seconds(lambda: wl.training_step(run, phase), ARGS.repeats)
        row(phase, f"{seconds[1]:.3f}", f"{seconds[2]:.3f}", f"{seconds[2] / seconds[1]:.2f}", wl.load_average())
    torch.set_num_threads(before)


def evaluator_section(device: str) -> None:
    from nrsfm_bench.evaluation.metrics import evaluate, evaluate_presets

    inputs = wl.evaluator_inputs()
    header(f"evaluator: {wl.EVAL_FRAMES:,} frames × {wl.EVAL_POINTS} points (NumPy)",
           "call", "wall s (median)", "CPU s (median)", "under 1 s", "load")
    calls = (("evaluate(S_pred, S_gt) [dnrsfm]", lambda: evaluate(inputs["S_pred"], inputs["S_gt"])),
             ("evaluate(..., M_pred, W, M_gt) [dnrsfm]", lambda: evaluate(**inputs)),
             ("evaluate_presets(..., M_pred, W, M_gt) [all 3]", lambda: evaluate_presets(**inputs)))
    for label, call in calls:
        call()
        walls, cpus = [], []
        for _ in range(max(ARGS.repeats, 5)):
            wall, cpu = time.perf_counter(), time.process_time()
            call()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        wall = float(np.median(walls))
        row(label, f"{wall:.3f}", f"{np.median(cpus):.3f}", "yes" if wall < 1 else "no", wl.load_average())


def baselines_section(device: str) -> None:
    a, b = wl.BASELINE_FRAMES
    header("classical baselines (default parameters; synthetic K = 3, 31 points)",
           "method", f"{a:,} frames s", f"{b:,} frames s", f"{b:,} / {a:,}", "load")
    for method in wl.BASELINES:
        seconds = {}
        for frames in wl.BASELINE_FRAMES:
            wl.lowrank_sequence(frames)
            seconds[frames] = wl.median_seconds(lambda: wl.fit_baseline(method, frames), ARGS.repeats, warmup=0)
        row(method, f"{seconds[a]:.3f}", f"{seconds[b]:.3f}", f"{seconds[b] / seconds[a]:.1f}", wl.load_average())


def main() -> int:
    wl.limit_threads(ARGS.threads)
    machine()
    device = wl.device_name()
    chosen = ARGS.only.split(",")
    for name in SECTIONS:
        if name in chosen:
            globals()[f"{name}_section"](device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
