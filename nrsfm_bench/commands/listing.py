"""`nrsfm-bench methods` and `nrsfm-bench datasets`: what is registered, what it can do, what data is present."""
from __future__ import annotations

import argparse
import json

from tabulate import tabulate

from nrsfm_bench.commands import add_data_option
from nrsfm_bench.data_root import resolve_data_root
from nrsfm_bench.errors import NrsfmError
from nrsfm_bench.registry import DATASETS, METHODS


def add_parsers(subparsers) -> None:
    methods = subparsers.add_parser("methods", help="list registered methods and their capabilities")
    methods.add_argument("--json", action="store_true", help="print as JSON")
    methods.set_defaults(func=command_methods)
    datasets = subparsers.add_parser("datasets", help="list datasets, whether their files are found, and sources")
    datasets.add_argument("--json", action="store_true", help="print as JSON")
    add_data_option(datasets)
    datasets.set_defaults(func=command_datasets)


def method_rows() -> list[dict]:
    return [{"name": e.name, "capabilities": e.cls.capabilities.summary(), "description": e.description}
            for e in METHODS.entries()]


def dataset_rows(data_dir: str | None) -> tuple[list[dict], str]:
    """One row per concrete dataset name with its status under the data root, and the root's description."""
    root, origin = resolve_data_root(data_dir)
    rows = []
    for entry in DATASETS.entries():
        for name in entry.full_names():
            variant = name.partition("/")[2]
            params = {entry.variant_param: variant} if variant else {}
            source = entry.cls.source
            try:
                dataset = entry.cls(**params)
                source = dataset.source  # a family's variants may come from different sources (classic/...)
                status = dataset.status(root)
                state = "built in" if status.where is None else "found" if status.found else "missing"
                detail = f"needs {status.missing[0]}" if not status.found else \
                    f"partial: {len(status.missing)} missing, e.g. {status.missing[0]}" if status.missing else ""
            except NrsfmError as error:
                state, detail = "error", str(error)
            rows.append({"name": name, "status": state, "detail": detail, "source": source,
                         "description": entry.description})
    return rows, f"data root: {root} (from {origin})"


def command_methods(args: argparse.Namespace) -> int:
    rows = method_rows()
    print(json.dumps(rows, indent=1) if args.json else tabulate(rows, headers="keys", tablefmt="github"))
    return 0


def command_datasets(args: argparse.Namespace) -> int:
    rows, root = dataset_rows(args.data_dir)
    if args.json:
        print(json.dumps({"data_root": root, "datasets": rows}, indent=1))
    else:
        print(root)
        print(tabulate([{k: r[k] for k in ("name", "status", "detail", "source")} for r in rows], headers="keys",
                       tablefmt="github"))
    return 0
