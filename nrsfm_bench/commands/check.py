"""`nrsfm-bench check`: re-run the tracked quick runs and fail when an e3D got worse than its reference."""
from __future__ import annotations

import argparse
import json
import sys

from nrsfm_bench import regression
from nrsfm_bench.commands import add_data_option


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="e3D regression check against results/reference/e3d.json",
        description="Re-run the runs tracked in the reference file (forced, in a temporary store) and exit 1 "
                    "with a table when any e3D is worse than its reference value plus its tolerance. "
                    "--update re-measures the reference's sets and rewrites it, recording the commit.")
    parser.add_argument("--reference", default=str(regression.DEFAULT_REFERENCE), metavar="FILE",
                        help=f"reference file (default: {regression.DEFAULT_REFERENCE})")
    parser.add_argument("--update", action="store_true",
                        help="re-measure the sets and rewrite the reference (a deliberate change: commit it)")
    parser.add_argument("--tolerance", type=float, metavar="T",
                        help="with --update: absolute tolerance for every entry (default: keep each entry's, "
                             "new ones get max(absolute, relative × value) from the file)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="parallel runs (default 1)")
    parser.add_argument("--json", action="store_true", help="print the comparisons as JSON")
    add_data_option(parser)
    parser.set_defaults(func=command_check)


def command_check(args: argparse.Namespace) -> int:
    if args.update:
        return _update(args)
    reference = regression.load_reference(args.reference)
    comparisons = regression.check(reference, jobs=args.jobs, data_root=args.data_dir)
    if args.json:
        print(json.dumps(regression.as_jsonable(comparisons), indent=1))
    else:
        print(regression.comparison_table(comparisons))
        print(regression.summary_line(comparisons, reference))
    bad = [c for c in comparisons if c.status in ("REGRESSED", "FAILED")]
    if bad:
        print(f"nrsfm-bench check: {len(bad)} e3D value(s) regressed or failed; fix the cause, or if the change is "
              "intended run `nrsfm-bench check --update` and commit the new reference", file=sys.stderr)
    return 1 if bad else 0


def _update(args: argparse.Namespace) -> int:
    from pathlib import Path

    path = Path(args.reference)
    reference = regression.load_reference(path) if path.exists() else regression.Reference(
        path, [], ["dnrsfm"], dict(regression.DEFAULT_TOLERANCE), [])
    updated = regression.update(reference, jobs=args.jobs, data_root=args.data_dir, tolerance=args.tolerance)
    regression.save_reference(updated)
    commit = updated.entries[0].commit if updated.entries else None
    dirty = " (with uncommitted changes!)" if updated.entries and updated.entries[0].dirty else ""
    print(f"reference rewritten: {path}, {len(updated.entries)} e3D values measured at commit {commit}{dirty}")
    return 0
