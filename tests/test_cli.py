"""The command line: one-line errors with the right exit status, JSON output, listings, report."""
import json
import subprocess
import sys

import pytest

import components  # noqa: F401 (registers the test components)
from nrsfm_bench.cli import main


def cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_run_json_twice_is_identical_and_cached(capsys, store_dir):
    argv = ["run", "--method", "test_lift", "--dataset", "synthetic", "--param", "dataset.frames=30",
            "--store", str(store_dir), "--json"]
    status, out, _ = cli(capsys, *argv)
    first = json.loads(out)
    status2, out2, _ = cli(capsys, *argv)
    second = json.loads(out2)
    assert status == status2 == 0
    assert (first["cached"], second["cached"]) == (False, True)
    assert first["metrics"] == second["metrics"] and first["preset"] == "dnrsfm"
    assert first["dataset"]["frames"] == 30 and first["dataset"]["points"] == 31


@pytest.mark.parametrize("argv, needle", [
    (["run", "--method", "test_lif", "--dataset", "synthetic"], "unknown method 'test_lif'; did you mean test_lift"),
    (["run", "--method", "test_lift", "--dataset", "synthetc"], "unknown dataset 'synthetc'; did you mean synthetic"),
    (["run", "--method", "test_lift", "--dataset", "synthetic", "--preset", "dnrsf"], "unknown preset 'dnrsf'"),
    (["run", "--method", "test_lift", "--dataset", "synthetic", "--param", "dataset.frames=x"], "expects int"),
    (["run", "--method", "test_lift", "--dataset", "synthetic", "--param", "bogus"], "malformed"),
    (["run", "--method", "test_lift", "--dataset", "synthetic", "--noise", "-1"], "noise"),
])
def test_usage_errors_are_one_line_with_status_2(capsys, store_dir, argv, needle):
    status, out, err = cli(capsys, *argv, "--store", str(store_dir))
    assert status == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not store_dir.exists() or not list(store_dir.rglob("*.json"))


def test_bad_input_exits_nonzero_and_writes_nothing(capsys, store_dir):
    status, _, err = cli(capsys, "run", "--method", "test_lift", "--dataset", "test_bad", "--store", str(store_dir))
    assert status == 1 and "field W" in err and err.count("\n") == 1
    assert not list(store_dir.rglob("*.json"))


def test_interrupt_exits_130_and_writes_nothing(capsys, store_dir):
    status, _, err = cli(capsys, "run", "--method", "test_lift", "--dataset", "synthetic", "--param",
                         "method.fail=interrupt", "--store", str(store_dir))
    assert status == 130 and "interrupted" in err and not list(store_dir.rglob("*.json"))


def test_unknown_method_from_the_real_console_script_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nrsfm_bench", "run", "--method", "pr_rr", "--dataset",
                             "synthetic", "--store", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown method 'pr_rr'" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_listings(capsys):
    status, out, _ = cli(capsys, "methods", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert status == 0 and rows["test_inductive"]["capabilities"].startswith("inductive")
    status, out, _ = cli(capsys, "datasets", "--json", "--data-dir", "/nonexistent")
    rows = {r["name"]: r for r in json.loads(out)["datasets"]}
    assert rows["synthetic"]["status"] == "built in"
    assert rows["test_missing_file"]["status"] == "missing" and "never/there.mat" in rows["test_missing_file"]["detail"]


def test_report_writes_markdown_latex_csv(capsys, store_dir, tmp_path):
    for seed in (0, 1):
        cli(capsys, "run", "--method", "test_lift", "--dataset", "synthetic", "--param", "dataset.frames=20",
            "--seed", str(seed), "--store", str(store_dir))
    status, out, _ = cli(capsys, "report", "--store", str(store_dir), "--out", str(tmp_path / "rep"))
    assert status == 0 and "test_lift" in out and "±" in out
    assert (tmp_path / "rep" / "e3d_dnrsfm_all.tex").read_text().count(r"\toprule") == 1
    assert "mean,std,n" in (tmp_path / "rep" / "e3d_dnrsfm_all.csv").read_text().splitlines()[0].replace("method,dataset,", "")


def test_tomasi_kanade_recovers_rigid_synthetic_and_flat_does_not(capsys, store_dir):
    def e3d(method, preset):
        status, out, _ = cli(capsys, "run", "--method", method, "--dataset", "synthetic", "--param",
                             "dataset.rigid=true", "--preset", preset, "--store", str(store_dir), "--json")
        assert status == 0
        return json.loads(out)["metrics"]["e3d"]

    for preset in ("dnrsfm", "akhter"):
        assert e3d("tomasi_kanade", preset) < 1e-6
        assert e3d("flat", preset) > 0.1
