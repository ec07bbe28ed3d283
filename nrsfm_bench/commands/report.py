"""`nrsfm-bench report`: the store aggregated into a methods × datasets table (markdown, LaTeX, CSV)."""
from __future__ import annotations

import argparse
from pathlib import Path

from nrsfm_bench import report
from nrsfm_bench.commands import add_store_option
from nrsfm_bench.errors import UsageError
from nrsfm_bench.evaluation import DEFAULT_PRESET, get_preset
from nrsfm_bench.store import ResultsStore, resolve_store


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser("report", help="aggregate the results store into tables",
                                   description="Aggregate the results store: rows methods, columns datasets, "
                                               "e3D mean ± std over seeds, written as markdown, LaTeX and CSV.")
    add_store_option(parser)
    parser.add_argument("--out", metavar="DIR", help="output folder (default: <store>/report)")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="e3D convention (default: dnrsfm)")
    parser.add_argument("--group", default="all",
                        help="evaluation group: all, train (seen) or test (unseen) (default: all)")
    parser.add_argument("--metric", default="e3d", choices=("e3d", "mpjpe", "stress", "reprojection"))
    parser.set_defaults(func=command_report)


def command_report(args: argparse.Namespace) -> int:
    store = ResultsStore(resolve_store(args.store))
    records = store.records()
    if not records:
        raise UsageError(f"the results store {store.root} has no runs; run `nrsfm-bench run` first")
    preset = get_preset(args.preset).name
    summary = report.summarize(report.records_frame(records), preset, args.group, args.metric)
    caption = f"{args.metric} ({'preset ' + preset if args.metric != 'reprojection' else '2D'}, frames: {args.group}); mean ± std over seeds"
    out = Path(args.out) if args.out else store.root / "report"
    stem = f"{args.metric}_{preset}_{args.group}"
    print(report.write_table(out, stem, report.pivot(summary), summary, caption))
    print(f"written: {out / stem}.{{md,tex,csv}}")
    return 0
