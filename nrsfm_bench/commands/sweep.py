"""`nrsfm-bench sweep`: methods × datasets × seeds × perturbation levels, in parallel, resumable."""
from __future__ import annotations

import argparse
import sys

from tabulate import tabulate

from nrsfm_bench.commands import add_data_option, add_store_option
from nrsfm_bench.config import parse_params
from nrsfm_bench.errors import UsageError
from nrsfm_bench.store import ResultsStore, resolve_store
from nrsfm_bench.sweep import BACKENDS, execute_plan, import_modules, make_plan
from nrsfm_bench.sweep_spec import SweepSpec, parse_spec, read_spec_file, split_list


def add_parsers(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", help="run methods × datasets × seeds × perturbation levels (parallel, resumable)",
        description="Run every combination of methods, datasets, seeds and perturbation levels, from a TOML/YAML "
                    "file (--config, see docs/reports.md) or flags; flags given with --config replace that field. "
                    "Runs already in the store are skipped, so a killed sweep continues where it stopped.")
    parser.add_argument("--config", metavar="FILE", help="sweep specification (.toml, .yaml)")
    parser.add_argument("--method", action="append", metavar="NAME", help="method (repeatable)")
    parser.add_argument("--dataset", action="append", metavar="NAME", help="dataset (repeatable)")
    parser.add_argument("--seeds", metavar="LIST|N", help="seeds: '0,1,2' or a count '3' (default: 0)")
    parser.add_argument("--split", help="frames evaluated: all, train or test (default: all)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="method.<name>=<value> or dataset.<name>=<value>, given to every method / dataset "
                             "that takes that parameter; repeatable")
    levels = parser.add_argument_group("perturbation levels (comma-separated lists; one varied at a time "
                                       "unless --grid)")
    levels.add_argument("--noise", metavar="LIST", help="noise ratios ‖noise‖/‖W‖, e.g. 0,0.05,0.1")
    levels.add_argument("--missing", metavar="LIST", help="fractions of points hidden at random")
    levels.add_argument("--occlusion", metavar="LIST", help="fractions of points hidden in occlusion blocks")
    levels.add_argument("--train-fraction", metavar="LIST", help="training fractions (inductive methods)")
    levels.add_argument("--occlusion-frames", type=int, metavar="N", help="frames per occlusion block")
    levels.add_argument("--occlusion-points", type=int, metavar="N", help="points per occlusion block")
    levels.add_argument("--grid", action="store_true", help="every combination of the levels")
    parser.add_argument("--import", dest="imports", action="append", metavar="MODULE",
                        help="import a module that registers your own methods/datasets (workers too)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="parallel runs with joblib (default 1)")
    parser.add_argument("--backend", default="joblib", choices=BACKENDS, help="joblib (local) or dask")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument("--force", action="store_true", help="recompute runs that are already stored")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and what is stored; run nothing")
    add_store_option(parser)
    add_data_option(parser)
    parser.set_defaults(func=command_sweep)


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    """The sweep of `--config` with the fields given as flags replaced (or of the flags alone)."""
    data = read_spec_file(args.config) if args.config else {}
    source = args.config or "command line"
    if args.method:
        data["methods"] = list(args.method)
    if args.dataset:
        data["datasets"] = list(args.dataset)
    if args.seeds:
        values = split_list(args.seeds, int, "--seeds")
        data["seeds"] = values[0] if len(values) == 1 and "," not in args.seeds else values
    if args.split:
        data["split"] = args.split
    if args.imports:
        data["imports"] = [*data.get("imports", []), *args.imports]
    section = dict(data.get("perturbations") or {})
    for flag, name in (("noise", "noise"), ("missing", "missing"), ("occlusion", "occlusion"),
                       ("train_fraction", "train_fraction")):
        value = getattr(args, flag)
        if value is not None:
            section[name] = split_list(value, float, f"--{flag.replace('_', '-')}")
    for name in ("occlusion_frames", "occlusion_points"):
        if getattr(args, name) is not None:
            section[name] = getattr(args, name)
    if args.grid:
        section["mode"] = "grid"
    if section:
        data["perturbations"] = section
    for field in ("methods", "datasets"):
        if field not in data:
            hint = f"{source}: field '{field}' is missing; add it or give" if args.config else "sweep: give"
            raise UsageError(f"{hint} --{field[:-1]} NAME" if args.config else
                             f"{hint} --config FILE or --{field[:-1]} NAME")
    spec = parse_spec(data, source)
    return _with_global_params(spec, parse_params(args.param)) if args.param else spec


def _with_global_params(spec: SweepSpec, params: dict) -> SweepSpec:
    """Give each `--param` to every method / dataset whose constructor takes it (an error if none does)."""
    import dataclasses

    from nrsfm_bench.registry import DATASETS, METHODS
    from nrsfm_bench.sweep_spec import Choice

    import_modules(spec.imports)
    updated = {}
    for kind, registry, field in (("method", METHODS, "methods"), ("dataset", DATASETS, "datasets")):
        choices = list(getattr(spec, field))
        for name, value in params[kind].items():
            takers = [i for i, c in enumerate(choices) if name in registry.resolve(c.name)[0].cls.param_names()]
            if not takers:
                raise UsageError(f"--param {kind}.{name}: no {kind} of the sweep takes a parameter '{name}'")
            for i in takers:
                choices[i] = Choice(choices[i].name, {**choices[i].params, name: value})
        updated[field] = tuple(choices)
    return dataclasses.replace(spec, **updated)


def command_sweep(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    store = ResultsStore(resolve_store(args.store))
    plan = make_plan(spec, store, force=args.force)
    where = f"dask at {args.scheduler}" if args.backend == "dask" else f"joblib, {args.jobs} worker(s)"
    skipped = f", {len(plan.not_applicable)} not applicable" if plan.not_applicable else ""
    print(f"sweep ({spec.source}): {len(plan.tasks)} runs{skipped}; {plan.stored} already in {store.root}, "
          f"{len(plan.pending)} to run on {where}", file=sys.stderr)
    if args.dry_run:
        rows = [[t.label, "to run" if t in plan.pending else "stored", t.key] for t in plan.tasks]
        rows += [[label, f"not applicable: {reason}", ""] for label, reason in plan.not_applicable]
        print(tabulate(rows, headers=["run", "state", "key"], tablefmt="github"))
        return 0
    try:
        result = execute_plan(plan, store, backend=args.backend, jobs=args.jobs, scheduler=args.scheduler,
                              data_root=args.data_dir, imports=spec.imports, force=args.force)
    except KeyboardInterrupt:
        print(f"nrsfm-bench: sweep interrupted; {len(store.records())} records are in {store.root} — run the same "
              "command again to compute the rest", file=sys.stderr)
        return 130
    print(f"sweep done: {result.ok} ok, {result.skipped} skipped (method cannot run on the data), "
          f"{len(result.failed)} failed; {result.stored_before} were already stored; store: {store.root}")
    for label, message, _ in result.failed:
        print(f"  failed: {label}: {message}")
    return 1 if result.failed else 0
