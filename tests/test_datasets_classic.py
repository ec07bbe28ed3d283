"""Classic sequences: counts and consistency on the real files, formats and errors on small synthetic files."""
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from nrsfm_bench.datasets.classic import SEQUENCES, Classic
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.geometry import random_rotations
from nrsfm_bench.registry import DATASETS

COUNTS = {"drink": (1102, 41), "pickup": (357, 41), "stretch": (370, 41), "yoga": (307, 41), "dance": (264, 75),
          "face": (316, 40), "shark": (240, 91), "walking": (260, 55), "dinosaur": (231, 49),
          "face_real": (102, 68)}


# ------------------------------------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_real_sequences_have_the_provenance_counts(data_root, name):
    seq = Classic(sequence=name).load(data_root)
    assert (seq.F, seq.P) == COUNTS[name]
    assert seq.name == f"classic/{name}" and seq.ordered
    assert seq.has_ground_truth == (name not in ("dinosaur", "face_real"))
    np.testing.assert_allclose(seq.W.mean(axis=1), 0, atol=1e-9)  # centred per frame


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["drink", "pickup", "stretch", "yoga"])
def test_akhter_tracks_are_the_file_cameras_times_the_file_shapes(data_root, name):
    raw = scipy.io.loadmat(data_root / "classic_nrsfm/akhter2011" / f"{name}.mat")
    seq = Classic(sequence=name).load(data_root)
    f = seq.F // 2
    Rs_f, S_f = raw["Rs"][2 * f:2 * f + 2], raw["S"][3 * f:3 * f + 3]  # the file's own row layout
    np.testing.assert_allclose(seq.W[f].T, raw["W"][2 * f:2 * f + 2], atol=1e-12)
    np.testing.assert_allclose(seq.M_gt[f], Rs_f, atol=1e-12)
    np.testing.assert_allclose(seq.W[f].T, Rs_f @ S_f, atol=1e-12)
    assert seq.edges.shape == (raw["list"].shape[0], 2) and seq.edges.min() == raw["list"].min() - 1
    assert seq.meta["K"] == int(raw["K"].item())


@pytest.mark.realdata
def test_dance_has_no_rs_and_its_fitted_camera_picks_the_y_z_rows(data_root):
    seq = Classic(sequence="dance").load(data_root)
    assert seq.edges is None  # the file has no `list`
    np.testing.assert_allclose(seq.M_gt, np.broadcast_to([[0, 1, 0], [0, 0, 1]], (seq.F, 2, 3)), atol=1e-9)
    assert seq.meta["cameras"].startswith("fitted")


@pytest.mark.realdata
def test_torresani_frames_are_rows_t_t_plus_f_t_plus_2f(data_root):
    P3 = scipy.io.loadmat(data_root / "classic_nrsfm/torresani2008/jaws.mat")["P3_gt"]
    seq = Classic(sequence="shark").load(data_root)
    F, t = seq.F, 17
    frame = P3[[t, t + F, t + 2 * F]].T
    np.testing.assert_allclose(seq.S_gt[t], frame - frame.mean(0), atol=1e-9)
    np.testing.assert_allclose(seq.W[t], seq.S_gt[t, :, :2], atol=1e-12)  # identity camera


@pytest.mark.realdata
def test_real_2d_sequences_have_no_ground_truth(data_root):
    seq = Classic(sequence="dinosaur").load(data_root)
    raw = scipy.io.loadmat(data_root / "classic_nrsfm/csf_format/dinosaur_real.mat")["W"]
    np.testing.assert_allclose(seq.W[3], (raw[6:8] - raw[6:8].mean(1, keepdims=True)).T, atol=1e-9)
    assert seq.S_gt is None and seq.M_gt is None and "e3D unavailable" in seq.meta["ground_truth"]


@pytest.mark.realdata
def test_random_cameras_are_seeded(data_root):
    a, b, c = (Classic(sequence="face", cameras="random", seed=s).load(data_root) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.allclose(a.W, c.W)
    np.testing.assert_allclose(a.W, a.S_gt @ a.M_gt.transpose(0, 2, 1), atol=1e-12)


# ------------------------------------------------------------------------------------------- synthetic files
def akhter_file(path: Path, F=6, P=5, rng=0, **overrides) -> dict:
    """An Akhter-format file with exact W = Rs S and a 1-based edge list."""
    rng = np.random.default_rng(rng)
    S = rng.standard_normal((F, 3, P))
    R = random_rotations(F, rng)[:, :2]
    data = {"W": np.concatenate(R @ S), "S": np.concatenate(S), "Rs": np.concatenate(R),
            "K": np.array([[3]], np.uint8), "list": np.array([[1, 2], [2, 3]], np.uint8)}
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, data)
    return data


