"""e3D regression tracking: a reference file of quick deterministic runs, re-run and compared with tolerances.

The reference (results/reference/e3d.json) holds:
    sets:      sweep specifications (the fields of docs/reports.md) naming the runs to track;
    presets:   the e3D presets recorded for each run;
    tolerance: {"relative": r, "absolute": a} — a new entry's tolerance is max(a, r · value);
    entries:   one per run × preset × evaluation group: the run's configuration, `value` (e3D), `tolerance`,
               and the `commit` (+ `dirty`, `date`) of the code that measured it.
`check` re-runs every entry's run (forced, in a temporary store) and flags a value worse than
`value + tolerance`; `update` re-measures the sets and rewrites the entries (keeping hand-set tolerances).
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib.util
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TextIO

from tabulate import tabulate

from nrsfm_bench.errors import DataFormatError, NrsfmError, UsageError
from nrsfm_bench.evaluation import PRESETS
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.provenance import git_state
from nrsfm_bench.runner import RunConfig, prepare
from nrsfm_bench.store import ResultsStore, write_json_atomic
from nrsfm_bench.sweep import execute_plan, import_modules, plan_configs
from nrsfm_bench.sweep_spec import parse_spec

SCHEMA = 1
DEFAULT_REFERENCE = Path("results/reference/e3d.json")
DEFAULT_TOLERANCE = {"relative": 0.02, "absolute": 1e-4}
RUN_FIELDS = ("method", "method_params", "dataset", "dataset_params", "split", "seed", "perturbation")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One tracked e3D value: a run's configuration, the preset and group it is read from, value and tolerance."""

    method: str
    dataset: str
    preset: str
    group: str
    value: float
    tolerance: float
    method_params: dict = dataclasses.field(default_factory=dict)
    dataset_params: dict = dataclasses.field(default_factory=dict)
    split: str = "all"
    seed: int = 0
    perturbation: dict = dataclasses.field(default_factory=dict)
    commit: str | None = None
    dirty: bool | None = None
    date: str | None = None

    def config(self) -> RunConfig:
        return RunConfig(self.method, self.dataset, self.method_params, self.dataset_params, self.split, self.seed,
                         Perturbation.from_dict(self.perturbation))

    @property
    def profile(self) -> str:
        """The method's `profile` parameter when it has one (PR-RRN: quick / paper), else "default"."""
        return str(self.method_params.get("profile", "default"))

    def name(self) -> tuple:
        """What identifies the entry: its run, preset and group (not its value)."""
        return (json.dumps([getattr(self, f) for f in RUN_FIELDS], sort_keys=True), self.preset, self.group)


@dataclasses.dataclass
class Reference:
    """A parsed reference file."""

    path: Path
    sets: list[dict]
    presets: list[str]
    tolerance: dict
    entries: list[Entry]
    imports: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return {"schema": SCHEMA,
                "about": "e3D of quick deterministic runs tracked by `nrsfm-bench check`; see docs/regression.md",
                "sets": self.sets, "presets": self.presets, "tolerance": self.tolerance, "imports": self.imports,
                "entries": [{k: v for k, v in dataclasses.asdict(e).items()} for e in self.entries]}


