"""PASCAL3D+: CAD keypoints, the viewpoint camera against the toolbox's projection, both protocols, errors."""
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from nrsfm_bench.datasets.pascal3d import PAPER_CATEGORIES, Pascal3D, viewpoint_cameras
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.geometry import complete_rotation
from nrsfm_bench.registry import DATASETS

KEYPOINTS = {"aeroplane": 8, "bicycle": 11, "bus": 12, "chair": 10, "diningtable": 12, "sofa": 10}
MODELS = {"aeroplane": 7, "bicycle": 5, "bus": 6, "chair": 10, "diningtable": 6, "sofa": 6}


# ------------------------------------------------------------------------------------------- real CAD files
@pytest.mark.realdata
@pytest.mark.parametrize("category", sorted(KEYPOINTS))
def test_cad_views_of_each_real_category(data_root, category):
    seq = Pascal3D(category=category, views_per_model=7).load(data_root)
    assert (seq.F, seq.P) == (MODELS[category] * 7, KEYPOINTS[category])
    assert seq.meta["protocol"] == "cad-views" and not seq.ordered and seq.split is None
    np.testing.assert_allclose(seq.W, seq.S_gt @ seq.M_gt.transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(seq.M_gt @ seq.M_gt.transpose(0, 2, 1), np.broadcast_to(np.eye(2), (seq.F, 2, 2)),
                               atol=1e-12)


@pytest.mark.realdata
def test_keypoints_missing_from_a_cad_model_are_hidden(data_root):
    chair = Pascal3D(category="chair", views_per_model=3).load(data_root)
    legs = [k for k, name in enumerate(chair.point_names) if name.startswith("leg_")]
    hidden = ~chair.visible.reshape(10, 3, 10)  # models x views x keypoints
    assert hidden[[1, 9]][..., legs].all() and hidden.sum() == 2 * 3 * 4  # models 2 and 10 lack the legs
    table = Pascal3D(category="diningtable", views_per_model=1).load(data_root)
    assert (~table.visible).sum(axis=1).tolist() == [4, 4, 4, 4, 4, 8]


@pytest.mark.realdata
def test_all_categories_side_by_side(data_root):
    seq = Pascal3D(views_per_model=2).load(data_root)
    assert seq.P == sum(KEYPOINTS.values()) and seq.F == 2 * sum(MODELS.values())
    assert [c["category"] for c in seq.meta["categories"]] == [c for c in PAPER_CATEGORIES if c in KEYPOINTS]
    chair = Pascal3D(category="chair", views_per_model=2).load(data_root)
    block = next(c for c in seq.meta["categories"] if c["category"] == "chair")
    rows = slice(block["first_frame"], block["first_frame"] + block["frames"])
    cols = slice(block["first_point"], block["first_point"] + 10)
    np.testing.assert_array_equal(seq.W[rows, cols], chair.W)  # same frames alone and together
    assert not seq.visible[rows, :block["first_point"]].any() and seq.point_names[cols.start] == "chair/" + \
        chair.point_names[0]


@pytest.mark.realdata
def test_sampled_viewpoints_are_seeded(data_root):
    a, b, c = (Pascal3D(category="sofa", views_per_model=5, seed=s).load(data_root) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.allclose(a.W, c.W)


@pytest.mark.realdata
@pytest.mark.parametrize("views", ["upright", "sphere"])
def test_self_occluded_keypoints_lie_behind_the_visible_ones(data_root, views):
    # The CAD files' visibility table and our camera convention are independent: if the azimuth / elevation
    # convention were wrong, hidden keypoints would not be systematically farther from the camera.
    for category in ("chair", "bus", "diningtable"):
        occluded = Pascal3D(category=category, views=views, self_occlusion=True).load(data_root)
        full = Pascal3D(category=category, views=views).load(data_root)
        depth = np.einsum("fk,fpk->fp", complete_rotation(full.M_gt)[:, 2], full.S_gt)
        hidden = full.visible & ~occluded.visible
        assert hidden.sum() > 100
        assert depth[hidden].mean() > depth[occluded.visible].mean() + 0.05
        assert (depth[hidden] > 0).mean() > 0.6


# ------------------------------------------------------------------------------------------- the camera
def toolbox_projection(x3d, azimuth, elevation, theta, distance=1e5, focal=1.0, viewport=3000.0):
    """PASCAL3D+'s published projection of 3D points (project_3d.m), step by step, without principal point."""
    a, e, t = np.radians([azimuth, elevation, theta])
    C = distance * np.array([np.cos(e) * np.sin(a), -np.cos(e) * np.cos(a), np.sin(e)])
    a, e = -a, -(np.pi / 2 - e)
    Rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    Rx = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    R = Rx @ Rz
    P = np.diag([viewport * focal, viewport * focal, -1]) @ np.hstack([R, -(R @ C)[:, None]])
    x = P @ np.vstack([x3d.T, np.ones(len(x3d))])
    x = x[:2] / x[2]
    x = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ x
    x[1] = -x[1]
    return x.T


@pytest.mark.parametrize("azimuth, elevation, theta", [(0, 0, 0), (30, 10, 5), (200, -5, -8), (95, 60, 20)])
def test_viewpoint_camera_matches_the_toolbox_projection_at_long_range(azimuth, elevation, theta):
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (9, 3))
    image = toolbox_projection(points, azimuth, elevation, theta)
    M = viewpoint_cameras(np.array([azimuth]), np.array([elevation]), np.array([theta]))[0, :2]
    ours = points @ M.T * 3000.0 / 1e5  # orthographic: scale viewport·focal / distance
    np.testing.assert_allclose(image - image.mean(0), ours - ours.mean(0), atol=1e-4 * np.abs(ours).max())


# ------------------------------------------------------------------------------------------- synthetic files
NAMES = ["seat", "back", "leg_a", "leg_b"]
CAD = np.array([[[0, 0, 0], [0, 0.2, 0.4], [0.1, -0.1, -0.3], [-0.1, -0.1, -0.3]],
                [[0, 0, 0.05], [0, 0.25, 0.5], [0.2, -0.2, -0.3], [np.nan] * 3]])


def write_cad(path: Path, category="chair", name=None):
    fields = ["vertices", "faces", "pnames", *NAMES]
    models = np.zeros((1, len(CAD)), dtype=[(f, "O") for f in fields])
    for m, points in enumerate(CAD):
        values = [np.zeros((3, 3)), np.ones((1, 3)), np.array(NAMES, dtype=object)[None]]
        values += [np.zeros((0, 0)) if np.isnan(p).any() else p[None] for p in points]
        models[0, m] = tuple(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {name or category: models})


def write_annotation(path: Path, objects: list[dict]):
    fields = ["class", "viewpoint", "cad_index", "anchors", "truncated", "occluded", "difficult"]
    array = np.zeros((1, len(objects)), dtype=[(f, "O") for f in fields])
    for i, obj in enumerate(objects):
        array[0, i] = tuple(obj.get(f, 0) for f in fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"record": {"filename": path.stem + ".jpg", "objects": array}})


