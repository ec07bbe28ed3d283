"""Datasets through the command line: real datasets run end to end; malformed files exit non-zero in one line."""
import json

import numpy as np
import pytest

from nrsfm_bench.cli import main


def cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("name, write, needle", [
    ("bad.npz", lambda p: np.savez(p, W=np.zeros((5, 12))), "field 'W' has rank 2"),
    ("bad.csv", lambda p: p.write_text("frame,point,u,v\n0,0,1,2\n"), "expected frame, point, x, y"),
    ("bad.json", lambda p: p.write_text("{"), "is not valid JSON"),
])
def test_malformed_user_file_exits_1_with_one_line(capsys, tmp_path, store_dir, name, write, needle):
    path = tmp_path / name
    write(path)
    status, out, err = cli(capsys, "run", "--method", "flat", "--dataset", str(path), "--store", str(store_dir))
    assert status == 1 and out == "" and err.count("\n") == 1 and str(path) in err and needle in err


@pytest.mark.realdata
@pytest.mark.parametrize("dataset, params, frames, points", [
    ("classic/drink", [], 1102, 41),
    ("cmu_mocap/43", ["--param", "dataset.stride=8"], 53, 31),
    ("pascal3d/bus", ["--param", "dataset.views_per_model=5"], 30, 12),
])
def test_real_datasets_run_from_the_command_line(capsys, data_root, store_dir, dataset, params, frames, points):
    status, out, _ = cli(capsys, "run", "--method", "flat", "--dataset", dataset, *params, "--data-dir",
                         str(data_root), "--store", str(store_dir), "--json")
    record = json.loads(out)
    assert status == 0 and record["dataset"]["frames"] == frames and record["dataset"]["points"] == points


def test_missing_dataset_exits_non_zero_naming_the_source(capsys, tmp_path, store_dir):
    status, _, err = cli(capsys, "run", "--method", "flat", "--dataset", "classic/yoga", "--data-dir",
                         str(tmp_path), "--store", str(store_dir))
    assert status != 0 and "classic_nrsfm/akhter2011/yoga.mat" in err and "cvlab.lums.edu.pk" in err
