"""`nrsfm-bench check`: a worse method or a stricter reference fails with a readable table; restoring passes."""
import json
from pathlib import Path

import numpy as np
import pytest

import components
from nrsfm_bench import regression
from nrsfm_bench.cli import main

REPO = Path(__file__).resolve().parents[1]


def reference_file(tmp_path: Path, entries=()) -> Path:
    path = tmp_path / "e3d.json"
    path.write_text(json.dumps({
        "schema": 1, "presets": ["dnrsfm", "akhter"], "tolerance": {"relative": 0.02, "absolute": 1e-4},
        "sets": [{"methods": ["test_lift", "test_inductive"],
                  "datasets": [{"name": "synthetic", "params": {"frames": 40, "test_fraction": 0.25}}]}],
        "entries": list(entries)}))
    return path


def check(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    status = main(["check", "--reference", str(path), *extra])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def reference(tmp_path, capsys) -> Path:
    path = reference_file(tmp_path)
    status, out, _ = check(capsys, path, "--update")
    assert status == 0 and "reference rewritten" in out
    return path


def test_update_records_values_tolerances_and_commit(reference):
    data = json.loads(reference.read_text())
    entries = data["entries"]
    # test_lift: group all; test_inductive on a split dataset: all, train, test — each under two presets
    assert len(entries) == (1 + 3) * 2
    assert {(e["method"], e["group"]) for e in entries} >= {("test_inductive", "test"), ("test_lift", "all")}
    for entry in entries:
        assert entry["tolerance"] == pytest.approx(max(1e-4, 0.02 * entry["value"]), rel=1e-2)
        assert "commit" in entry and entry["date"]


def test_check_passes_then_fails_on_an_injected_worse_reference_then_passes_again(reference, capsys):
    original = reference.read_text()
    status, out, _ = check(capsys, reference)
    assert status == 0 and "0 regressed" in out and out.count("| ok") == 8

    data = json.loads(original)
    target = next(e for e in data["entries"] if e["method"] == "test_lift" and e["preset"] == "dnrsfm")
    measured = target["value"]
    target["value"] = measured * 0.5  # the reference now claims a much better e3D
    target["tolerance"] = 0.001
    reference.write_text(json.dumps(data))
    status, out, err = check(capsys, reference)
    assert status == 1 and "1 regressed" in out and "check --update" in err
    line = next(row for row in out.splitlines() if "REGRESSED" in row)
    assert "test_lift" in line and "dnrsfm" in line and f"{measured * 0.5:.5g}" in line and f"{measured:.5g}" in line
    assert f"{measured - measured * 0.5:+.3g} (+100.0%)" in line  # the regression, absolute and relative
    assert out.splitlines()[0].startswith("| method") and "reference" in out.splitlines()[0]

    reference.write_text(original)
    assert check(capsys, reference)[0] == 0


def test_a_deliberately_worse_method_fails_and_restoring_it_passes(reference, capsys, monkeypatch):
    def worse(self, seq):
        result = components.lifted(seq, self.depth)
        noise = np.random.default_rng(0).standard_normal(result.S.shape)
        return result.__class__(result.S + 0.5 * noise * np.abs(seq.W).mean(), result.M, result.info)

    with monkeypatch.context() as patch:
        patch.setattr(components.Lift, "_solve", worse)
        status, out, _ = check(capsys, reference)
    assert status == 1 and out.count("REGRESSED") == 2  # test_lift under both presets
    assert all("test_lift" in row for row in out.splitlines() if "REGRESSED" in row)
    assert check(capsys, reference)[0] == 0


def test_improvements_are_reported_but_do_not_fail(reference, capsys):
    data = json.loads(reference.read_text())
    for entry in data["entries"]:
        entry["value"] *= 2
    reference.write_text(json.dumps(data))
    status, out, _ = check(capsys, reference)
    assert status == 0 and out.count("improved: better than the reference") == 8


def test_update_keeps_hand_set_tolerances(reference, capsys):
    data = json.loads(reference.read_text())
    data["entries"][0]["tolerance"] = 0.123
    reference.write_text(json.dumps(data))
    assert check(capsys, reference, "--update")[0] == 0
    assert json.loads(reference.read_text())["entries"][0]["tolerance"] == 0.123
    assert check(capsys, reference, "--update", "--tolerance", "0.5")[0] == 0
    assert {e["tolerance"] for e in json.loads(reference.read_text())["entries"]} == {0.5}


def missing_data_entry() -> dict:
    return {"method": "test_lift", "dataset": "test_missing_file", "preset": "dnrsfm", "group": "all",
            "value": 0.1, "tolerance": 0.01}


def test_missing_data_is_not_run_locally_and_fails_in_ci(tmp_path, capsys, monkeypatch):
    path = reference_file(tmp_path, [missing_data_entry()])
    monkeypatch.delenv("CI", raising=False)
    status, out, _ = check(capsys, path, "--data-dir", str(tmp_path))
    assert status == 0 and "NOT RUN" in out and "1 not run (data not found; required in CI)" in out
    monkeypatch.setenv("CI", "true")
    status, out, _ = check(capsys, path, "--data-dir", str(tmp_path))
    assert status == 1 and "FAILED: dataset 'test_missing_file' needs never/there.mat" in out


@pytest.mark.parametrize("content, needle", [
    ("{", "not readable as JSON"),
    ('{"schema": 2}', '"schema": 1'),
    ('{"schema": 1, "presets": ["dnrsf"]}', "unknown preset"),
    ('{"schema": 1, "entries": [{"method": "flat"}]}', "entries[0] is malformed"),
    ('{"schema": 1, "entries": [{"method": "flat", "dataset": "synthetic", "preset": "dnrsfm", "group": "all", '
     '"value": "x", "tolerance": 0}]}', "must be numbers"),
])
def test_malformed_reference_is_one_line_naming_the_file(tmp_path, capsys, content, needle):
    path = tmp_path / "ref.json"
    path.write_text(content)
    status, _, err = check(capsys, path)
    assert status == 1 and needle in err and str(path) in err and err.count("\n") == 1


def test_absent_reference_says_how_to_create_one(tmp_path, capsys):
    status, _, err = check(capsys, tmp_path / "none.json")
    assert status == 2 and "check --update" in err


def test_the_committed_reference_builds():
    reference = regression.load_reference(REPO / "results" / "reference" / "e3d.json")
    configs, keys = regression.entry_keys(reference.entries)
    assert reference.entries and len(keys) == len(reference.entries) and configs
    assert all(e.commit for e in reference.entries)
