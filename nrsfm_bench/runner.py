"""The runner: one configuration → dataset loaded, method fitted, reconstruction evaluated, record stored.

    RunConfig ──prepare──▶ PreparedRun (components built, key hashed)
              ──execute──▶ record (served from the store when the key is there, else computed and written)
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from nrsfm_bench.config import ComponentSpec, build_component, config_hash
from nrsfm_bench.data_root import resolve_data_root
from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.errors import UsageError
from nrsfm_bench.evaluation import evaluate_presets, reprojection_errors
from nrsfm_bench.method import Method, Reconstruction, RunContext
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.provenance import provenance
from nrsfm_bench.resources import PeakMemory, Stopwatch
from nrsfm_bench.sequence import Sequence
from nrsfm_bench.store import ResultsStore

RECORD_SCHEMA = 1
SPLITS = ("all", "train", "test")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What a run computes (everything that goes into its key).

    Attributes:
        method, dataset: registry names (a dataset may also be a path to the user's own file).
        method_params, dataset_params: constructor arguments given explicitly.
        split: the frames evaluated: "all", "train" (seen) or "test" (unseen).
        seed: the run's seed, passed to method and dataset as `seed` unless their params set it.
        perturbation: noise / missing points / training fraction applied to the dataset.
    """

    method: str
    dataset: str
    method_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    dataset_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    split: str = "all"
    seed: int = 0
    perturbation: Perturbation = Perturbation()


@dataclasses.dataclass(frozen=True)
class PreparedRun:
    """A RunConfig with its components built and its key computed."""

    config: RunConfig
    method: Method
    dataset: Dataset
    method_spec: dict
    dataset_spec: dict
    key: str


def _with_seed(cls: type, params: Mapping[str, Any], seed: int) -> dict:
    """`params` plus `seed=seed` when the class takes a seed and the params leave it unset."""
    params = dict(params)
    if "seed" in cls.param_names() and "seed" not in params:
        params["seed"] = seed
    return params


def build_dataset(name: str, params: Mapping[str, Any], seed: int) -> tuple[Dataset, dict]:
    """The dataset for a registry name (or a path to the user's own file) and its spec for the record."""
    from nrsfm_bench.registry import DATASETS

    from nrsfm_bench.datasets.user_files import UserFile, is_user_file

    if is_user_file(name):
        dataset = build_component(UserFile, {"path": name, **params}, f"dataset file '{name}'")
        return dataset, {"name": name, "type": dataset.type_tag(), "params": dataset.get_params(),
                         "sha256": dataset.sha256()}

    entry, _ = DATASETS.resolve(name)
    dataset = ComponentSpec("dataset", name, _with_seed(entry.cls, params, seed)).build()
    return dataset, {"name": name, "type": dataset.type_tag(), "params": dataset.get_params()}


def build_method(name: str, params: Mapping[str, Any], seed: int) -> tuple[Method, dict]:
    """The method for a registry name and its spec for the record."""
    from nrsfm_bench.registry import METHODS

    entry, _ = METHODS.resolve(name)
    method = ComponentSpec("method", name, _with_seed(entry.cls, params, seed)).build()
    return method, {"name": name, "type": method.type_tag(), "params": method.get_params()}


def prepare(config: RunConfig) -> PreparedRun:
    """Build the components of a configuration and hash it; raises UsageError on unknown names/params."""
    if config.split not in SPLITS:
        raise UsageError(f"--split {config.split!r} is unknown; expected one of {', '.join(SPLITS)}")
    dataset, dataset_spec = build_dataset(config.dataset, config.dataset_params, config.seed)
    method, method_spec = build_method(config.method, config.method_params, config.seed)
    identity = {"schema": RECORD_SCHEMA, "method": method_spec, "dataset": dataset_spec,
                "split": config.split, "seed": config.seed, "perturbation": config.perturbation.to_dict()}
    return PreparedRun(config, method, dataset, method_spec, dataset_spec, config_hash(identity))


