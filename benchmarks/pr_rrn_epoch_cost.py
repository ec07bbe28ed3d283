"""Cost of one PR-RRN training epoch per loss phase, to plan experiments (all numbers from one process).

    python benchmarks/pr_rrn_epoch_cost.py [--frames 2000] [--points 31] [--batch-size 64] [--memory 1024]

Trains 2 epochs of each phase (reprojection only, + contrastive, + consistency) on synthetic low-rank data and
prints seconds per epoch and per frame, the one-off time of the all-pairs msr table, and the contrastive epoch
when the msr is computed at every step instead (what happens above MSR_TABLE_MAX_FRAMES frames).
"""
from __future__ import annotations

import argparse
import time

from nrsfm_bench.datasets.synthetic import Synthetic
from nrsfm_bench.method import RunContext
from nrsfm_bench.methods.pr_rrn import training
from nrsfm_bench.methods.pr_rrn.profiles import resolve


def _epoch_seconds(trainer: "training._Trainer", epochs: int = 2) -> float:
    start = time.perf_counter()
    for epoch in range(epochs):
        trainer._epoch(epoch)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--points", type=int, default=31)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--memory", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    seq = Synthetic(frames=args.frames, points=args.points).load()
    print(f"synthetic F={seq.F} P={seq.P}, batch {args.batch_size}, N_mem {args.memory}, {args.threads} thread(s)")
    print(f"{'phase':34} {'s/epoch':>9} {'ms/frame':>9}")
    with training.cpu_threads(args.threads):
        for label, variant in [("reprojection", dict(contrast=False, consist=False)),
                               ("reprojection + contrastive (table)", dict(contrast=True, consist=False)),
                               ("reprojection + consistency", dict(contrast=False, consist=True))]:
            config = resolve("paper", dict(batch_size=args.batch_size, memory_size=args.memory, recursions=3,
                                           residual="step", activation="elu", bias_init="zero",
                                           consistency="permute", temperature=1.0, normalize=True, seed=0),
                             dict(variant, recursive=True))
            start = time.perf_counter()
            trainer = training._Trainer(config, seq.W, seq.visible, RunContext(device="cpu"), "")
            setup = time.perf_counter() - start
            seconds = _epoch_seconds(trainer)
            print(f"{label:34} {seconds:9.3f} {1e3 * seconds / seq.F:9.3f}")
            if variant["contrast"]:
                print(f"{'  all-pairs msr table (once)':34} {setup:9.3f}")
                trainer.table = None
                seconds = _epoch_seconds(trainer)
                print(f"{'reprojection + contrastive (no table)':34} {seconds:9.3f} {1e3 * seconds / seq.F:9.3f}")


if __name__ == "__main__":
    main()
