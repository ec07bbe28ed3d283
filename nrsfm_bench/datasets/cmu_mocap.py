"""CMU MOCAP subjects as NRSfM data: 31 joints per frame from ASF/AMC or the cgspeed BVH conversion, 80/20 trials.

Protocol (Deep NRSfM / PR-RRN): per subject, trials in order; the first 80% of the subject's trials are
"train", the last 20% "test"; every frame is centred and seen through its own seeded, uniformly random
orthographic camera (`projection.random_orthographic_views`).

The 31 points are the root and the distal end (tip) of each of the 30 ASF bones, in the ASF order of
`JOINTS`. From a BVH file the same points are the root and, for each joint, the position of its first child
(a joint or an end site): BVH joint offsets are the ASF bone vectors. The cgspeed conversion (made with
amc2bvh) writes a zero offset for the children of the three bones that have several children (thorax,
lwrist, rwrist), so in BVH data those three bones have zero length: their tips coincide with their parents'
tips (`thorax` = `upperback`, `lwrist` = `lradius`, `rwrist` = `rradius`) and the neck, head, clavicles and
arms sit lower by the thorax length than in the ASF/AMC original.
"""
from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets import asf_amc, bvh
from nrsfm_bench.datasets.base import Dataset, DatasetStatus
from nrsfm_bench.datasets.layout import relative_name, root_or_default
from nrsfm_bench.datasets.projection import random_orthographic_views
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

FOLDER = "cmu_mocap"
SOURCE = ("CMU Graphics Lab Motion Capture Database, http://mocap.cs.cmu.edu (ASF/AMC: allasfamc.zip); BVH: "
          "the cgspeed 'MotionBuilder-friendly' conversion by B. Hahne (mirror: github.com/una-dinosauria/cmu-mocap)")

#: (ASF bone, cgspeed BVH joint): the 31 points, in order. Point k is the tip of ASF bone k (the root: its position).
JOINTS: tuple[tuple[str, str], ...] = (
    ("root", "Hips"),
    ("lhipjoint", "LHipJoint"), ("lfemur", "LeftUpLeg"), ("ltibia", "LeftLeg"), ("lfoot", "LeftFoot"),
    ("ltoes", "LeftToeBase"),
    ("rhipjoint", "RHipJoint"), ("rfemur", "RightUpLeg"), ("rtibia", "RightLeg"), ("rfoot", "RightFoot"),
    ("rtoes", "RightToeBase"),
    ("lowerback", "LowerBack"), ("upperback", "Spine"), ("thorax", "Spine1"), ("lowerneck", "Neck"),
    ("upperneck", "Neck1"), ("head", "Head"),
    ("lclavicle", "LeftShoulder"), ("lhumerus", "LeftArm"), ("lradius", "LeftForeArm"), ("lwrist", "LeftHand"),
    ("lhand", "LeftFingerBase"), ("lfingers", "LeftHandIndex1"), ("lthumb", "LThumb"),
    ("rclavicle", "RightShoulder"), ("rhumerus", "RightArm"), ("rradius", "RightForeArm"), ("rwrist", "RightHand"),
    ("rhand", "RightFingerBase"), ("rfingers", "RightHandIndex1"), ("rthumb", "RThumb"),
)
NAMES = tuple(asf for asf, _ in JOINTS)
#: Parent of each point (the CMU ASF hierarchy); the skeleton edges are (point, parent).
PARENTS = (-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 13, 17, 18, 19, 20, 21, 20,
           13, 24, 25, 26, 27, 28, 27)
EDGES = np.array([(k, p) for k, p in enumerate(PARENTS) if p >= 0])
#: Other BVH names of the same joints (the renaming template of the cgspeed README).
BVH_ALIASES = {"LeftHandIndex1": ("LFingers",), "RightHandIndex1": ("RFingers",)}
BVH_COINCIDENT = ("thorax = upperback", "lwrist = lradius", "rwrist = rradius")