# ------------------------------------------------------------------------------------------------ frames
def choose_frames(seq: Sequence, method: Method, split: str, perturbation: Perturbation,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training frames, evaluated frames) as index arrays into `seq`.

    Inductive methods train on the dataset's train split (all frames when it has none), optionally
    subsampled by `perturbation.train_fraction`; per-sequence methods reconstruct exactly the evaluated frames.
    """
    evaluated = seq.split_indices(split)
    if not method.capabilities.inductive:
        if perturbation.train_fraction != 1:
            raise UsageError(f"method '{method.registry_name}' is per-sequence: train_fraction does not apply")
        return evaluated, evaluated
    training = seq.split_indices("train")
    return perturbation.training_frames(training, seed), evaluated


def evaluation_groups(seq: Sequence, method: Method, split: str, evaluated: np.ndarray) -> dict[str, np.ndarray]:
    """Named subsets of the evaluated frames to score separately, as positions within `evaluated`.

    Always the split itself; for an inductive method evaluated on all frames of a dataset with a split,
    also "train" (frames seen in training) and "test" (unseen).
    """
    groups = {split: np.arange(evaluated.size)}
    if method.capabilities.inductive and split == "all" and seq.split is not None:
        for label in ("train", "test"):
            positions = np.flatnonzero(seq.split[evaluated] == label)
            if positions.size:
                groups[label] = positions
    return groups


def score(seq: Sequence, result: Reconstruction, positions: np.ndarray) -> dict:
    """Metrics of the frames at `positions` of `seq` under every preset (reprojection when there is no 3D)."""
    every_frame = np.array_equal(positions, np.arange(seq.F))  # then no copies (memory at large F·P)
    sub = lambda a: None if a is None else np.asarray(a) if every_frame else np.asarray(a)[positions]  # noqa: E731
    block: dict[str, Any] = {"frames": int(positions.size), "reprojection": None, "presets": {}}
    if result.M is not None:
        errors = reprojection_errors(sub(result.S), sub(result.M), sub(seq.W), sub(seq.visible))
        block["reprojection"] = float(errors.mean())
    if seq.S_gt is None:
        block["note"] = "no 3D ground truth: e3D unavailable"
        return block
    evaluations = evaluate_presets(sub(result.S), sub(seq.S_gt), sub(seq.visible), M_pred=sub(result.M),
                                   M_gt=sub(seq.M_gt))
    for name, evaluation in evaluations.items():
        summary = evaluation.summary()
        summary.pop("reprojection")
        summary["per_frame"] = evaluation.e3d_per_frame
        block["presets"][name] = summary
    return block


# ------------------------------------------------------------------------------------------------ execute
def execute(prepared: PreparedRun, store: ResultsStore, *, data_root: str | os.PathLike | None = None,
            force: bool = False, resume: bool = False, progress: bool = False, device: str = "auto"
            ) -> tuple[dict, bool]:
    """Run (or fetch from the store) one prepared configuration.

    Returns:
        (record, served_from_store).
    """
    if store.has(prepared.key) and not force:
        return store.get(prepared.key), True
    config, method = prepared.config, prepared.method
    root, root_origin = resolve_data_root(data_root)
    watch = Stopwatch()
    with PeakMemory() as memory:
        with watch("load"):
            seq = prepared.dataset.load(root)
            seq = config.perturbation.apply(seq, config.seed)
        training, evaluated = choose_frames(seq, method, config.split, config.perturbation, config.seed)
        record = _record_head(prepared, seq, training, evaluated, root, root_origin)
        training_observations = seq.subset(training).observations()
        skip, reason = method.skip(training_observations)
        if not skip and method.capabilities.inductive:  # unseen frames may hide points the training frames show
            skip, reason = method.skip(seq.subset(evaluated).observations())
        if skip:
            record.update(status="skipped", skip_reason=reason, provenance=provenance())
            return store.put(record), False
        method.context = RunContext(workdir=store.workdir(prepared.key), resume=resume, progress=progress,
                                    device=device)
        with watch("fit"):
            method.fit(training_observations)
        eval_seq = seq.subset(evaluated)
        with watch("reconstruct"):
            result = method.reconstruct(eval_seq.observations()).check(eval_seq, method.registry_name)
        with watch("evaluate"):
            groups = evaluation_groups(seq, method, config.split, evaluated)
            record["evaluation"] = {name: score(eval_seq, result, positions) for name, positions in groups.items()}
    record.update(method_info=result.info, timing_s=watch.seconds, peak_memory_mb=round(memory.peak_mb, 1),
                  provenance=provenance())
    arrays = {"S": result.S.astype(np.float32), "frames": evaluated}
    if result.M is not None:
        arrays["M"] = result.M.astype(np.float32)
    return store.put(record, arrays), False


def _record_head(prepared: PreparedRun, seq: Sequence, training: np.ndarray, evaluated: np.ndarray,
                 root: Path, root_origin: str) -> dict:
    config = prepared.config
    dataset = dict(prepared.dataset_spec, frames=seq.F, points=seq.P, has_ground_truth=seq.has_ground_truth,
                   ordered=seq.ordered, meta=dict(seq.meta))
    if not prepared.dataset.builtin:
        dataset["data_root"] = {"path": str(root), "from": root_origin}
    return {
        "schema": RECORD_SCHEMA, "key": prepared.key, "status": "ok",
        "method": prepared.method_spec, "dataset": dataset, "split": config.split, "seed": config.seed,
        "perturbation": config.perturbation.to_dict(),
        "frames": {"trained_on": int(training.size), "evaluated": int(evaluated.size),
                   "inductive": prepared.method.capabilities.inductive},
    }


def run(config: RunConfig, store: ResultsStore, **options: Any) -> tuple[dict, bool]:
    """prepare + execute: the Python entry point of `nrsfm-bench run`."""
    return execute(prepare(config), store, **options)
