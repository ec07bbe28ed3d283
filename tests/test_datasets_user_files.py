"""The user's own files (.npz, .csv, .json) and the TWO CLOTHS placeholder."""
import json
import re

import numpy as np
import pytest

from nrsfm_bench.datasets.two_cloths import TwoCloths
from nrsfm_bench.datasets.user_files import UserFile, is_user_file, load_user_file
from nrsfm_bench.errors import DataFormatError, DataNotFoundError


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return rng.standard_normal((5, 6, 2)), rng.standard_normal((5, 6, 3))


def centred(X, visible=None):
    visible = np.ones(X.shape[:2], bool) if visible is None else visible
    mean = (X * visible[..., None]).sum(1, keepdims=True) / visible.sum(1)[:, None, None]
    return np.where(visible[..., None], X - mean, 0)


def test_npz_with_all_fields(tmp_path, arrays):
    W, S = arrays
    W = W.copy()
    W[1, 2] = np.nan
    np.savez(tmp_path / "t.npz", W=W, S_gt=S, point_names=np.array(list("abcdef")), edges=np.array([[0, 1]]),
             ordered=True)
    seq = load_user_file(tmp_path / "t.npz")
    visible = np.isfinite(W).all(-1)
    assert seq.ordered and seq.point_names == tuple("abcdef") and not seq.visible[1, 2]
    np.testing.assert_allclose(seq.W, centred(np.nan_to_num(W), visible))
    np.testing.assert_allclose(seq.S_gt, centred(S, visible))
    assert not load_user_file(tmp_path / "t.npz", ordered=False).ordered


def test_csv_with_names_missing_rows_and_ground_truth(tmp_path, arrays):
    W, S = arrays
    rows = ["frame,point,x,y,X,Y,Z"] + [f"{f},p{p},{W[f, p, 0]},{W[f, p, 1]},{S[f, p, 0]},{S[f, p, 1]},{S[f, p, 2]}"
                                        for f in (4, 0, 1, 2, 3) for p in range(6) if (f, p) != (2, 3)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    seq = load_user_file(tmp_path / "t.csv")
    visible = np.ones((5, 6), bool)
    visible[2, 3] = False
    assert seq.point_names == tuple(f"p{p}" for p in range(6)) and (seq.visible == visible).all()
    np.testing.assert_allclose(seq.W, centred(W, visible), atol=1e-12)  # frames sorted numerically
    np.testing.assert_allclose(seq.S_gt, centred(S, visible), atol=1e-12)


def test_json_with_null_points_name_and_meta(tmp_path, arrays):
    W, _ = arrays
    points = W.tolist()
    points[3][1] = None
    (tmp_path / "t.json").write_text(json.dumps({"W": points, "name": "hand", "meta": {"fps": 30}}))
    seq = load_user_file(tmp_path / "t.json")
    assert seq.name == "hand" and not seq.ordered and not seq.visible[3, 1] and seq.meta["user"] == {"fps": 30}


def test_user_file_dataset_for_the_runner(tmp_path, arrays):
    np.savez(tmp_path / "t.npz", W=arrays[0])
    dataset = UserFile(path=str(tmp_path / "t.npz"))
    assert dataset.get_params() == {"path": str(tmp_path / "t.npz"), "ordered": None}
    assert len(dataset.sha256()) == 64 and dataset.status(tmp_path).found
    assert dataset.load().F == 5
    assert is_user_file("my tracks.csv") and is_user_file("a/b.npz") and not is_user_file("classic/drink")
    with pytest.raises(DataNotFoundError, match="nope.npz: file not found"):
        UserFile(path=str(tmp_path / "nope.npz")).load()


def npz(**arrays):
    def write(path):
        np.savez(path, **arrays)
    return write


def text(content):
    return lambda path: path.write_text(content)


def raw(content):
    return lambda path: path.write_bytes(content)


W0 = np.zeros((5, 6, 2))
CSV_HEAD = "frame,point,x,y\n"


@pytest.mark.parametrize("suffix, write, match", [
    ("npz", npz(W=np.zeros((5, 12))), r"field 'W' has rank 2, shape \(5, 12\); expected \(F, P, 2\) float"),
    ("npz", npz(W=np.zeros((5, 6, 3))), "field 'W' has rank 3, shape \\(5, 6, 3\\)"),
    ("npz", npz(tracks=W0), r"field\(s\) tracks; expected W, visible"),
    ("npz", npz(W=W0, S=W0), "unknown field\\(s\\) S;"),
    ("npz", npz(W=W0, S_gt=np.zeros((5, 6, 2))), "field 'S_gt' has rank 3, shape \\(5, 6, 2\\); expected"),
    ("npz", npz(W=W0, visible=np.full((5, 6), 2)), "field 'visible' has shape \\(5, 6\\) and values \\[2\\]"),
    ("npz", npz(W=W0, edges=np.array([[0, 9]])), "field 'edges' has shape \\(1, 2\\); expected .* in \\[0, 6\\)"),
    ("npz", npz(W=np.zeros((1, 6, 2))), "has 1 frame\\(s\\); expected at least 2 frames"),
    ("npz", npz(W=W0, point_names=np.array(["a"])), "field 'point_names' has shape \\(1,\\); expected 6 strings"),
    ("npz", raw(b"PK\x03\x04 not really a zip"), "is not a readable .npz archive"),
    ("npz", npz(W=np.array([[[1, 2]] * 4] * 2, dtype=object)), "object array"),
    ("csv", text("frame,point,u,v\n0,0,1,2\n"), "has columns frame, point, u, v; expected frame, point, x, y"),
    ("csv", text(CSV_HEAD + "0,0,1,2\n0,0,3,4\n"), "has 2 rows for frame 0, point 0"),
    ("csv", text(CSV_HEAD + "0,0,1,left\n"), "column\\(s\\) x, y hold non-numeric values"),
    ("csv", text("frame,point,x,y,X\n0,0,1,2,3\n"), "only some of the columns X, Y, Z"),
    ("csv", text(CSV_HEAD), "has a header but no rows"),
    ("csv", text(CSV_HEAD + "0.5,0,1,2\n1,0,1,2\n"), "column frame holds non-integer numbers"),
    ("json", text("[1, 2]"), "holds a JSON list; expected an object with key 'W'"),
    ("json", text('{"W": [[1, 2], [3]]}'), "key 'W' is not a rectangular nested list"),
    ("json", text('{"W": '), "is not valid JSON"),
    ("json", text('{"S_gt": []}'), "field 'W' missing"),
    ("mat", text("x"), "has suffix '.mat'; expected one of .npz, .csv, .json"),
])
def test_malformed_user_files(tmp_path, suffix, write, match):
    path = tmp_path / f"t.{suffix}"
    write(path)
    with pytest.raises(DataFormatError) as info:
        load_user_file(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message and re.search(match, message), message


def test_two_cloths_is_listed_missing_with_its_source(tmp_path):
    (tmp_path / "two_cloths").mkdir()
    status = TwoCloths().status(tmp_path)
    assert not status.found and "no reader" in status.missing[0]
    with pytest.raises(DataNotFoundError, match="Taylor, Jepson, Kutulakos.*--dataset path/to/two_cloths.npz"):
        TwoCloths().load(tmp_path)
