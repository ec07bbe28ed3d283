"""`nrsfm-bench reconstruct`: the practitioner's path, from a file of 2D tracks to shapes and cameras."""
from __future__ import annotations

import argparse
import json
import sys

from nrsfm_bench.config import parse_params
from nrsfm_bench.errors import UsageError
from nrsfm_bench.reconstruct import reconstruct_file


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser(
        "reconstruct", help="reconstruct 3D shapes and cameras from your own 2D tracks",
        description="Fit a method on all frames of your file (.npz, .csv or .json; schemas in docs/datasets.md) "
                    "and write shapes S (F, P, 3), cameras M (F, 2, 3) and per-frame reprojection errors to an .npz.")
    parser.add_argument("--method", required=True, help="method name (see `nrsfm-bench methods`)")
    parser.add_argument("--input", required=True, metavar="FILE", help="2D tracks: .npz, .csv or .json")
    parser.add_argument("--output", required=True, metavar="OUT.npz", help="where to write the reconstruction")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="method.<name>=<value>; repeatable")
    parser.add_argument("--seed", type=int, default=0, help="the method's seed (default 0)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="torch device")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=command_reconstruct)


def command_reconstruct(args: argparse.Namespace) -> int:
    params = parse_params(args.param)
    if params["dataset"]:
        raise UsageError("reconstruct takes method.<name>=<value> parameters only (the input is a file)")
    summary = reconstruct_file(args.method, args.input, args.output, method_params=params["method"],
                               seed=args.seed, device=args.device,
                               progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    line = f"{args.method}: {summary['frames']} frames × {summary['points']} points in {summary['seconds']:.1f} s"
    if summary["reprojection"] is not None:
        line += f"; mean reprojection error {summary['reprojection']:.4g}"
    if summary["e3d_dnrsfm"] is not None:
        line += f"; e3D (dnrsfm, the file's S_gt) {summary['e3d_dnrsfm']:.4g}"
    print(f"{line}\nwritten: {summary['output']}")
    return 0