def load_reference(path: str | os.PathLike) -> Reference:
    """Read a reference file; DataFormatError names the file and the malformed field."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no reference file; create one with `nrsfm-bench check --update` "
                         "(see docs/regression.md)")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DataFormatError(path, f"not readable as JSON ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise DataFormatError(path, f"expected a JSON object with \"schema\": {SCHEMA}")
    sets, presets = data.get("sets", []), data.get("presets", ["dnrsfm"])
    if not isinstance(sets, list) or not all(isinstance(s, dict) for s in sets):
        raise DataFormatError(path, "field 'sets' must be a list of sweep specifications")
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        raise DataFormatError(path, f"field 'presets' names unknown preset(s) {unknown}; expected {list(PRESETS)}")
    entries = []
    for i, raw in enumerate(data.get("entries", [])):
        try:
            entry = Entry(**raw)
            if not isinstance(entry.value, (int, float)) or not isinstance(entry.tolerance, (int, float)):
                raise TypeError("value and tolerance must be numbers")
            if entry.tolerance < 0:
                raise TypeError("tolerance must be ≥ 0")
        except TypeError as error:
            raise DataFormatError(path, f"entries[{i}] is malformed ({error}); expected the fields "
                                        f"{', '.join(f.name for f in dataclasses.fields(Entry))}") from None
        entries.append(entry)
    return Reference(path, sets, list(presets), {**DEFAULT_TOLERANCE, **data.get("tolerance", {})}, entries,
                     list(data.get("imports", [])))


def save_reference(reference: Reference) -> None:
    write_json_atomic(reference.path, reference.to_dict())


# ------------------------------------------------------------------------------------------------ measuring
@dataclasses.dataclass(frozen=True)
class Failure:
    """A run that produced no record: its one-line message and exception class name."""

    message: str
    kind: str


def measure(configs: list[RunConfig], *, jobs: int = 1, data_root: str | None = None,
            imports: tuple[str, ...] = (), stream: TextIO | None = None) -> dict[str, dict | str]:
    """Run every configuration afresh in a temporary store.

    Returns:
        key → record, or key → Failure for runs that failed.
    """
    with tempfile.TemporaryDirectory(prefix="nrsfm-check-") as folder, _torch_single_thread(configs):
        store = ResultsStore(folder)
        plan = plan_configs(configs, store, force=True)
        result = execute_plan(plan, store, jobs=jobs, data_root=data_root, imports=imports, force=True,
                              stream=stream)
        measured: dict[str, dict | Failure] = {r["key"]: r for r in store.records()}
    failed = {label: Failure(message, kind) for label, message, kind in result.failed}
    for task in plan.tasks:
        if task.key not in measured:
            measured[task.key] = failed.get(task.label, Failure("not run", ""))
    return measured


@contextmanager
def _torch_single_thread(configs: list[RunConfig]) -> Iterator[None]:
    """Torch on one thread while deep methods are checked: the same numbers on any machine's core count, and
    no oversubscription stall on a busy machine (two spinning OpenMP threads there can be 20× slower)."""
    deep = any(type(prepare(c).method).__module__.startswith("nrsfm_bench.methods") for c in configs)
    if not deep or importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _e3d(record: dict | Failure, preset: str, group: str) -> tuple[float | None, str]:
    """The e3D of a record's preset and group, or (None, why it is unavailable)."""
    if isinstance(record, Failure):
        return None, record.message
    if record["status"] != "ok":
        return None, f"skipped: {record.get('skip_reason', '')}"
    value = record.get("evaluation", {}).get(group, {}).get("presets", {}).get(preset, {}).get("e3d")
    return (value, "") if value is not None else (None, f"no e3D for preset {preset}, group {group}")


# ------------------------------------------------------------------------------------------------ checking
@dataclasses.dataclass(frozen=True)
class Comparison:
    """An entry beside its new measurement; `status` is ok, improved, REGRESSED or FAILED."""

    entry: Entry
    measured: float | None
    status: str
    note: str = ""

    @property
    def change(self) -> float | None:
        return None if self.measured is None else self.measured - self.entry.value


def compare(entries: list[Entry], measured: dict[str, dict | Failure], keys: dict[tuple, str]) -> list[Comparison]:
    """Each entry against its run's new record. A run whose data is absent is NOT RUN on a developer's machine
    and FAILED in CI ($CI set), where the data must be present."""
    comparisons = []
    for entry in entries:
        record = measured[keys[entry.name()]]
        value, why = _e3d(record, entry.preset, entry.group)
        if value is None:
            no_data = isinstance(record, Failure) and record.kind == "DataNotFoundError" and not os.environ.get("CI")
            comparisons.append(Comparison(entry, None, "NOT RUN" if no_data else "FAILED", why))
        elif value > entry.value + entry.tolerance:
            comparisons.append(Comparison(entry, value, "REGRESSED"))
        elif value < entry.value - entry.tolerance:
            comparisons.append(Comparison(entry, value, "improved", "better than the reference: consider --update"))
        else:
            comparisons.append(Comparison(entry, value, "ok"))
    return comparisons


def _fmt_change(c: Comparison) -> str:
    if c.change is None:
        return "–"
    relative = f" ({c.change / c.entry.value:+.1%})" if c.entry.value else ""
    return f"{c.change:+.3g}{relative}"


def comparison_table(comparisons: list[Comparison]) -> str:
    """A readable table: what was tracked, reference and measured e3D, the change, the tolerance, the verdict."""
    from nrsfm_bench.report import label

    rows = [[c.entry.method, c.entry.profile, " · ".join(filter(None, [
                label("dataset", {"name": c.entry.dataset, "params": c.entry.dataset_params}),
                Perturbation.from_dict(c.entry.perturbation).label()])),
             c.entry.preset, c.entry.group, f"{c.entry.value:.5g}", "–" if c.measured is None else f"{c.measured:.5g}",
             _fmt_change(c), f"{c.entry.tolerance:.3g}", c.status + (f": {c.note}" if c.note else "")]
            for c in comparisons]
    return tabulate(rows, headers=["method", "profile", "dataset", "preset", "group", "reference", "measured",
                                   "change", "tolerance", "status"], tablefmt="github", disable_numparse=True)


