"""Load time of the real datasets: first load in a process (files parsed) and a second load (parse cache hit).

    python benchmarks/dataset_loading.py [--data-dir DIR]      # default: $NRSFM_BENCH_DATA

Prints one row per dataset: frames, points, cold and warm seconds, and their ratio.
"""
from __future__ import annotations

import argparse
import time

from nrsfm_bench.data_root import resolve_data_root
from nrsfm_bench.registry import DATASETS

DATASETS_TO_TIME = ("classic/drink", "classic/shark", "cmu_mocap/02", "cmu_mocap/23", "pascal3d", "muct")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    root, origin = resolve_data_root(parser.parse_args().data_dir)
    print(f"data root: {root} (from {origin})")
    print(f"{'dataset':16} {'frames':>7} {'points':>6} {'cold s':>8} {'warm s':>8} {'cold/warm':>9}")
    for name in DATASETS_TO_TIME:
        entry, params = DATASETS.resolve(name)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            seq = entry.cls(**params).load(root)
            times.append(time.perf_counter() - start)
        print(f"{name:16} {seq.F:7d} {seq.P:6d} {times[0]:8.3f} {times[1]:8.3f} {times[0] / times[1]:9.1f}")


if __name__ == "__main__":
    main()
