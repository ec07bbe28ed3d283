"""`nrsfm-bench run`: one method on one dataset, printed as a short table or as JSON, stored as a record."""
from __future__ import annotations

import argparse
import json
import sys

from tabulate import tabulate

from nrsfm_bench.commands import (add_data_option, add_perturbation_options, add_store_option,
                                  perturbation_from_args)
from nrsfm_bench.config import parse_params
from nrsfm_bench.evaluation import DEFAULT_PRESET, get_preset
from nrsfm_bench.runner import SPLITS, RunConfig, run
from nrsfm_bench.store import ResultsStore, resolve_store


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser("run", help="run one method on one dataset and store the result",
                                   description="Run one method on one dataset, evaluate it and store a run record.")
    parser.add_argument("--method", required=True, help="method name (see `nrsfm-bench methods`)")
    parser.add_argument("--dataset", required=True,
                        help="dataset name (see `nrsfm-bench datasets`) or a path to your own .npz/.csv/.json")
    parser.add_argument("--split", default="all", choices=SPLITS,
                        help="frames to evaluate (inductive methods always train on the train split)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the method and the dataset (default 0)")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="e3D convention to print (all are stored)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="method.<name>=<value> or dataset.<name>=<value>; repeatable")
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")
    parser.add_argument("--force", action="store_true", help="run again even if the store has this configuration")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="torch device")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_perturbation_options(parser)
    add_store_option(parser)
    add_data_option(parser)
    parser.set_defaults(func=command_run)


def command_run(args: argparse.Namespace) -> int:
    params = parse_params(args.param)
    preset = get_preset(args.preset).name
    perturbation = perturbation_from_args(args)
    config = RunConfig(method=args.method, dataset=args.dataset, method_params=params["method"],
                       dataset_params=params["dataset"], split=args.split, seed=args.seed, perturbation=perturbation)
    store = ResultsStore(resolve_store(args.store))
    record, cached = run(config, store, data_root=args.data_dir, force=args.force, resume=args.resume,
                         progress=not args.no_progress and not args.json and sys.stderr.isatty(), device=args.device)
    if args.json:
        print(json.dumps(json_view(record, preset, cached), indent=1))
    else:
        print(text_view(record, preset, cached, store))
    return 0


def json_view(record: dict, preset: str, cached: bool) -> dict:
    """The record without per-frame arrays, plus the printed preset's metrics at top level."""
    view = dict(record, cached=cached, preset=preset)
    evaluation = {}
    for group, block in record.get("evaluation", {}).items():
        presets = {name: {k: v for k, v in summary.items() if k != "per_frame"}
                   for name, summary in block["presets"].items()}
        evaluation[group] = dict(block, presets=presets)
    if evaluation:
        view["evaluation"] = evaluation
        main = evaluation[record["split"]]
        view["metrics"] = dict(main["presets"].get(preset, {}), reprojection=main["reprojection"])
    return view


def _fmt(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def text_view(record: dict, preset: str, cached: bool, store: ResultsStore) -> str:
    dataset = record["dataset"]
    head = (f"{record['method']['name']} on {dataset['name']} (F={dataset['frames']}, P={dataset['points']}), "
            f"split {record['split']}, seed {record['seed']}"
            + (f", perturbation {record['perturbation']}" if record["perturbation"] else ""))
    if record["status"] == "skipped":
        return f"{head}\nskipped: {record['skip_reason']}"
    rows = []
    for group, block in record["evaluation"].items():
        metrics = block["presets"].get(preset, {})
        rows.append([f"{group} ({block['frames']} frames)", _fmt(metrics.get("e3d")), _fmt(metrics.get("mpjpe")),
                     _fmt(metrics.get("stress")), _fmt(block["reprojection"])])
    table = tabulate(rows, headers=["frames", f"e3D ({preset})", "MPJPE", "stress", "reproj. 2D"],
                     tablefmt="github")
    timing = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in record["timing_s"].items())
    notes = [block["note"] for block in record["evaluation"].values() if "note" in block][:1]
    source = "served from the store" if cached else "stored"
    return "\n".join([head, table, *notes, f"time: {timing}; peak memory {record['peak_memory_mb']:.0f} MB",
                      f"{source}: {store.record_path(record['key'])}"])
