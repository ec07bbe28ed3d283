"""`nrsfm-bench reconstruct`: the user's 2D tracks in, shapes / cameras / reprojection errors out, atomically."""
import json

import numpy as np
import pytest

from nrsfm_bench.cli import main
from nrsfm_bench.datasets.synthetic import Synthetic


@pytest.fixture
def rigid_npz(tmp_path):
    seq = Synthetic(frames=40, rigid=True, seed=4).load()
    path = tmp_path / "tracks.npz"
    np.savez(path, W=seq.W, S_gt=seq.S_gt)
    return path


def test_reconstruct_writes_shapes_cameras_and_errors(capsys, rigid_npz, tmp_path):
    out = tmp_path / "out" / "recon.npz"
    status = main(["reconstruct", "--method", "tomasi_kanade", "--input", str(rigid_npz), "--output", str(out),
                   "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["frames"] == 40 and summary["points"] == 31
    assert summary["e3d_dnrsfm"] < 1e-6 and summary["reprojection"] < 1e-9
    with np.load(out) as data:
        assert data["S"].shape == (40, 31, 3) and data["M"].shape == (40, 2, 3)
        assert data["reprojection_error"].shape == (40,)
        info = json.loads(str(data["info"]))
    assert info["method"]["name"] == "tomasi_kanade" and len(info["input_sha256"]) == 64


def test_reconstruct_with_pr_rrn_on_a_csv(capsys, tmp_path):
    seq = Synthetic(frames=40, points=8, seed=1).load()
    rows = ["frame,point,x,y"] + [f"{f},{p},{float(seq.W[f, p, 0])!r},{float(seq.W[f, p, 1])!r}"
                                  for f in range(seq.F) for p in range(seq.P) if (f + p) % 7]  # some hidden
    (tmp_path / "tracks.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "recon.npz"
    status = main(["reconstruct", "--method", "pr_rrn", "--input", str(tmp_path / "tracks.csv"), "--output",
                   str(out), "--param", "method.epochs=2", "--param", "method.batch_size=16"])
    assert status == 0 and "written" in capsys.readouterr().out
    with np.load(out) as data:
        assert data["S"].shape == (40, 8, 3) and np.isfinite(data["S"]).all()
        assert not data["visible"].all()


@pytest.mark.parametrize("argv, needle", [
    (["--input", "missing.npz", "--output", "o.npz"], "missing.npz: file not found"),
    (["--input", "{rigid}", "--output", "o.txt"], "must end in .npz"),
    (["--input", "{rigid}", "--output", "o.npz", "--param", "dataset.frames=3"], "method.<name>"),
])
def test_reconstruct_errors_are_one_line_and_write_nothing(capsys, rigid_npz, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{rigid}", str(rigid_npz)) for a in argv]
    status = main(["reconstruct", "--method", "tomasi_kanade", *argv])
    err = capsys.readouterr().err
    assert status != 0 and needle in err and err.count("\n") == 1
    assert not list(tmp_path.glob("o.*"))
