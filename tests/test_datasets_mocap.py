"""ASF/AMC and BVH readers, forward kinematics against hand-derived values, and the CMU MOCAP dataset."""
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from nrsfm_bench.datasets import asf_amc, bvh
from nrsfm_bench.datasets.cmu_mocap import EDGES, JOINTS, NAMES, PARENTS, CmuMocap, joints_from_asf_amc, \
    joints_from_bvh, train_trial_count
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.registry import DATASETS

SAMPLE = "cmu_mocap/format_sample_subject02"
UNIT = 0.0254 / 0.45


# ------------------------------------------------------------------------------------------- small files
TINY_ASF = """# a two-bone leg
:version 1.10
:units
  length 1.0
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name lfemur
     direction 0.34202 -0.939693 0
     length 4
     axis 0 0 20  XYZ
    dof rx ry rz
    limits (-160.0 20.0)
           (-70.0 70.0)
           (-60.0 70.0)
  end
  begin
     id 2
     name ltibia
     direction 0.34202 -0.939693 0
     length 3
     axis 0 0 20  XYZ
    dof rx
    limits (-10.0 170.0)
  end
:hierarchy
  begin
    root lfemur
    lfemur ltibia
  end
"""


def tiny_amc(*frames: dict) -> str:
    lines = [":FULLY-SPECIFIED", ":DEGREES"]
    for number, frame in enumerate(frames, 1):
        lines.append(str(number))
        lines.append("root " + " ".join(str(v) for v in frame.get("root", [0] * 6)))
        lines.append("lfemur " + " ".join(str(v) for v in frame.get("lfemur", [0, 0, 0])))
        lines.append("ltibia " + " ".join(str(v) for v in frame.get("ltibia", [0])))
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_asf_rest_pose_is_the_offsets_accumulated_along_the_chain(tmp_path):
    asf = write(tmp_path / "leg.asf", TINY_ASF)
    amc = write(tmp_path / "leg.amc", tiny_amc({}, {}))
    points = asf_amc.positions(asf_amc.parse_asf(asf), asf_amc.parse_amc(amc, asf))
    d = np.array([0.34202, -0.939693, 0])  # direction as written
    np.testing.assert_allclose(points[0], [[0, 0, 0], 4 * d, 7 * d], atol=1e-12)


def test_asf_knee_flexed_90_degrees_points_the_shin_backwards(tmp_path):
    # ltibia's local x axis is C e_x = (cos 20°, sin 20°, 0), perpendicular to the leg d = (sin 20°, -cos 20°, 0);
    # rotating d by +90° about it gives (C e_x) × d = (0, 0, -1): the shin points straight back (-z).
    asf = write(tmp_path / "leg.asf", TINY_ASF)
    amc = write(tmp_path / "leg.amc", tiny_amc({"ltibia": [90]}))
    points = asf_amc.positions(asf_amc.parse_asf(asf), asf_amc.parse_amc(amc, asf))[0]
    np.testing.assert_allclose(points[2] - points[1], [0, 0, -3], atol=1e-5)


def test_asf_root_motion_translates_and_rotates_the_whole_chain(tmp_path):
    # root ry = 90°: R_y(90°) maps (x, y, z) to (z, y, -x); TX TY TZ = (1, 2, 3) moves every point.
    asf = write(tmp_path / "leg.asf", TINY_ASF)
    amc = write(tmp_path / "leg.amc", tiny_amc({"root": [1, 2, 3, 0, 90, 0]}))
    points = asf_amc.positions(asf_amc.parse_asf(asf), asf_amc.parse_amc(amc, asf))[0]
    d = np.array([0.34202, -0.939693, 0])  # direction as written
    np.testing.assert_allclose(points[1], [1, 2, 3] + 4 * np.array([d[2], d[1], -d[0]]), atol=1e-12)