def chair_object(cad_index, azimuth, elevation, theta, distance=5.0, anchors=None):
    anchors = anchors or {n: {"location": np.array([10.0 * k, 5.0 * k]), "status": 1} for k, n in enumerate(NAMES)}
    return {"class": "chair", "cad_index": cad_index, "anchors": anchors,
            "viewpoint": {"azimuth": azimuth, "elevation": elevation, "theta": theta, "distance": distance}}


@pytest.fixture
def annotated_root(tmp_path):
    write_cad(tmp_path / "pascal3d/CAD/chair.mat")
    folder = tmp_path / "pascal3d/Annotations/chair_pascal"
    no_leg = {n: {"location": np.array([1.0, 2.0]) if n != "leg_a" else np.zeros((0, 0)), "status": 1} for n in NAMES}
    write_annotation(folder / "2008_000001.mat", [chair_object(1, 30, 10, 5),
                                                  {"class": "person", "viewpoint": {"azimuth": 0.0}},
                                                  chair_object(2, 120, 20, -3, anchors=no_leg)])
    write_annotation(folder / "2008_000002.mat", [chair_object(1, 0, 0, 0, distance=0.0),  # coarse only: skipped
                                                  chair_object(2, 250, 5, 0)])
    return tmp_path


def test_annotation_protocol_builds_one_frame_per_object(annotated_root):
    seq = Pascal3D(category="chair").load(annotated_root)
    assert seq.F == 3 and seq.P == 4 and seq.meta["protocol"] == "annotations"
    assert seq.meta["objects"] == 3 and seq.meta["objects_skipped_coarse_viewpoint"] == 1
    R = viewpoint_cameras(np.array([30.0, 120, 250]), np.array([10.0, 20, 5]), np.array([5.0, -3, 0]))
    np.testing.assert_allclose(seq.M_gt, R[:, :2], atol=1e-12)
    expected = CAD[[0, 1, 1]]
    visible = ~np.isnan(expected).any(-1)
    np.testing.assert_array_equal(seq.visible, visible)  # model 2 lacks leg_b
    centred = np.where(visible[..., None], expected - np.nanmean(expected, axis=1, keepdims=True), 0)
    np.testing.assert_allclose(seq.S_gt, centred, atol=1e-12)
    np.testing.assert_allclose(seq.W, seq.S_gt @ seq.M_gt.transpose(0, 2, 1), atol=1e-12)


