"""Sweeps: specification files and flags, resuming a killed sweep, joblib and dask writing the same store."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import components  # noqa: F401 (registers the test components)
import sweep_components  # noqa: F401
from nrsfm_bench.cli import main
from nrsfm_bench.errors import UsageError
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.store import ResultsStore
from nrsfm_bench.sweep import execute_plan, make_plan
from nrsfm_bench.sweep_spec import parse_spec, read_spec_file

TESTS = Path(__file__).parent

TOML = """
methods = ["tomasi_kanade", {name = "flat"}]
datasets = [{name = "synthetic", params = {frames = 30}}]
seeds = 2
[perturbations]
noise = [0.0, 0.05]
train_fraction = [0.5]
occlusion_frames = 5
"""

YAML = """
methods: [tomasi_kanade, {name: flat}]
datasets:
  - {name: synthetic, params: {frames: 30}}
seeds: [0, 1]
perturbations:
  noise: [0.0, 0.05]
  train_fraction: [0.5]
  occlusion_frames: 5
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_toml_and_yaml_describe_the_same_sweep(tmp_path):
    a = parse_spec(read_spec_file(write(tmp_path / "s.toml", TOML)))
    b = parse_spec(read_spec_file(write(tmp_path / "s.yaml", YAML)))
    assert a.configs() == b.configs()
    # axes: the identity, noise 0.05, train fraction 0.5 (noise 0.0 is the identity) × 2 methods × 2 seeds
    assert [p.to_dict() for p in a.perturbations] == [{}, {"noise": 0.05}, {"train_fraction": 0.5}]
    assert len(a.configs()) == 12


def test_grid_mode_crosses_levels():
    spec = parse_spec({"methods": ["flat"], "datasets": ["synthetic"],
                       "perturbations": {"noise": [0.0, 0.1], "occlusion": [0.0, 0.2], "mode": "grid"}})
    assert len(spec.perturbations) == 4
    assert Perturbation(noise=0.1, occlusion=0.2) in spec.perturbations