#: Number of trials of the PR-RRN subjects in the CMU index (B. Hahne's cmu-mocap-index-text.txt), for the split.
KNOWN_TRIALS = {"07": 12, "20": 13, "23": 25, "33": 2, "34": 2, "38": 4, "39": 14, "43": 3, "93": 8}
PAPER_SUBJECTS = tuple(KNOWN_TRIALS)
#: One ASF/AMC length unit in metres: CMU skeletons use `:units length 0.45`, i.e. 1 unit = 1/0.45 inch.
INCH = 0.0254
CMU_LENGTH_UNIT = 0.45
FPS = 120.0
TRAIN_FRACTION = 0.8
FORMATS = ("auto", "asf_amc", "bvh")
TPOSE = ("auto", "drop", "keep")
UNITS = ("m", "file")


def normalize_subject(subject: str | int) -> str:
    """CMU subject id as written in file names: "7" → "07", "143" → "143"."""
    text = str(subject).strip()
    if not text.isdigit():
        raise ValueError(f"subject must be a CMU subject number such as 23 or 07, got {subject!r}")
    return f"{int(text):02d}"


def train_trial_count(total: int) -> int:
    """How many of a subject's `total` trials (in order) are "train": round(0.8 · total), and at least one
    trial on each side when there are two or more."""
    if total < 2:
        return total
    return min(max(int(math.floor(TRAIN_FRACTION * total + 0.5)), 1), total - 1)


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial file of a subject.

    Attributes:
        number: the trial number (MM in NN_MM).
        path: the .amc or .bvh file; asf: the subject's .asf for an AMC trial (None for BVH).
    """

    number: int
    path: Path
    asf: Path | None = None

    @property
    def format(self) -> str:
        return "bvh" if self.asf is None else "asf_amc"


def find_trials(root: Path, subject: str) -> dict[str, dict[int, Trial]]:
    """A subject's trial files under `root/cmu_mocap`, by format ("asf_amc", "bvh") and trial number.

    Any folder layout is searched: the official `all_asfamc/subjects/NN/NN.asf` + `NN_MM.amc`, the cgspeed
    release's `cmuconvert-*/NN/NN_MM.bvh`, a mirror's `data/0NN/NN_MM.bvh`, or flat folders. AMC files are
    taken from the folder of the subject's .asf file.
    """
    base = root / FOLDER
    found: dict[str, dict[int, Trial]] = {"asf_amc": {}, "bvh": {}}
    if not base.is_dir():
        return found
    pattern = re.compile(rf"^{re.escape(subject)}_(\d+)$", re.IGNORECASE)
    for asf in sorted(base.rglob(f"{subject}.asf")):
        for amc in sorted(asf.parent.glob(f"{subject}_*.amc")):
            match = pattern.match(amc.stem)
            if match:
                found["asf_amc"].setdefault(int(match.group(1)), Trial(int(match.group(1)), amc, asf))
    for path in sorted(base.rglob(f"{subject}_*.bvh")):
        match = pattern.match(path.stem)
        if match:
            found["bvh"].setdefault(int(match.group(1)), Trial(int(match.group(1)), path))
    return found


def joints_from_asf_amc(amc: Path, asf: Path) -> np.ndarray:
    """The 31 CMU points (F, 31, 3) of an AMC trial, in file units."""
    skeleton = asf_amc.parse_asf(asf)
    missing = [name for name in NAMES if name not in skeleton.names]
    if missing:
        raise DataFormatError(asf, f"bone(s) {', '.join(missing)} missing; expected the 31-joint CMU skeleton")
    points = asf_amc.positions(skeleton, asf_amc.parse_amc(amc, asf))
    return points[:, [skeleton.index(name) for name in NAMES]]


def joints_from_bvh(parsed: bvh.Bvh, frames: slice | np.ndarray = slice(None)) -> np.ndarray:
    """The 31 CMU points (F, 31, 3) of a cgspeed BVH trial, in file units: the root, and for each joint the
    position of its first child (the tip of the corresponding ASF bone)."""
    first_child = {}
    for index, parent in enumerate(parsed.parents):
        first_child.setdefault(int(parent), index)
    take = []
    for asf_name, bvh_name in JOINTS:
        candidates = [n for n in (bvh_name, *BVH_ALIASES.get(bvh_name, ())) if n in parsed.names]
        if not candidates:
            raise DataFormatError(parsed.path, f"joint '{bvh_name}' missing; expected the 31-joint CMU skeleton "
                                               "of the cgspeed BVH conversion")
        node = parsed.index(candidates[0])
        if asf_name != "root":
            if node not in first_child:
                raise DataFormatError(parsed.path, f"joint '{bvh_name}' has no child or End Site; its tip is "
                                                   "undefined")
            node = first_child[node]
        take.append(node)
    return bvh.positions(parsed, frames)[:, take]


@register_dataset("cmu_mocap", variant_param="subject", variants=PAPER_SUBJECTS, variant_required=True,
                  open_variants=True)
class CmuMocap(Dataset):
    """CMU MOCAP subject: 31 joints (ASF/AMC or cgspeed BVH), random orthographic views, first 80% of trials train."""

    source = SOURCE
    layout = (f"{FOLDER}/**/NN.asf with NN_MM.amc beside it (allasfamc.zip: all_asfamc/subjects/NN/), and/or "
              f"{FOLDER}/**/NN_MM.bvh (cgspeed BVH release)")
    test_parameters = {"stride": 8}

    def __init__(self, *, subject: str, stride: int = 1, format: str = "auto", tpose: str = "auto",
                 units: str = "m", seed: int = 0):
        """
        Args:
            subject: CMU subject number ("23", "07", ...). The paper's subjects are 07, 20, 23, 33, 34, 38, 39,
                43, 93; any subject whose files are present loads.
            stride: keep every `stride`-th frame of each trial (CMU records at 120 fps; stride 4 gives 30 fps).
                The default 1 keeps every frame, as the paper does (its robustness study down-samples on
                purpose, so the full frame rate is the reference).
            format: "asf_amc", "bvh", or "auto" (ASF/AMC when the subject has any, else BVH; formats are never
                mixed within a subject because the BVH skeleton differs, see the module docstring).
            tpose: the T-pose the cgspeed BVH conversion adds as frame 1: "auto" drops it when detected
                (rotations written as integers), "drop" always drops frame 1 of a BVH, "keep" keeps it.
            units: "m" (metres: file units / 0.45 inch) or "file" (ASF units, as stored).
            seed: seed of the random cameras.
        """
        if stride < 1 or int(stride) != stride:
            raise ValueError(f"stride must be a positive integer, got {stride!r}")
        for name, value, allowed in (("format", format, FORMATS), ("tpose", tpose, TPOSE), ("units", units, UNITS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        self.subject, self.stride, self.format, self.tpose, self.units, self.seed = \
            normalize_subject(subject), int(stride), format, tpose, units, seed

    # -------------------------------------------------------------------------------------------- files
    def trials(self, root: Path) -> tuple[str, list[Trial]]:
        """The format used and the subject's trials in that format, in trial order."""
        found = find_trials(root, self.subject)
        fmt = self.format
        if fmt == "auto":
            fmt = "asf_amc" if found["asf_amc"] else "bvh"
        return fmt, [found[fmt][k] for k in sorted(found[fmt])]

    def required_files(self, root: Path) -> list[Path]:
        fmt, trials = self.trials(root)
        if trials:
            return [t.path for t in trials] + sorted({t.asf for t in trials if t.asf is not None})
        first = f"{self.subject}_01"
        if fmt == "asf_amc":
            return [root / FOLDER / "all_asfamc" / "subjects" / self.subject / f"{first}.amc"]
        return [root / FOLDER / "bvh" / self.subject / f"{first}.bvh"]

    def status(self, root: Path) -> DatasetStatus:
        """Found when any trial is present; `missing` lists the absent trials of a subject whose trial count is
        known (the dataset then loads, partially: metadata records the missing trials)."""
        fmt, trials = self.trials(root)
        if not trials:
            return super().status(root)
        total = KNOWN_TRIALS.get(self.subject, 0)
        present = {t.number for t in trials}
        absent = tuple(f"trial {self.subject}_{k:02d}" for k in range(1, total + 1) if k not in present)
        return DatasetStatus(True, root, absent)

    def check_present(self, root: Path) -> None:
        if not self.trials(root)[1]:
            wanted = "ASF/AMC" if self.format == "asf_amc" else "BVH" if self.format == "bvh" else "ASF/AMC or BVH"
            raise DataNotFoundError(
                f"dataset 'cmu_mocap/{self.subject}' found no {wanted} trial of subject {self.subject} under "
                f"{root / FOLDER} (looked for {self.subject}.asf + {self.subject}_MM.amc and {self.subject}_MM.bvh "
                f"in any sub-folder); get it from {SOURCE} (layout: docs/datasets.md)")

    # -------------------------------------------------------------------------------------------- load
    def load(self, root: Path | None) -> Sequence:
        root = root_or_default(root)
        self.check_present(root)
        fmt, trials = self.trials(root)
        total = KNOWN_TRIALS.get(self.subject)
        numbers = [t.number for t in trials]
        ranking = list(range(1, total + 1)) if total else numbers
        n_train = train_trial_count(len(ranking))
        shapes, labels, listing = [], [], []
        unit_scale = INCH / CMU_LENGTH_UNIT if self.units == "m" else 1.0
        for trial in trials:
            points, dropped = self._trial_points(trial)
            points = points[::self.stride] * unit_scale
            label = "train" if trial.number in ranking[:n_train] else "test"
            shapes.append(points)
            labels += [label] * len(points)
            listing.append({"trial": f"{self.subject}_{trial.number:02d}", "frames": len(points), "split": label,
                            "file": relative_name(trial.path, root), "dropped_first_frame": dropped})
            if fmt == "asf_amc":
                self._check_units(trial.asf)
        S = np.concatenate(shapes)
        W, S, M = random_orthographic_views(S, self.seed)
        meta = {
            "source": SOURCE, "subject": self.subject, "format": fmt, "trials": listing,
            "units": "m" if self.units == "m" else "ASF length units (1/0.45 inch)", "unit_scale": unit_scale,
            "fps": FPS / self.stride, "stride": self.stride,
            "split_rule": f"trials in order; the first {n_train} of the subject's {len(ranking)} trials are train "
                          "(round(0.8 n)), the rest test",
            "cameras": f"random: one uniformly random orthographic camera per frame, seeded (seed {self.seed}); "
                       "shapes centred per frame",
            "points": "root + tip of each of the 30 ASF bones (CMU 31-joint skeleton)",
        }
        if total:
            missing = sorted(set(ranking) - set(numbers))
            meta["trials_expected"] = total
            if missing:
                meta["trials_missing"] = [f"{self.subject}_{k:02d}" for k in missing]
        else:
            meta["trials_expected"] = "unknown (subject not in the built-in index); split over the trials found"
        if fmt == "bvh":
            meta["coincident_points"] = list(BVH_COINCIDENT)
            meta["tpose"] = self.tpose
        return Sequence(W=W, S_gt=S, M_gt=M, split=np.array(labels), point_names=NAMES, edges=EDGES,
                        name=f"cmu_mocap/{self.subject}", ordered=True, meta=meta)

    def _trial_points(self, trial: Trial) -> tuple[np.ndarray, bool]:
        """(F, 31, 3) points of one trial in file units, and whether a first (T-pose) frame was dropped."""
        if trial.asf is not None:
            return joints_from_asf_amc(trial.path, trial.asf), False
        parsed = bvh.parse_bvh(trial.path)
        drop = self.tpose == "drop" or (self.tpose == "auto" and parsed.first_frame_is_tpose)
        if drop and parsed.frames < 2:
            raise DataFormatError(trial.path, "has a single frame, which is the T-pose; expected motion frames")
        return joints_from_bvh(parsed, slice(1 if drop else 0, None)), drop

    def _check_units(self, asf: Path) -> None:
        unit = asf_amc.parse_asf(asf).length_unit
        if self.units == "m" and not math.isclose(unit, CMU_LENGTH_UNIT):
            raise DataFormatError(asf, f":units length is {unit}; metres assume CMU's 0.45 (use units='file')")
