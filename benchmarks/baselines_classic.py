"""Classical baselines on the eight classic sequences, em_ppca under missing points, and time/memory at scale.

Every number is read from the run record of an `nrsfm-bench run` command, printed beside the command itself:

    python benchmarks/baselines_classic.py table      # methods x classic sequences, e3D under akhter and dnrsfm
    python benchmarks/baselines_classic.py missing    # em_ppca on classic/walking with points hidden at random
    python benchmarks/baselines_classic.py scale      # fit time on classic/drink and on 10,000 synthetic frames

Needs the real data (`NRSFM_BENCH_DATA`). Runs go to `--store` (default: a fresh temporary folder) and use
one BLAS thread per process (OPENBLAS_NUM_THREADS=1) unless the environment sets it.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

SEQUENCES = ("drink", "pickup", "stretch", "yoga", "dance", "face", "walking", "shark")
#: (label, method, extra --param items)
METHODS = (
    ("flat", "flat", ()),
    ("tomasi_kanade", "tomasi_kanade", ()),
    ("em_ppca", "em_ppca", ()),
    ("bmm", "bmm", ()),
    ("bmm (shape=pinv)", "bmm", ("method.shape=pinv",)),
    ("pta", "pta", ()),
)
MISSING = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def run(method: str, dataset: str, params=(), extra=(), store: str = "", env=None) -> tuple[str, dict | str]:
    """Run one `nrsfm-bench run --json`; returns the command line and the record (or the one-line error)."""
    command = ["nrsfm-bench", "run", "--method", method, "--dataset", dataset, *extra]
    for item in params:
        command += ["--param", item]
    shown = shlex.join(command)
    result = subprocess.run(command + ["--json", "--store", store], capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    if result.returncode != 0:
        return shown, (result.stderr.strip().splitlines() or ["failed"])[-1]
    return shown, json.loads(result.stdout)


def e3d(record: dict, preset: str) -> float:
    return record["evaluation"]["all"]["presets"][preset]["e3d"]


def table(store: str) -> None:
    print("| method | sequence | K | e3D akhter | e3D dnrsfm | fit s | command |")
    print("|---|---|---|---|---|---|---|")
    for label, method, params in METHODS:
        for sequence in SEQUENCES:
            command, record = run(method, f"classic/{sequence}", params, store=store)
            if isinstance(record, str):
                print(f"| {label} | {sequence} | | failed: {record} | | | `{command}` |")
                continue
            K = record.get("method_info", {}).get("K", "")
            print(f"| {label} | {sequence} | {K} | {e3d(record, 'akhter'):.4f} | {e3d(record, 'dnrsfm'):.4f} | "
                  f"{record['timing_s']['fit']:.1f} | `{command}` |", flush=True)


def missing(store: str) -> None:
    print("| missing | e3D dnrsfm | e3D akhter | EM iterations | command |")
    print("|---|---|---|---|---|")
    for ratio in MISSING:
        command, record = run("em_ppca", "classic/walking", extra=("--missing", str(ratio)), store=store)
        if isinstance(record, str):
            print(f"| {ratio:.0%} | failed: {record} | | | `{command}` |")
            continue
        print(f"| {ratio:.0%} | {e3d(record, 'dnrsfm'):.4f} | {e3d(record, 'akhter'):.4f} | "
              f"{record['method_info'].get('iterations', '')} | `{command}` |", flush=True)


def scale(store: str) -> None:
    print("| method | data | status | fit s | peak MB | command |")
    print("|---|---|---|---|---|---|")
    cases = [("classic/drink", (), {}),
             ("synthetic", ("dataset.frames=10000",), {}),
             ("synthetic", ("dataset.frames=10000",), {"NRSFM_BENCH_MAX_MEMORY_GB": "0.01"})]
    for label, method, params in METHODS:
        for dataset, data_params, env in cases:
            command, record = run(method, dataset, (*params, *data_params), extra=("--force",), store=store,
                                  env=env)    # --force: time afresh, and the memory limit is not in the run's hash
            shown = " ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "") + command
            if isinstance(record, str):
                print(f"| {label} | {dataset} {' '.join(data_params)} | stopped: {record} | | | `{shown}` |",
                      flush=True)
                continue
            print(f"| {label} | {dataset} {' '.join(data_params)} | ok | {record['timing_s']['fit']:.1f} | "
                  f"{record['peak_memory_mb']:.0f} | `{shown}` |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("table", "missing", "scale"))
    parser.add_argument("--store", help="results store (default: a fresh temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    store = args.store or tempfile.mkdtemp(prefix="nrsfm-baselines-")
    {"table": table, "missing": missing, "scale": scale}[args.what](store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