TINY_BVH = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
\tJOINT Arm
\t{
\t\tOFFSET 0 1 0
\t\tCHANNELS 3 Zrotation Yrotation Xrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 1 0 0
\t\t}
\t}
}
MOTION
Frames: 3
Frame Time: .0083333
5 0 0 0 0 0 0 0 0
1.5 2.0 3.0 0.0 0.0 0.0 90.0 0.0 0.0
1.5 2.0 3.0 90.0 0.0 0.0 0.0 0.0 0.0
"""


def test_bvh_forward_kinematics_by_hand_and_tpose_detection(tmp_path):
    parsed = bvh.parse_bvh(write(tmp_path / "tiny.bvh", TINY_BVH))
    assert parsed.names == ("Hips", "Arm", "Arm_end") and parsed.first_frame_is_tpose
    points = bvh.positions(parsed)
    # frame 2: Arm's Zrotation 90° turns the end site's (1, 0, 0) into (0, 1, 0): end = (1.5, 2, 3) + (0, 1, 0) +
    # (0, 1, 0); frame 3: the root's Zrotation 90° turns Arm's offset (0, 1, 0) into (-1, 0, 0) and the end
    # site's offset (1, 0, 0) into (0, 1, 0).
    np.testing.assert_allclose(points[1], [[1.5, 2, 3], [1.5, 3, 3], [1.5, 4, 3]], atol=1e-12)
    np.testing.assert_allclose(points[2], [[1.5, 2, 3], [0.5, 2, 3], [0.5, 3, 3]], atol=1e-12)


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("0.0 0.0 90.0 0.0 0.0", "0.0 0.0 90.0 0.0"), r"line 20: frame 2 has 8 values; expected 9"),
    (lambda t: t.replace("Frames: 3", "Frames: 4"), "truncated: the header declares 4 frames but 3 frame lines"),
    (lambda t: t.replace("Zrotation Yrotation Xrotation\n\t\tEnd", "Zrotation Yrotation Wrotation\n\t\tEnd"),
     "line 9: joint 'Arm' has channel 'Wrotation'"),
    (lambda t: t.split("MOTION")[0], "has no MOTION section"),
    (lambda t: t.replace("\t\t}\n\t}\n}\nMOTION", "\t\t}\n\t}\nMOTION"), "file ends inside HIERARCHY"),
    (lambda t: t.replace("1.5 2.0 3.0 90.0", "1.5 2.0 3.0 ninety"), "line 21: non-numeric channel value"),
    (lambda t: t.replace("HIERARCHY", "HIERARCHIE"), "does not start with HIERARCHY"),
    (lambda t: t.replace("OFFSET 0 1 0", "OFFSET 0 1"), r"line 9: OFFSET of 'Arm' has 'CHANNELS'; expected a number"),
])
def test_malformed_bvh_raises_one_line_error(tmp_path, edit, match):
    path = write(tmp_path / "bad.bvh", edit(TINY_BVH))
    with pytest.raises(DataFormatError) as info:
        bvh.parse_bvh(path)
    assert str(info.value).startswith(str(path.resolve())) and "\n" not in str(info.value)
    assert re.search(match, str(info.value)), str(info.value)


@pytest.mark.parametrize("amc, match", [
    (tiny_amc({}).replace("ltibia 0", "lknee 0"), "line 6: bone 'lknee' is not in the skeleton"),
    (tiny_amc({}).replace("ltibia 0", "ltibia 0 1"), r"line 6: bone 'ltibia' has 2 value\(s\); expected 1 \(rx\)"),
    (tiny_amc({}, {}).replace("ltibia 0\n2", "2"), "frame 1 .* lacks bone.* ltibia"),
    (tiny_amc({}).replace("lfemur 0 0 0", "lfemur 0 zero 0"), "bone 'lfemur' has non-numeric values"),
    (tiny_amc({}).replace("\n1\n", "\n"), "line 3: bone data before the first frame number"),
    (":FULLY-SPECIFIED\n:DEGREES\n", "no frames found"),
    (tiny_amc({}) + "ltibia 5\n", "line 7: bone 'ltibia' appears twice in frame 1"),
])
def test_malformed_amc_raises_one_line_error(tmp_path, amc, match):
    asf = write(tmp_path / "leg.asf", TINY_ASF)
    path = write(tmp_path / "bad.amc", amc)
    with pytest.raises(DataFormatError) as info:
        asf_amc.parse_amc(path, asf)
    assert str(info.value).startswith(str(path.resolve())) and "\n" not in str(info.value)
    assert re.search(match, str(info.value)), str(info.value)


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("lfemur ltibia", "lfemur lknee"), "hierarchy names bone 'lknee'"),
    (lambda t: t.split(":hierarchy")[0], "no :hierarchy section"),
    (lambda t: t.replace("length 3", ""), "has no 'length'"),
    (lambda t: t.replace("dof rx\n", "dof rx tx\n"), "dof 'tx' is not supported"),
    (lambda t: "just text\n", "no bones found"),
])
def test_malformed_asf_raises_one_line_error(tmp_path, edit, match):
    path = write(tmp_path / "bad.asf", edit(TINY_ASF))
    with pytest.raises(DataFormatError) as info:
        asf_amc.parse_asf(path)
    assert re.search(match, str(info.value)) and "\n" not in str(info.value), str(info.value)


def test_train_trial_count_is_the_nearest_80_percent_with_a_test_trial():
    assert [train_trial_count(n) for n in (1, 2, 3, 4, 8, 12, 13, 14, 25)] == [1, 1, 2, 3, 6, 10, 10, 11, 20]


def test_registry_accepts_any_subject_and_lists_the_paper_subjects():
    entry, params = DATASETS.resolve("cmu_mocap/02")
    assert entry.cls is CmuMocap and params == {"subject": "02"}
    assert "cmu_mocap/23" in DATASETS.names() and "cmu_mocap/02" not in DATASETS.names()
    assert CmuMocap(subject="7").subject == "07"
    with pytest.raises(ValueError):
        CmuMocap(subject="walk")


def test_missing_subject_says_where_it_looked(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"no ASF/AMC or BVH trial of subject 38 under .*cmu_mocap"):
        CmuMocap(subject="38").load(tmp_path)
    assert not CmuMocap(subject="38").status(tmp_path).found


# ------------------------------------------------------------------------------------------- real files
@pytest.mark.realdata
def test_real_asf_bone_lengths_are_constant_and_equal_the_asf_lengths(data_root):
    asf, amc = data_root / SAMPLE / "02.asf", data_root / SAMPLE / "02_01.amc"
    text = asf.read_text()
    lengths = dict(re.findall(r"name (\w+)\s+direction [^\n]+\s+length ([\d.e+-]+)", text))
    points = joints_from_asf_amc(amc, asf)
    assert points.shape == (343, 31, 3)
    bones = np.linalg.norm(points[:, 1:] - points[:, list(PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to([float(lengths[n]) for n in NAMES[1:]], bones.shape),
                               rtol=1e-6)  # directions are unit vectors to the file's 6 digits


@pytest.mark.realdata
def test_real_asf_rest_pose_equals_the_offsets_accumulated_along_the_chain(data_root):
    asf = data_root / SAMPLE / "02.asf"
    text = asf.read_text()
    vectors = {name: np.array(direction.split(), float) * float(length) for name, direction, length in
               re.findall(r"name (\w+)\s+direction ([^\n]+?)\s+length ([\d.e+-]+)", text)}
    skeleton = asf_amc.parse_asf(asf)
    rest = asf_amc.positions(skeleton)[0]
    for k, name in enumerate(NAMES[1:], 1):
        chain, j = np.zeros(3), k
        while j > 0:
            chain, j = chain + vectors[NAMES[j]], PARENTS[j]
        np.testing.assert_allclose(rest[skeleton.index(name)], chain, atol=1e-9)


def asf_amc_as_bvh(asf: Path, amc: Path, frames: int) -> str:
    """The ASF/AMC motion written as a BVH (true bone offsets; rotations L = C M C⁻¹ as ZYX Euler angles by
    scipy), to check the BVH path against the ASF/AMC path on the same motion."""
    skeleton = asf_amc.parse_asf(asf)
    motion = asf_amc.parse_amc(amc, asf)
    index = {name: skeleton.index(name) for name in NAMES}
    children = {k: [c for c, p in enumerate(PARENTS) if p == k] for k in range(len(NAMES))}
    lines = ["HIERARCHY"]

    def node(k: int, depth: int) -> None:
        tab = "\t" * depth
        parent = PARENTS[k]
        offset = skeleton.vectors[index[NAMES[parent]]] if parent >= 0 else np.zeros(3)
        lines.append(f"{tab}{'ROOT' if k == 0 else 'JOINT'} {JOINTS[k][1]}")
        lines.append(f"{tab}{{")
        lines.append(f"{tab}\tOFFSET {' '.join(f'{v:.10f}' for v in offset)}")
        channels = "6 Xposition Yposition Zposition" if k == 0 else "3"
        lines.append(f"{tab}\tCHANNELS {channels} Zrotation Yrotation Xrotation")
        for child in children[k]:
            node(child, depth + 1)
        if not children[k]:
            end = skeleton.vectors[index[NAMES[k]]]
            lines.extend([f"{tab}\tEnd Site", f"{tab}\t{{", f"{tab}\t\tOFFSET {' '.join(f'{v:.10f}' for v in end)}",
                      f"{tab}\t}}"])
        lines.append(f"{tab}}}")

    node(0, 0)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: .0083333"]
    for f in range(frames):
        row = list(motion.values["root"][f, :3])
        for k, name in enumerate(NAMES):
            dofs = skeleton.dofs[index[name]]
            values = motion.values.get(name)
            angles = {d: 0.0 for d in ("rx", "ry", "rz")}
            if values is not None:
                angles.update({d: v for d, v in zip(dofs, values[f]) if d.startswith("r")})
            M = Rotation.from_euler("xyz", [angles["rx"], angles["ry"], angles["rz"]], degrees=True).as_matrix()
            C = skeleton.frames[index[name]]
            row += list(Rotation.from_matrix(C @ M @ C.T).as_euler("ZYX", degrees=True))
        lines.append(" ".join(f"{v:.10f}" for v in row))
    return "\n".join(lines) + "\n"


@pytest.mark.realdata
def test_bvh_and_asf_amc_give_the_same_31_joints_for_the_same_motion(data_root, tmp_path):
    asf, amc = data_root / SAMPLE / "02.asf", data_root / SAMPLE / "02_01.amc"
    path = write(tmp_path / "02_01.bvh", asf_amc_as_bvh(asf, amc, frames=12))
    from_bvh = joints_from_bvh(bvh.parse_bvh(path))
    np.testing.assert_allclose(from_bvh, joints_from_asf_amc(amc, asf)[:12], atol=1e-6)


@pytest.mark.realdata
def test_cmu_subject_02_from_asf_amc(data_root):
    seq = CmuMocap(subject="02").load(data_root)
    assert (seq.F, seq.P) == (343, 31) and seq.meta["format"] == "asf_amc" and seq.point_names == NAMES
    np.testing.assert_allclose(seq.S_gt.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(seq.W, seq.S_gt @ seq.M_gt.transpose(0, 2, 1), atol=1e-12)
    femur = np.linalg.norm(seq.S_gt[:, NAMES.index("lfemur")] - seq.S_gt[:, NAMES.index("lhipjoint")], axis=-1)
    np.testing.assert_allclose(femur, 7.59371 * UNIT, rtol=1e-6)  # 02.asf: lfemur length 7.59371 units
    assert seq.meta["units"] == "m" and np.array_equal(seq.edges, EDGES)


@pytest.mark.realdata
@pytest.mark.parametrize("subject, frames", [("20", [249]), ("43", [422]), ("93", [443]),
                                             ("23", [473, 504, 518, 305, 496, 390, 182, 216, 215, 176])])
def test_cmu_bvh_subjects_drop_the_tpose_and_keep_bone_lengths(data_root, subject, frames):
    seq = CmuMocap(subject=subject).load(data_root)
    assert (seq.F, seq.P) == (sum(frames) - len(frames), 31)  # PROVENANCE Frames include the T-pose
    bones = np.linalg.norm(seq.S_gt[:, 1:] - seq.S_gt[:, list(PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(bones[0], bones.shape), atol=1e-9)
    for coincident in ("thorax", "lwrist", "rwrist"):  # zero-length bones of the cgspeed conversion
        k = NAMES.index(coincident)
        np.testing.assert_allclose(seq.S_gt[:, k], seq.S_gt[:, PARENTS[k]], atol=1e-12)
    assert seq.meta["format"] == "bvh" and all(t["dropped_first_frame"] for t in seq.meta["trials"])


@pytest.mark.realdata
def test_cmu_subject_23_split_follows_the_trial_order(data_root):
    seq = CmuMocap(subject="23", stride=4).load(data_root)
    splits = {t["trial"]: t["split"] for t in seq.meta["trials"]}
    assert [k for k, v in splits.items() if v == "test"] == ["23_21", "23_22", "23_23", "23_24", "23_25"]
    assert seq.F == sum(math.ceil((n - 1) / 4) for n in (473, 504, 518, 305, 496, 390, 182, 216, 215, 176))
    assert (seq.split == "test").sum() == sum(t["frames"] for t in seq.meta["trials"] if t["split"] == "test")
    assert seq.meta["fps"] == 30 and len(seq.meta["trials_missing"]) == 15


@pytest.mark.realdata
def test_cmu_cameras_are_seeded_and_tpose_can_be_kept(data_root):
    a, b, c = (CmuMocap(subject="43", seed=s).load(data_root) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.allclose(a.W, c.W)
    assert CmuMocap(subject="43", tpose="keep").load(data_root).F == a.F + 1


@pytest.mark.realdata
def test_cmu_official_asf_amc_layout_is_found(data_root, tmp_path):
    folder = tmp_path / "cmu_mocap/all_asfamc/subjects/02"
    folder.mkdir(parents=True)
    for name in ("02.asf", "02_01.amc"):
        (folder / name).symlink_to(data_root / SAMPLE / name)
    seq = CmuMocap(subject="2", format="asf_amc").load(tmp_path)
    assert seq.F == 343 and seq.meta["trials"][0]["file"] == "cmu_mocap/all_asfamc/subjects/02/02_01.amc"
    with pytest.raises(DataNotFoundError, match="no BVH trial"):
        CmuMocap(subject="02", format="bvh").load(tmp_path)


@pytest.mark.realdata
def test_partial_subject_status_lists_the_missing_trials(data_root):
    status = CmuMocap(subject="43").status(data_root)
    assert status.found and status.missing == ("trial 43_02", "trial 43_03")
    assert CmuMocap(subject="02").status(data_root).missing == ()  # trial count unknown: nothing to list