def test_annotated_2d_keypoints_and_their_missing_entries(annotated_root):
    seq = Pascal3D(category="chair", keypoints_2d="annotated").load(annotated_root)
    assert seq.M_gt is None and seq.visible[1].tolist() == [True, True, False, False]  # no leg_a anchor, no leg_b
    np.testing.assert_allclose(seq.W[0], np.array([[0, 0], [10, 5], [20, 10], [30, 15]]) - [15, 7.5])


def test_cad_views_protocol_can_be_forced_and_registry_names(annotated_root):
    assert Pascal3D(category="chair", protocol="cad-views", views_per_model=4).load(annotated_root).F == 8
    assert DATASETS.resolve("pascal3d")[1] == {} and DATASETS.resolve("pascal3d/boat")[1] == {"category": "boat"}
    with pytest.raises(ValueError, match="category must be one of"):
        Pascal3D(category="horse")


@pytest.mark.parametrize("case, match", [
    ("mislabelled_cad", r"variable 'chair' missing; expected .*\(the file holds: sofa\)"),
    ("cad_index", "cad_index 7 exceeds the 2 CAD models of 'chair'"),
    ("no_record", "variable 'record' missing"),
    ("no_objects", "struct 'record' has no field 'objects'"),
    ("bad_cad_index", "object 1 \\('chair'\\) has cad_index 0"),
    ("bad_keypoint", "model 1, keypoint 'back' has shape \\(1, 2\\)"),
])
def test_malformed_pascal_files(tmp_path, case, match):
    cad = tmp_path / "pascal3d/CAD/chair.mat"
    folder = tmp_path / "pascal3d/Annotations/chair_pascal"
    write_cad(cad, name="sofa" if case == "mislabelled_cad" else None)
    objects = [chair_object(1, 0, 0, 0), chair_object(2, 10, 0, 0)]
    if case == "cad_index":
        objects[1]["cad_index"] = 7
    if case == "bad_cad_index":
        objects[0]["cad_index"] = 0
    write_annotation(folder / "a.mat", objects)
    if case == "no_record":
        scipy.io.savemat(folder / "a.mat", {"records": 1})
    if case == "no_objects":
        scipy.io.savemat(folder / "a.mat", {"record": {"filename": "a.jpg"}})
    if case == "bad_keypoint":
        data = scipy.io.loadmat(cad)["chair"]
        data[0, 0]["back"] = np.array([[0.0, 0.2]])
        scipy.io.savemat(cad, {"chair": data})
    with pytest.raises(DataFormatError) as info:
        Pascal3D(category="chair").load(tmp_path)
    assert re.search(match, str(info.value)) and "\n" not in str(info.value), str(info.value)


def test_missing_category_names_the_cad_file(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"pascal3d/CAD/car.mat.*PASCAL3D"):
        Pascal3D(category="car").load(tmp_path)
