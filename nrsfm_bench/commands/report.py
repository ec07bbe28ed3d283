"""`nrsfm-bench report`: the store as tables (markdown, LaTeX, CSV), figures and one self-contained HTML page."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nrsfm_bench.commands import add_data_option, add_store_option
from nrsfm_bench.evaluation import DEFAULT_PRESET, get_preset
from nrsfm_bench.reporting import PARTS, ReportOptions, make_report, print_written
from nrsfm_bench.store import ResultsStore, resolve_store
from nrsfm_bench.sweep_spec import split_list


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="aggregate the results store into tables, figures and an HTML page",
        description="Aggregate the results store: a methods × datasets overview and paper-style tables (Table 1, "
                    "2, 4, classic sequences; e3D mean ± std over seeds beside published values) as markdown, "
                    "LaTeX and CSV; robustness curves (PNG, PDF); reconstruction pictures and a GIF; and "
                    "index.html bringing them together (opens from disk, no network). See docs/reports.md.")
    add_store_option(parser)
    parser.add_argument("--out", metavar="DIR", help="output folder (default: <store>/report)")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="e3D convention (default: dnrsfm)")
    parser.add_argument("--group", default="all",
                        help="evaluation group of the overview and curves: all, train (seen) or test (unseen)")
    parser.add_argument("--metric", default="e3d", choices=("e3d", "mpjpe", "stress", "reprojection"),
                        help="metric of the overview table (default e3d)")
    parser.add_argument("--only", metavar="PARTS", help=f"comma-separated parts to write: {', '.join(PARTS)} "
                                                        "(default: all)")
    parser.add_argument("--published", metavar="FILE", help="published values (default: results/published.csv)")
    parser.add_argument("--methods", metavar="LIST",
                        help="only these methods (names or labels, comma-separated; commas inside a label's [...] "
                             "stay)")
    parser.add_argument("--datasets", metavar="LIST", help="only these datasets (comma-separated)")
    parser.add_argument("--show", action="append", default=[], metavar="METHOD@DATASET",
                        help="draw this run's reconstruction (repeatable; default: the best method per dataset)")
    parser.add_argument("--frames", metavar="LIST", help="positions among the evaluated frames to draw, e.g. 0,50,100")
    parser.add_argument("--gif", metavar="METHOD@DATASET", help="run to animate (default: the first one drawn)")
    parser.add_argument("--with-perturbed", action="store_true",
                        help="overview table: add perturbed runs as extra columns (default: unperturbed only)")
    add_data_option(parser)
    parser.set_defaults(func=command_report)


def label_list(text: str | None) -> tuple[str, ...]:
    """Split a comma-separated list of names or labels, keeping the commas inside a label's brackets:
    "bmm,pr_rrn [profile=paper, restarts=4]" → ("bmm", "pr_rrn [profile=paper, restarts=4]")."""
    items, depth, current = [], 0, []
    for char in text or "":
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return tuple(item.strip() for item in items if item.strip())


def command_report(args: argparse.Namespace) -> int:
    store = ResultsStore(resolve_store(args.store))
    options = ReportOptions(
        preset=get_preset(args.preset).name, group=args.group, metric=args.metric,
        parts=label_list(args.only) or PARTS, published_path=args.published, methods=label_list(args.methods),
        datasets=label_list(args.datasets), show=tuple(args.show),
        frames=tuple(split_list(args.frames, int, "--frames")) if args.frames else (), gif=args.gif,
        data_root=args.data_dir, perturbed=args.with_perturbed)
    out = Path(args.out) if args.out else store.root / "report"
    result = make_report(store, out, options)
    if result.overview:
        print(result.overview)
    print_written(result, out, sys.stdout)
    return 0