@pytest.mark.parametrize("text, needle", [
    ("methods = ['flat']\n", "field 'datasets'"),
    ("methods = ['flat']\ndatasets = ['synthetic']\nseed = 3\n", "field 'seed' is unknown"),
    ("methods = ['flat']\ndatasets = ['synthetic']\nseeds = 'x'\n", "field 'seeds'"),
    ("methods = ['flat']\ndatasets = ['synthetic']\n[perturbations]\nnoise = [-1]\n", "invalid level"),
    ("methods = ['flat']\ndatasets = ['synthetic']\n[perturbations]\nnose = [0.1]\n", "perturbations.nose"),
    ("methods = ['flat'\n", "not valid TOML"),
])
def test_bad_specification_is_one_line_naming_file_and_field(tmp_path, capsys, text, needle):
    path = write(tmp_path / "bad.toml", text)
    status = main(["sweep", "--config", str(path), "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert status == 2 and needle in err and str(path) in err and err.count("\n") == 1


def test_per_sequence_methods_skip_training_fractions_and_flags_replace_fields(tmp_path, capsys):
    path = write(tmp_path / "s.toml", TOML)
    status = main(["sweep", "--config", str(path), "--seeds", "1", "--store", str(tmp_path / "store"), "--dry-run"])
    captured = capsys.readouterr()
    assert status == 0 and "4 runs, 2 not applicable" in captured.err
    assert captured.out.count("to run") == 4 and "per-sequence method" in captured.out


def test_param_flag_goes_to_the_components_that_take_it(tmp_path, capsys):
    argv = ["sweep", "--method", "test_lift", "--method", "flat", "--dataset", "synthetic", "--param",
            "dataset.frames=20", "--param", "method.depth=1.0", "--store", str(tmp_path / "s")]
    assert main(argv) == 0
    records = ResultsStore(tmp_path / "s").records()
    params = {r["method"]["name"]: r["method"]["params"] for r in records}
    assert params["test_lift"]["depth"] == 1.0 and "depth" not in params["flat"]
    capsys.readouterr()
    assert main([*argv[:-2], "--param", "method.nope=1", "--store", str(tmp_path / "s")]) == 2
    assert "no method of the sweep takes a parameter 'nope'" in capsys.readouterr().err


def test_a_failing_run_is_reported_and_the_others_complete(tmp_path, capsys):
    status = main(["sweep", "--method", "test_sleep", "--dataset", "synthetic", "--param", "dataset.frames=20",
                   "--param", "method.fail_seeds=[1]", "--seeds", "3", "--store", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert status == 1 and "2 ok" in out and "1 failed" in out and "deliberate failure for seed 1" in out
    assert len(ResultsStore(tmp_path / "s").records()) == 2


def sweep_config(tmp_path: Path, seconds: float, runs: int) -> Path:
    return write(tmp_path / "slow.toml", f"""
methods = [{{name = "test_sleep", params = {{seconds = {seconds}}}}}]
datasets = [{{name = "synthetic", params = {{frames = 20}}}}]
seeds = {runs}
imports = ["sweep_components"]
""")


def test_killed_sweep_resumes_with_only_the_missing_runs(tmp_path, capsys):
    runs, store_dir = 10, tmp_path / "store"
    config = sweep_config(tmp_path, 0.5, runs)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "nrsfm_bench", "sweep", "--config", str(config), "--store",
                                str(store_dir)], env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(store_dir.glob("runs/*.json"))) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = {p.name: p.read_bytes() for p in store_dir.glob("runs/*.json")}
    assert 3 <= len(before) < runs, "the sweep should have been killed half-way"

    status = main(["sweep", "--config", str(config), "--store", str(store_dir)])
    err = capsys.readouterr().err
    assert status == 0
    assert f"{len(before)} already in" in err and f"{runs - len(before)} to run" in err
    assert err.count("] ok") == runs - len(before)  # one progress line per computed run
    after = {p.name: p.read_bytes() for p in store_dir.glob("runs/*.json")}
    assert len(after) == runs and all(after[name] == data for name, data in before.items())  # untouched


def metrics(store: ResultsStore) -> dict:
    return {r["key"]: (r["status"], r["evaluation"]) for r in store.records()}


def test_dask_on_loopback_writes_the_same_store_as_joblib(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec = parse_spec(read_spec_file(write(tmp_path / "s.toml", TOML)))
    joblib_store, dask_store = ResultsStore(tmp_path / "joblib"), ResultsStore(tmp_path / "dask")
    result = execute_plan(make_plan(spec, joblib_store), joblib_store, jobs=2, stream=open(os.devnull, "w"))
    assert result.ok == 8 and not result.failed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        dask_result = execute_plan(make_plan(spec, dask_store), dask_store, backend="dask",
                                   scheduler=cluster.scheduler_address, stream=open(os.devnull, "w"))
    assert dask_result.ok == 8
    assert metrics(joblib_store) == metrics(dask_store) and len(metrics(dask_store)) == 8
    for key in metrics(dask_store):
        a, b = joblib_store.load_arrays(key), dask_store.load_arrays(key)
        assert a.keys() == b.keys() and all((a[n] == b[n]).all() for n in a)
    with pytest.raises(UsageError, match="needs --scheduler"):
        execute_plan(make_plan(spec, dask_store, force=True), dask_store, backend="dask")


def test_dask_scheduler_unreachable_is_a_usage_error(tmp_path):
    pytest.importorskip("dask.distributed")
    store = ResultsStore(tmp_path / "s")
    plan = make_plan(parse_spec({"methods": ["flat"], "datasets": ["synthetic"]}), store)
    with pytest.raises(UsageError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
        execute_plan(plan, store, backend="dask", scheduler="tcp://127.0.0.1:9", connect_timeout=1)


def test_a_second_sweep_on_the_same_store_is_refused_and_a_stale_lock_is_taken_over(tmp_path, capsys):
    import socket

    from nrsfm_bench.sweep import LOCK_NAME

    store_dir = tmp_path / "store"
    store_dir.mkdir()
    lock = store_dir / LOCK_NAME
    argv = ["sweep", "--method", "flat", "--dataset", "synthetic", "--param", "dataset.frames=20", "--store",
            str(store_dir)]
    lock.write_text(f'{{"pid": {os.getpid()}, "host": "{socket.gethostname()}", "started": "now"}}')
    assert main(argv) == 2
    err = capsys.readouterr().err
    error = err.splitlines()[-1]
    assert error.startswith("nrsfm-bench: error:") and f"another sweep (pid {os.getpid()}" in error
    assert not list(store_dir.glob("runs/*.json")) and lock.exists()

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its process id no longer runs
    lock.write_text(f'{{"pid": {finished.pid}, "host": "{socket.gethostname()}"}}')
    assert main(argv) == 0 and len(list(store_dir.glob("runs/*.json"))) == 1 and not lock.exists()