def entry_keys(entries: list[Entry]) -> tuple[list[RunConfig], dict[tuple, str]]:
    """The distinct run configurations of the entries, and each entry's run key."""
    configs, keys = {}, {}
    for entry in entries:
        try:
            prepared = prepare(entry.config())
        except (NrsfmError, ValueError) as error:
            raise UsageError(f"reference entry {entry.method} on {entry.dataset} cannot be built: {error}") from None
        configs[prepared.key] = entry.config()
        keys[entry.name()] = prepared.key
    return list(configs.values()), keys


def check(reference: Reference, *, jobs: int = 1, data_root: str | None = None,
          stream: TextIO | None = None) -> list[Comparison]:
    """Re-run the reference's entries and compare; returns one Comparison per entry."""
    import_modules(reference.imports)
    if not reference.entries:
        raise UsageError(f"{reference.path}: no entries; run `nrsfm-bench check --update` to measure the sets")
    configs, keys = entry_keys(reference.entries)
    measured = measure(configs, jobs=jobs, data_root=data_root, imports=tuple(reference.imports), stream=stream)
    return compare(reference.entries, measured, keys)


# ------------------------------------------------------------------------------------------------ updating
def update(reference: Reference, *, jobs: int = 1, data_root: str | None = None, tolerance: float | None = None,
           stream: TextIO | None = None) -> Reference:
    """Re-measure the reference's sets and rewrite its entries, recording the commit that measured them.

    An entry that already existed keeps its tolerance unless `tolerance` (absolute) is given; new entries get
    max(absolute, relative · value) from the file's `tolerance` settings.
    """
    import_modules(reference.imports)
    if not reference.sets:
        raise UsageError(f"{reference.path}: field 'sets' is empty; name the runs to track (docs/regression.md)")
    configs = list({prepare(c).key: c for i, raw in enumerate(reference.sets)
                    for c in parse_spec({**raw, "imports": reference.imports},
                                        f"{reference.path} sets[{i}]").configs()}.values())
    measured = measure(configs, jobs=jobs, data_root=data_root, imports=tuple(reference.imports), stream=stream)
    failures = [f"{c.method} on {c.dataset}: {measured[prepare(c).key].message}" for c in configs
                if isinstance(measured[prepare(c).key], Failure)]
    if failures:
        raise NrsfmError(f"cannot update the reference, {len(failures)} run(s) failed; first: {failures[0]}")
    old = {e.name(): e for e in reference.entries}
    state = git_state()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    entries = []
    for config in configs:
        record = measured[prepare(config).key]
        for group in record.get("evaluation", {}):
            for preset in reference.presets:
                value, _ = _e3d(record, preset, group)
                if value is None:
                    continue
                entry = Entry(config.method, config.dataset, preset, group, value, 0.0, dict(config.method_params),
                              dict(config.dataset_params), config.split, config.seed,
                              config.perturbation.to_dict(), state["commit"], state["dirty"], date)
                previous = old.get(entry.name())
                chosen = tolerance if tolerance is not None else previous.tolerance if previous else \
                    max(reference.tolerance["absolute"], reference.tolerance["relative"] * value)
                entries.append(dataclasses.replace(entry, tolerance=float(f"{chosen:.3g}")))
    return dataclasses.replace(reference, entries=entries)


def summary_line(comparisons: list[Comparison], reference: Reference) -> str:
    counts = {s: sum(c.status == s for c in comparisons) for s in ("ok", "improved", "REGRESSED", "FAILED",
                                                                     "NOT RUN")}
    not_run = f", {counts['NOT RUN']} not run (data not found; required in CI)" if counts["NOT RUN"] else ""
    commits = sorted({(e.commit or "unknown")[:10] for e in reference.entries})
    return (f"check: {len(comparisons)} e3D values against {reference.path} (set at commit "
            f"{', '.join(commits)}): {counts['REGRESSED']} regressed, {counts['FAILED']} failed, "
            f"{counts['improved']} improved, {counts['ok']} within tolerance{not_run}")


def as_jsonable(comparisons: list[Comparison]) -> list[dict[str, Any]]:
    return [{**dataclasses.asdict(c.entry), "measured": c.measured, "status": c.status, "note": c.note}
            for c in comparisons]
