"""Sweep specifications: methods × datasets × seeds × perturbation levels, read from TOML / YAML or flags.

A specification file (TOML shown; YAML takes the same fields):

    methods  = ["tomasi_kanade", {name = "pr_rrn", params = {profile = "quick"}}]
    datasets = ["classic/drink", {name = "synthetic", params = {frames = 300}}]
    seeds    = [0, 1, 2]              # or a count: seeds = 3
    split    = "all"                  # frames evaluated (inductive methods train on the train split)
    imports  = []                     # modules that register your own methods/datasets (imported by workers too)

    [perturbations]                   # lists are levels, scalars are fixed for every level
    noise          = [0.0, 0.05, 0.1]
    train_fraction = [1.0, 0.5, 0.25]
    occlusion_frames = 10
    mode = "axes"                     # "axes": one list varied at a time (default); "grid": every combination

Per-sequence methods cannot train on a fraction of the frames: levels with `train_fraction < 1` are dropped for
them (counted as not applicable), never run.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any, Mapping

from nrsfm_bench.errors import UsageError
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.runner import SPLITS, RunConfig

FIELDS = ("methods", "datasets", "seeds", "split", "imports", "perturbations")
LEVEL_FIELDS = ("noise", "missing", "occlusion", "train_fraction")
FIXED_FIELDS = ("occlusion_frames", "occlusion_points", "seed")


@dataclasses.dataclass(frozen=True)
class Choice:
    """One method or dataset of a sweep: its registry name and constructor parameters."""

    name: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def label(self) -> str:
        return self.name + (f" [{', '.join(f'{k}={v}' for k, v in sorted(self.params.items()))}]"
                            if self.params else "")


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: what to run, before the components are built.

    Attributes:
        methods, datasets: the choices crossed with each other.
        seeds: run seeds.
        perturbations: the perturbation levels (the identity included where it is a level).
        split: the frames evaluated.
        imports: modules to import before resolving names (in every worker).
        source: where the specification came from (a file path or "command line").
    """

    methods: tuple[Choice, ...]
    datasets: tuple[Choice, ...]
    seeds: tuple[int, ...] = (0,)
    perturbations: tuple[Perturbation, ...] = (Perturbation(),)
    split: str = "all"
    imports: tuple[str, ...] = ()
    source: str = "command line"

    def configs(self) -> list[RunConfig]:
        """Every run, in a stable order (dataset, method, perturbation level, seed)."""
        return [RunConfig(method.name, dataset.name, method_params=dict(method.params),
                          dataset_params=dict(dataset.params), split=self.split, seed=seed, perturbation=level)
                for dataset in self.datasets for method in self.methods for level in self.perturbations
                for seed in self.seeds]


# ------------------------------------------------------------------------------------------------ reading
def read_spec_file(path: str | os.PathLike) -> dict:
    """The raw mapping of a .toml / .yaml / .yml specification file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"{path}: cannot read sweep specification ({error.strerror})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                try:
                    import tomli as tomllib
                except ModuleNotFoundError:
                    raise UsageError(f"{path}: reading TOML needs Python ≥ 3.11 or the tomli package; "
                                     "or write the specification as YAML") from None
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise UsageError(f"{path}: unknown specification format '{suffix}'; expected .toml, .yaml or .yml")
    except UsageError:
        raise
    except Exception as error:  # noqa: BLE001 - tomllib / yaml parse errors: one line naming the file
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"{path}: not valid {suffix[1:].upper()} ({first})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of fields ({', '.join(FIELDS)}) at the top level")
    return data


def parse_spec(data: Mapping[str, Any], source: str = "command line") -> SweepSpec:
    """A SweepSpec from a raw mapping (a file's content, flags, or both merged); UsageError names the field."""
    fail = lambda field, problem: UsageError(f"{source}: field '{field}' {problem}")  # noqa: E731
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise fail(unknown[0], f"is unknown; expected fields: {', '.join(FIELDS)}")
    methods = _choices(data.get("methods"), "methods", fail)
    datasets = _choices(data.get("datasets"), "datasets", fail)
    seeds = data.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise fail("seeds", f"is {seeds}; expected a count ≥ 1 or a list of integers")
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                            for s in seeds):
        raise fail("seeds", f"is {seeds!r}; expected a count or a non-empty list of integers")
    split = data.get("split", "all")
    if split not in SPLITS:
        raise fail("split", f"is {split!r}; expected one of {', '.join(SPLITS)}")
    imports = data.get("imports", [])
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        raise fail("imports", f"is {imports!r}; expected a list of module names")
    levels = perturbation_levels(data.get("perturbations") or {}, fail)
    return SweepSpec(methods, datasets, tuple(dict.fromkeys(seeds)), levels, split, tuple(imports), source)


def _choices(value: Any, field: str, fail) -> tuple[Choice, ...]:
    if not isinstance(value, list) or not value:
        raise fail(field, f"is {value!r}; expected a non-empty list of names or {{name, params}} tables")
    choices = []
    for item in value:
        if isinstance(item, str):
            choices.append(Choice(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str) and set(item) <= {"name", "params"} \
                and isinstance(item.get("params", {}), dict):
            choices.append(Choice(item["name"], dict(item.get("params", {}))))
        else:
            raise fail(field, f"has entry {item!r}; expected a name or a table with 'name' and 'params'")
    return tuple(choices)


def perturbation_levels(section: Mapping[str, Any], fail) -> tuple[Perturbation, ...]:
    """The perturbation levels of a `[perturbations]` section (see the module docstring)."""
    if not isinstance(section, dict):
        raise fail("perturbations", "must be a table of levels")
    mode = section.get("mode", "axes")
    if mode not in ("axes", "grid"):
        raise fail("perturbations.mode", f"is {mode!r}; expected 'axes' or 'grid'")
    unknown = sorted(set(section) - {*LEVEL_FIELDS, *FIXED_FIELDS, "mode"})
    if unknown:
        raise fail(f"perturbations.{unknown[0]}", f"is unknown; expected {', '.join((*LEVEL_FIELDS, *FIXED_FIELDS))}")
    fixed = {k: v for k, v in section.items() if k != "mode" and not isinstance(v, list)}
    axes = {k: v for k, v in section.items() if isinstance(v, list)}
    for name, values in axes.items():
        if name not in LEVEL_FIELDS or not values:
            raise fail(f"perturbations.{name}", "must be a non-empty list of levels" if values else
                       "cannot take a list (block size and seed are fixed)")
    if mode == "grid":
        combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    else:
        combos = [{}] + [{name: value} for name, values in axes.items() for value in values]
    levels: dict[str, Perturbation] = {}
    for combo in combos:
        try:
            level = Perturbation.from_dict({**fixed, **combo})
        except (TypeError, ValueError) as error:
            raise fail("perturbations", f"gives an invalid level {combo or fixed}: {error}") from None
        levels.setdefault(repr(sorted(level.to_dict().items())), level)
    return tuple(levels.values())


def split_list(text: str, cast: type, flag: str) -> list:
    """`"0,0.05,0.1"` → [0.0, 0.05, 0.1] for list-valued flags (UsageError naming the flag)."""
    try:
        return [cast(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected comma-separated {cast.__name__} values") from None
