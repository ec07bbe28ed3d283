"""Profile of one PR-RRN `paper`-profile epoch (torch.profiler): epoch medians and the top operators by self time.

    python benchmarks/profile_epoch.py [--dataset classic/drink] [--data-dir DIR] [--epochs 5] [--top 15]
                                      [--threads 1] [--device auto|cpu|cuda]

Builds the trainer exactly as `nrsfm-bench run --method pr_rrn --param method.profile=paper` does, times
`--epochs` epochs of each loss phase (contrastive: epoch 0, consistency: epoch 100) and prints their medians,
then profiles one more epoch of each phase and prints the operators with the largest self time, and the share
of the epoch spent in the optimizer step, the backward pass and the forward pass. Without the real data
(`NRSFM_BENCH_DATA`), use `--dataset synthetic` (1000 frames) or `synthetic/sheet`.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="classic/drink")
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per phase (median shown)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--compare-adam", action="store_true",
                        help="instead: epochs with fused Adam (the trainer's) and with torch's per-parameter loop "
                             "(fused=False, the former default), interleaved in one process; medians and ratio")
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile

    from nrsfm_bench.data_root import resolve_data_root
    from nrsfm_bench.method import RunContext
    from nrsfm_bench.methods.pr_rrn import PRRRN, training
    from nrsfm_bench.registry import DATASETS

    torch.set_num_threads(args.threads)
    entry, params = DATASETS.resolve(args.dataset)
    if args.dataset.startswith("synthetic"):
        params = {"frames": 1000, **params}
    seq = entry.cls(**params).load(None if entry.cls.builtin else resolve_data_root(args.data_dir)[0])
    config = PRRRN(profile="paper").config_for(seq.name)
    run = training._Trainer(config, seq.W, seq.visible, RunContext(device=args.device), fingerprint="")
    device = run.device.type
    print(f"{args.dataset}: F={seq.F} P={seq.P}; paper profile (batch {config.batch_size}, N_mem "
          f"{config.memory_size}, T={config.recursions}); device {device}, {args.threads} thread(s); "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    if args.compare_adam:
        compare_adam(run, config, seq, args)
        return
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    for phase, epoch in (("contrastive", 0), ("consistency", config.alternate_every)):
        run._epoch(epoch)  # warm-up (fills the memory bank)
        seconds = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            run._epoch(epoch)
            if device == "cuda":
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - start)
        with profile(activities=activities) as prof:
            run._epoch(epoch)
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        share = {label: next((e.cpu_time_total for e in events if e.key == key), 0.0) / total
                 for label, key in (("optimizer step", "Optimizer.step#Adam.step"),
                                    ("zero_grad", "Optimizer.zero_grad#Adam.zero_grad"))}
        print(f"\n{phase} phase: epoch median {np.median(seconds):.3f} s over {args.epochs} "
              f"(min {min(seconds):.3f}); under the profiler: optimizer step {share['optimizer step']:.0%} "
              f"of self time, zero_grad {share['zero_grad']:.0%}")
        print(events.table(sort_by="self_cpu_time_total", row_limit=args.top, max_name_column_width=48))


def compare_adam(fused_run, config, seq, args) -> None:
    """Median epoch of two identical trainers, one with fused Adam and one with the per-parameter loop."""
    import torch

    from nrsfm_bench.method import RunContext
    from nrsfm_bench.methods.pr_rrn import training

    loop_run = training._Trainer(config, seq.W, seq.visible, RunContext(device=args.device), fingerprint="")
    loop_run.optimizer = torch.optim.Adam([*loop_run.shape_net.parameters(), *loop_run.rotation_net.parameters()],
                                          lr=config.lr, fused=False)
    runs = {"fused": fused_run, "loop": loop_run}
    for phase, epoch in (("contrastive", 0), ("consistency", config.alternate_every)):
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for run in runs.values():
            run._epoch(epoch)
        for _ in range(args.epochs):
            for name, run in runs.items():
                start = time.perf_counter()
                run._epoch(epoch)
                seconds[name].append(time.perf_counter() - start)
        fused, loop = (float(np.median(seconds[name])) for name in ("fused", "loop"))
        print(f"{phase} phase: Adam loop {loop:.3f} s, fused {fused:.3f} s per epoch (medians of {args.epochs}, "
              f"interleaved); fused / loop {fused / loop:.2f}; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
