"""Wall time and peak memory of one PR-RRN run through the runner (default: the `paper` profile on classic/drink).

    python benchmarks/pr_rrn_paper_profile.py [--dataset classic/drink] [--method pr_rrn] [--profile paper]
                                              [--seed 0] [--param method.KEY=VALUE ...] [--store DIR]
                                              [--data-dir DIR]

The 5000-point dense run of docs/performance.md:

    python benchmarks/pr_rrn_paper_profile.py --dataset synthetic/sheet --param dataset.frames=2000 \
        --param method.epochs=20

Prints the stage times, the process's peak resident memory (sampled by the runner), the epochs run, e3D under
`dnrsfm` and the machine's CPU count. A run already in the store is reported from its record (say `--store`
with an empty folder to measure afresh; the default is a new temporary folder).
"""
from __future__ import annotations

import argparse
import os
import tempfile

from nrsfm_bench.config import parse_params
from nrsfm_bench.runner import RunConfig, run
from nrsfm_bench.store import ResultsStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="classic/drink")
    parser.add_argument("--method", default="pr_rrn")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="method.<name>=<value> or dataset.<name>=<value> (repeatable)")
    parser.add_argument("--store")
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    store = ResultsStore(args.store or tempfile.mkdtemp(prefix="pr_rrn-bench-"))
    params = parse_params(args.param)
    config = RunConfig(args.method, args.dataset, method_params={"profile": args.profile, **params["method"]},
                       dataset_params=params["dataset"], seed=args.seed)
    record, cached = run(config, store, data_root=args.data_dir, progress=False)
    info = record["method_info"]
    main_group = record["evaluation"][record["split"]]
    print(f"{args.method} ({args.profile} profile) on {args.dataset}, seed {args.seed}"
          f"{' (from the store)' if cached else ''}; store {store.root}")
    print(f"points: {record['dataset']['points']}, "
          f"frames trained on: {record['frames']['trained_on']}, epochs run: {info['epochs_run']}, "
          f"device: {info['device']}, torch threads: {record['method']['params']['threads']}, "
          f"CPUs visible: {os.cpu_count()}")
    for stage, seconds in record["timing_s"].items():
        print(f"  {stage:12} {seconds:9.1f} s")
    print(f"  {'total':12} {sum(record['timing_s'].values()):9.1f} s")
    epoch_seconds = [h["seconds"] for h in info["history"]]
    print(f"mean epoch: {sum(epoch_seconds) / len(epoch_seconds):.3f} s; peak memory: {record['peak_memory_mb']} MB")
    print(f"e3D (dnrsfm): {main_group['presets']['dnrsfm']['e3d']:.4f}")


if __name__ == "__main__":
    main()