def test_registry_resolves_every_classic_variant():
    for name in SEQUENCES:
        entry, params = DATASETS.resolve(f"classic/{name}")
        assert entry.cls is Classic and params == {"sequence": name}


def test_official_and_flat_file_names_are_found(tmp_path):
    akhter_file(tmp_path / "classic_nrsfm/akhter2011/dance.mat")  # the official download name
    akhter_file(tmp_path / "classic_nrsfm/drink.mat")  # flat in classic_nrsfm/
    assert Classic(sequence="dance").load(tmp_path).F == 6
    seq = Classic(sequence="drink").load(tmp_path)
    np.testing.assert_array_equal(seq.edges, [[0, 1], [1, 2]])
    assert seq.meta["file"] == "classic_nrsfm/drink.mat"


def test_missing_file_names_the_expected_path_and_source(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"classic_nrsfm/akhter2011/yoga.mat.*cvlab.lums.edu.pk"):
        Classic(sequence="yoga").load(tmp_path)
    status = Classic(sequence="yoga").status(tmp_path)
    assert not status.found and status.missing == ("classic_nrsfm/akhter2011/yoga.mat",)


def test_torresani_file_without_ground_truth_camera_gives_identity_view(tmp_path):
    rng = np.random.default_rng(1)
    S = rng.standard_normal((7, 6, 3))  # frame-first
    P3 = np.concatenate([S[..., c] for c in range(3)])  # blocked rows: x(1..F); y(1..F); z(1..F)
    (tmp_path / "classic_nrsfm/torresani2008").mkdir(parents=True)
    scipy.io.savemat(tmp_path / "classic_nrsfm/torresani2008/walking.mat", {"P3_gt": P3})
    seq = Classic(sequence="walking").load(tmp_path)
    np.testing.assert_allclose(seq.S_gt, S - S.mean(1, keepdims=True))
    np.testing.assert_allclose(seq.M_gt[0], np.eye(3)[:2])


def test_bad_constructor_arguments_are_value_errors():
    with pytest.raises(ValueError, match="sequence must be one of"):
        Classic(sequence="hand")
    with pytest.raises(ValueError, match="cameras must be"):
        Classic(sequence="drink", cameras="orbit")
    with pytest.raises(ValueError, match="real 2D tracks"):
        Classic(sequence="dinosaur", cameras="random")


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize("case, match", [
    ("no_W", r"variable 'W' missing; expected .*\(the file holds: .*S"),
    ("W_wrong_rows", "variable 'W' has 11 rows, not a multiple of 2"),
    ("S_frames", "S holds 5 frames x 5 points but W holds 6 x 5"),
    ("inconsistent", r"W does not equal Rs·S \(max residual"),
    ("not_orthonormal", "cameras 'Rs' are not orthonormal"),
    ("list_range", "variable 'list' has indices outside 1..5"),
    ("nan", "variable 'S' has 1 non-finite entries"),
    ("W_is_text", "variable 'W' is a string"),
    ("truncated", "is not a readable MATLAB .mat file"),
    ("empty", "is not a readable MATLAB .mat file"),
    ("hdf5", r"is a MATLAB v7.3 \(HDF5\) file; expected MAT v4/v5"),
])
def test_malformed_files_raise_one_line_errors_naming_the_file(tmp_path, case, match):
    path = tmp_path / "classic_nrsfm/akhter2011/pickup.mat"
    rng = np.random.default_rng(5)
    if case == "no_W":
        akhter_file(path, W=None)
    elif case == "W_wrong_rows":
        akhter_file(path, W=rng.standard_normal((11, 5)))
    elif case == "S_frames":
        akhter_file(path, S=rng.standard_normal((15, 5)))
    elif case == "inconsistent":
        data = akhter_file(path)
        akhter_file(path, W=data["W"] + 1e-3)
    elif case == "not_orthonormal":
        data = akhter_file(path)
        akhter_file(path, Rs=2 * data["Rs"], W=2 * data["W"])
    elif case == "list_range":
        akhter_file(path, list=np.array([[1, 6]]))
    elif case == "nan":
        S = akhter_file(path)["S"].copy()
        S[0, 0] = np.nan
        akhter_file(path, S=S)
    elif case == "W_is_text":
        akhter_file(path, W="tracks")
    elif case == "truncated":
        akhter_file(path)
        _write(path, path.read_bytes()[:300])
    elif case == "empty":
        _write(path, b"")
    elif case == "hdf5":
        header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116) + bytes(8) + b"\x00\x02IM"
        _write(path, header + b"\x89HDF\r\n\x1a\n" + bytes(400))
    with pytest.raises(DataFormatError) as info:
        Classic(sequence="pickup").load(tmp_path)
    message = str(info.value)
    assert message.startswith(str(path.resolve())) or message.startswith(str(path))
    assert "\n" not in message
    assert re.search(match, message), message
