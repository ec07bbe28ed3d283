"""MUCT: the PROVENANCE counts from muct76.rda, the CSV layouts (generated files), and malformed files."""
import re
import warnings

import numpy as np
import pytest

from nrsfm_bench.datasets.muct import COLUMNS, Muct
from nrsfm_bench.errors import DataFormatError, DataNotFoundError


def csv_text(rows, columns=COLUMNS):
    return "\n".join([",".join(columns)] + [",".join(str(v) for v in row) for row in rows]) + "\n"


def face(name, tag=0, offset=0.0, missing=()):
    points = np.arange(152, dtype=float).reshape(76, 2) + 1 + offset
    points[list(missing)] = 0
    return [name, tag, *points.ravel()]


@pytest.fixture
def csv_root(tmp_path):
    rows = [face("i000qa-fn"), face("i000qb-fn", missing=(3, 4)), face("ir000qa-fn", offset=0.5),
            face("i001sc-m2", tag=2, missing=(70,))]
    (tmp_path / "muct").mkdir()
    (tmp_path / "muct/muct76.csv").write_text(csv_text(rows))
    return tmp_path


def test_generated_csv_in_the_official_layout(csv_root):
    seq = Muct().load(csv_root)
    assert (seq.F, seq.P) == (3, 76) and seq.meta["format"] == "csv" and seq.meta["camera_view"] == "abc"
    assert (~seq.visible).sum() == 3 and not seq.visible[1, 3] and not seq.visible[2, 70]
    points = np.arange(152, dtype=float).reshape(76, 2) + 1
    np.testing.assert_allclose(seq.W[0], points - points.mean(0))
    assert Muct(mirrored=True).load(csv_root).meta["mirrored"] == "0010"
    assert Muct(views="ab").load(csv_root).F == 2


def test_opencv_csv_has_y_down(tmp_path):
    (tmp_path / "muct").mkdir()
    rows = [face("i000qa-fn"), face("i000qe-fn", offset=2)]
    flipped = [[r[0], r[1], *np.array(r[2:], float).reshape(76, 2) * [1, -1] + [240, 320]] for r in rows]
    flipped = [[r[0], r[1], *np.ravel(r[2:])] for r in flipped]
    (tmp_path / "muct/muct76-opencv.csv").write_text(csv_text(flipped))
    (tmp_path / "muct/muct76.csv").write_text(csv_text(rows))
    np.testing.assert_allclose(Muct(file="opencv-csv").load(tmp_path).W, Muct(file="csv").load(tmp_path).W)


@pytest.mark.parametrize("content, match", [
    (csv_text([face("i000qa-fn")[:138]] * 2, COLUMNS[:138]), "with 68 landmark pairs; expected name, tag, x00"),
    (csv_text([face("i000qa-fn"), ["i000qb-fn", 0, "left", *face("x")[3:]]]), "non-numeric landmark"),
    (csv_text([face("i000qa-fn"), face("photo-12")]), "face name\\(s\\) not of the MUCT form.*'photo-12'"),
    (csv_text([face("i000qa-fn"), face("i000qf-fn")]), "not of the MUCT form.*camera a-e"),
    (csv_text([face("i000qa-fn"), face("i000qb-fn")[:-1] + [""]]), "missing or non-finite coordinates .*i000qb-fn"),
    ("", "is not a readable CSV file"),
])
def test_malformed_csv(tmp_path, content, match):
    (tmp_path / "muct").mkdir()
    (tmp_path / "muct/muct76.csv").write_text(content)
    with pytest.raises(DataFormatError) as info:
        Muct().load(tmp_path)
    assert re.search(match, str(info.value)) and "\n" not in str(info.value), str(info.value)


def test_corrupt_rda_and_missing_files(tmp_path):
    (tmp_path / "muct").mkdir()
    (tmp_path / "muct/muct76.rda").write_bytes(b"RDX2\nX\n" + bytes(range(256)))
    with pytest.raises(DataFormatError, match="is not a readable R data file"):
        Muct().load(tmp_path)
    with pytest.raises(DataNotFoundError, match="muct/muct76-opencv.csv"):
        Muct(file="opencv-csv").load(tmp_path)
    with pytest.raises(ValueError):
        Muct(views="xyz")


@pytest.mark.realdata
def test_real_muct_counts(data_root):
    seq = Muct().load(data_root)
    assert (seq.F, seq.P) == (3755, 76) and not seq.has_ground_truth and not seq.ordered
    hidden = ~seq.visible
    assert hidden.sum() == 2544 and hidden.any(1).sum() == 840
    views = np.array(list(seq.meta["camera_view"]))
    assert set(views[hidden.any(1)]) == {"b", "c"}  # unavailable points only in views b and c (README.txt)
    assert seq.meta["faces_per_view"] == dict.fromkeys("abcde", 751)
    np.testing.assert_allclose(seq.W.sum(1) / seq.visible.sum(1)[:, None], 0, atol=1e-9)


@pytest.mark.realdata
def test_real_muct_csv_written_from_the_rda_loads_the_same(data_root, tmp_path):
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = rdata.read_rda(str(data_root / "muct/muct76.rda"))["muct76"]
    (tmp_path / "muct").mkdir()
    table.to_csv(tmp_path / "muct/muct76.csv", index=False)
    from_csv, from_rda = Muct(mirrored=True).load(tmp_path), Muct(mirrored=True).load(data_root)
    assert from_csv.F == 7510 and from_rda.meta["mirrored"].count("1") == 3755
    np.testing.assert_array_equal(from_csv.W, from_rda.W)
    np.testing.assert_array_equal(from_csv.visible, from_rda.visible)
