"""The runner and the results store: caching by key, splits, skips, failures that write nothing."""
import json

import numpy as np
import pytest

import components  # noqa: F401 (registers the test components)
from nrsfm_bench.errors import DataNotFoundError, InputError, MethodFailure, UsageError
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.runner import RunConfig, prepare, run
from nrsfm_bench.store import ResultsStore

SMALL = {"frames": 40}


def test_same_configuration_is_served_from_the_store(store_dir):
    store = ResultsStore(store_dir)
    config = RunConfig("test_lift", "synthetic", dataset_params=SMALL)
    first, cached_first = run(config, store)
    second, cached_second = run(config, store)
    assert (cached_first, cached_second) == (False, True)
    assert first["evaluation"] == second["evaluation"] and first["key"] == second["key"]
    forced, cached = run(config, store, force=True)
    assert not cached and forced["evaluation"]["all"]["presets"]["dnrsfm"]["e3d"] == \
        first["evaluation"]["all"]["presets"]["dnrsfm"]["e3d"]
    assert len(store.records()) == 1


def test_key_depends_on_everything_that_changes_the_result():
    base = RunConfig("test_lift", "synthetic", dataset_params=SMALL)
    key = prepare(base).key
    assert prepare(RunConfig("test_lift", "synthetic", dataset_params={**SMALL, "K": 3})).key == key  # K=3 is default
    assert prepare(RunConfig("test_lift", "synthetic", dataset_params={**SMALL, "noise": 0})).key == key
    variants = [RunConfig("test_lift", "synthetic", dataset_params={**SMALL, "K": 2}),
                RunConfig("test_lift", "synthetic", dataset_params=SMALL, seed=1),
                RunConfig("test_lift", "synthetic", dataset_params=SMALL, method_params={"depth": 1.0}),
                RunConfig("test_lift", "synthetic", dataset_params=SMALL, perturbation=Perturbation(noise=0.1))]
    assert len({key, *(prepare(v).key for v in variants)}) == 5


def test_record_contents(store_dir):
    record, _ = run(RunConfig("test_lift", "synthetic", dataset_params=SMALL, seed=3), ResultsStore(store_dir))
    assert record["dataset"]["params"]["seed"] == 3 and record["method"]["params"]["seed"] == 3
    assert record["dataset"]["frames"] == 40 and record["dataset"]["points"] == 31
    assert record["method"]["type"] == "components:Lift"
    block = record["evaluation"]["all"]
    assert set(block["presets"]) == {"dnrsfm", "camera_zflip", "akhter"}
    assert len(block["presets"]["dnrsfm"]["per_frame"]) == 40
    assert block["reprojection"] == pytest.approx(0, abs=1e-12)  # identity camera reprojects W exactly
    assert record["peak_memory_mb"] > 0 and record["provenance"]["versions"]["numpy"]
    stored = json.loads(ResultsStore(store_dir).record_path(record["key"]).read_text())
    assert stored["key"] == record["key"]
    arrays = ResultsStore(store_dir).load_arrays(record["key"])
    assert arrays["S"].shape == (40, 31, 3) and arrays["frames"].tolist() == list(range(40))


def test_inductive_method_trains_on_train_split_and_reports_seen_and_unseen(store_dir):
    config = RunConfig("test_inductive", "synthetic", dataset_params={**SMALL, "test_fraction": 0.25})
    record, _ = run(config, ResultsStore(store_dir))
    assert record["frames"] == {"trained_on": 30, "evaluated": 40, "inductive": True}
    assert {g: b["frames"] for g, b in record["evaluation"].items()} == {"all": 40, "train": 30, "test": 10}
    test_only, _ = run(RunConfig("test_inductive", "synthetic", dataset_params={**SMALL, "test_fraction": 0.25},
                                 split="test"), ResultsStore(store_dir))
    assert list(test_only["evaluation"]) == ["test"] and test_only["frames"]["trained_on"] == 30


def test_train_fraction_subsamples_training_frames(store_dir):
    config = RunConfig("test_inductive", "synthetic", dataset_params=SMALL,
                       perturbation=Perturbation(train_fraction=0.5))
    record, _ = run(config, ResultsStore(store_dir))
    assert record["frames"]["trained_on"] == 20 and record["frames"]["evaluated"] == 40
    with pytest.raises(UsageError, match="per-sequence"):
        run(RunConfig("test_lift", "synthetic", dataset_params=SMALL, perturbation=Perturbation(train_fraction=0.5)),
            ResultsStore(store_dir))


def test_method_without_missing_data_support_is_skipped_with_a_reason(store_dir):
    config = RunConfig("test_lift", "synthetic", dataset_params={**SMALL, "missing": 0.2})
    record, _ = run(config, ResultsStore(store_dir))
    assert record["status"] == "skipped" and "missing" in record["skip_reason"]


def test_failures_write_no_record(store_dir):
    store = ResultsStore(store_dir)
    with pytest.raises(MethodFailure, match="non-finite"):
        run(RunConfig("test_lift", "synthetic", method_params={"fail": "nan"}, dataset_params=SMALL), store)
    with pytest.raises(InputError, match="field W"):
        run(RunConfig("test_lift", "test_bad"), store)
    with pytest.raises(DataNotFoundError, match="never/there.mat"):
        run(RunConfig("test_lift", "test_missing_file"), store, data_root=store_dir)
    with pytest.raises(KeyboardInterrupt):
        run(RunConfig("test_lift", "synthetic", method_params={"fail": "interrupt"}, dataset_params=SMALL), store)
    assert store.records() == []
    assert not list(store_dir.rglob("*.json")) and not list(store_dir.rglob("*.tmp"))


def test_noise_and_missing_perturbations_change_observations_not_ground_truth(store_dir):
    config = RunConfig("test_inductive", "synthetic", dataset_params=SMALL,
                       perturbation=Perturbation(noise=0.1, missing=0.2))
    record, _ = run(config, ResultsStore(store_dir))
    assert record["perturbation"] == {"noise": 0.1, "missing": 0.2}
    assert record["dataset"]["meta"]["perturbation"] == {"noise": 0.1, "missing": 0.2}
    assert np.isfinite(record["evaluation"]["all"]["presets"]["dnrsfm"]["e3d"])
