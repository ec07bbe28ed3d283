"""Acclaim ASF (skeleton) and AMC (motion) files, and their forward kinematics to joint positions.

Conventions (Acclaim / CMU; column vectors):

* A bone has a rest vector `v = direction · length` (as written) in the world frame and a local frame `C` given by
  `axis a b c XYZ`: the rotations about x, y, z are applied in the listed order, `C = R_z(c) R_y(b) R_x(a)`.
* An AMC line gives the bone's `dof` angles (same rule: `dof rx ry rz` → `M = R_z R_y R_x`).
* Its global rotation is `R = R_parent C M C⁻¹`, and its tip is `tip = tip_parent + R v`; the root's tip is its
  position `position + (TX, TY, TZ)`, rotated by `C_root M_root C_root⁻¹` (`C_root` from `orientation`).

So a skeleton of B bones gives B + 1 points: the root and the tip (distal end) of every bone.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets.file_cache import cached, freeze
from nrsfm_bench.datasets.skeleton import chain_positions, euler_product, global_rotations
from nrsfm_bench.errors import DataFormatError, DataNotFoundError

_ROTATIONS = {"rx": "x", "ry": "y", "rz": "z"}
_TRANSLATIONS = {"tx": 0, "ty": 1, "tz": 2}


@dataclasses.dataclass(frozen=True)
class AsfSkeleton:
    """A parsed ASF skeleton; joint 0 is the root, bones follow in topological (depth-first) order.

    Attributes:
        path: the file.
        names: (J,) joint names ("root" first).
        parents: (J,) parent index (-1 for the root).
        vectors: (J, 3) rest bone vectors `direction · length` in the world frame (zero for the root).
        frames: (J, 3, 3) local frames `C` (the root's from its `orientation`).
        dofs: per joint, the AMC channels in file order (root: e.g. tx ty tz rx ry rz; a bone: e.g. rx ry rz).
        root_position: (3,) the root's `position`.
        length_unit: the `:units length` value (CMU: 0.45, i.e. 1 file unit = 1/0.45 inch).
        angle_unit: "deg" or "rad".
    """

    path: Path
    names: tuple[str, ...]
    parents: np.ndarray
    vectors: np.ndarray
    frames: np.ndarray
    dofs: tuple[tuple[str, ...], ...]
    root_position: np.ndarray
    length_unit: float
    angle_unit: str

    def index(self, name: str) -> int:
        return self.names.index(name)


@dataclasses.dataclass(frozen=True)
class AmcMotion:
    """A parsed AMC file.

    Attributes:
        path: the file.
        frame_numbers: (F,) the frame numbers as written.
        values: joint name → (F, k) values of its k dofs, in the ASF's dof order (angles in degrees).
    """

    path: Path
    frame_numbers: np.ndarray
    values: dict[str, np.ndarray]

    @property
    def frames(self) -> int:
        return self.frame_numbers.size


# ------------------------------------------------------------------------------------------------ ASF
def _numbers(path: Path, lineno: int, tokens: list[str], count: int | None, what: str) -> list[float]:
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise DataFormatError(path, f"line {lineno}: {what} has non-numeric value(s) {' '.join(tokens)!r}") from None
    if count is not None and len(values) != count:
        raise DataFormatError(path, f"line {lineno}: {what} has {len(values)} value(s); expected {count}")
    return values


def _axis_frame(path: Path, lineno: int, tokens: list[str], angle_unit: str) -> np.ndarray:
    """`axis a b c ORDER` → C (3, 3)."""
    if len(tokens) != 4 or sorted(tokens[3].lower()) != ["x", "y", "z"]:
        raise DataFormatError(path, f"line {lineno}: axis {' '.join(tokens)!r}; expected three angles and an "
                                    "order such as XYZ")
    angles = dict(zip(tokens[3].lower(), _numbers(path, lineno, tokens[:3], 3, "axis")))
    order = tokens[3].lower()
    degrees = [angles[a] if angle_unit == "deg" else np.rad2deg(angles[a]) for a in reversed(order)]
    return euler_product(order[::-1], np.array(degrees))


@cached
def parse_asf(path: Path) -> AsfSkeleton:
    """Read an ASF skeleton file.

    Raises:
        DataFormatError: naming the file, the line and the problem (missing sections, fields, unknown bones).
    """
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    lines = path.read_text(errors="replace").splitlines()
    section, bones, hierarchy = "", [], []
    units = {"length": 1.0, "angle": "deg"}
    root = {"order": ["tx", "ty", "tz", "rx", "ry", "rz"], "axis": "XYZ", "position": [0.0] * 3,
            "orientation": [0.0] * 3}
    bone: dict | None = None
    for lineno, raw in enumerate(lines, 1):
        tokens = raw.split("#")[0].split()
        if not tokens:
            continue
        if tokens[0].startswith(":"):
            section = tokens[0][1:].lower()
            continue
        key, args = tokens[0].lower(), tokens[1:]
        if section == "units" and key in ("length", "angle") and args:
            if key == "length":
                units["length"] = _numbers(path, lineno, args[:1], 1, "units length")[0]
            else:
                units["angle"] = "rad" if args[0].lower().startswith("rad") else "deg"
        elif section == "root":
            if key == "order":
                root["order"] = [a.lower() for a in args]
            elif key in ("position", "orientation"):
                root[key] = _numbers(path, lineno, args, 3, f"root {key}")
            elif key == "axis":
                root["axis"] = args[0] if args else "XYZ"
        elif section == "bonedata":
            if key == "begin":
                bone = {"line": lineno, "dof": []}
            elif key == "end":
                if bone is None:
                    raise DataFormatError(path, f"line {lineno}: 'end' without 'begin' in :bonedata")
                for field in ("name", "direction", "length"):
                    if field not in bone:
                        raise DataFormatError(path, f"bone defined at line {bone['line']} has no '{field}'")
                bones.append(bone)
                bone = None
            elif bone is not None:
                if key == "name":
                    bone["name"] = args[0] if args else ""
                elif key == "direction":
                    bone["direction"] = _numbers(path, lineno, args, 3, "direction")
                elif key == "length":
                    bone["length"] = _numbers(path, lineno, args, 1, "length")[0]
                elif key == "axis":
                    bone["axis"] = (lineno, args)
                elif key == "dof":
                    unknown = [d for d in args if d.lower() not in _ROTATIONS]
                    if unknown:
                        raise DataFormatError(path, f"line {lineno}: dof {' '.join(unknown)!r} is not supported; "
                                                    "expected rx, ry, rz")
                    bone["dof"] = [d.lower() for d in args]
        elif section == "hierarchy" and key not in ("begin", "end"):
            hierarchy.append((lineno, tokens))
    if not bones:
        raise DataFormatError(path, "no bones found; expected a :bonedata section of begin ... end blocks "
                                    "(is this an ASF file?)")
    if not hierarchy:
        raise DataFormatError(path, "no :hierarchy section; expected lines 'parent child1 child2 ...'")
    return _assemble(path, bones, hierarchy, root, units)


def _assemble(path: Path, bones: list[dict], hierarchy: list, root: dict, units: dict) -> AsfSkeleton:
    by_name = {b["name"]: b for b in bones}
    if len(by_name) != len(bones):
        raise DataFormatError(path, "two bones share a name; expected unique bone names")
    children: dict[str, list[str]] = {}
    parent_of: dict[str, str] = {}
    for lineno, tokens in hierarchy:
        for name in tokens:
            if name != "root" and name not in by_name:
                raise DataFormatError(path, f"line {lineno}: hierarchy names bone '{name}', which :bonedata does "
                                            "not define")
        children.setdefault(tokens[0], []).extend(tokens[1:])
        for child in tokens[1:]:
            if child in parent_of or child == "root":
                raise DataFormatError(path, f"line {lineno}: bone '{child}' has a second parent; expected a tree")
            parent_of[child] = tokens[0]
    order, parents, stack = ["root"], [-1], [("root", c) for c in reversed(children.get("root", []))]
    while stack:  # depth first, children in the order the hierarchy lists them
        parent, name = stack.pop()
        order.append(name)
        parents.append(order.index(parent))
        stack.extend((name, c) for c in reversed(children.get(name, [])))
        if len(order) > len(bones) + 1:
            raise DataFormatError(path, "the hierarchy has a cycle; expected a tree rooted at 'root'")
    unreachable = sorted(set(by_name) - set(order))
    if unreachable:
        raise DataFormatError(path, f"bone(s) {', '.join(unreachable)} are not connected to the root in "
                                    ":hierarchy")
    angle_unit = units["angle"]
    vectors, frames, dofs = [np.zeros(3)], [], [tuple(root["order"])]
    frames.append(_axis_frame(path, 0, [*map(str, root["orientation"]), root["axis"]], angle_unit))
    for name in order[1:]:
        bone = by_name[name]
        direction = np.asarray(bone["direction"])  # used as written (unit up to the file's rounding)
        if not np.all(np.isfinite(direction)) or abs(np.linalg.norm(direction) - 1) > 1e-3:
            raise DataFormatError(path, f"bone '{name}' has direction {bone['direction']}; expected a unit vector")
        vectors.append(direction * bone["length"])
        axis_line, axis_args = bone.get("axis", (bone["line"], ["0", "0", "0", "XYZ"]))
        frames.append(_axis_frame(path, axis_line, axis_args, angle_unit))
        dofs.append(tuple(bone["dof"]))
    unknown = [c for c in root["order"] if c not in _ROTATIONS and c not in _TRANSLATIONS]
    if unknown:
        raise DataFormatError(path, f"root order has {unknown}; expected TX TY TZ RX RY RZ channels")
    return freeze(AsfSkeleton(path, tuple(order), np.array(parents), np.array(vectors), np.array(frames),
                              tuple(dofs), np.asarray(root["position"], float), float(units["length"]),
                              angle_unit))


# ------------------------------------------------------------------------------------------------ AMC
@cached
def parse_amc(path: Path, asf_path: Path) -> AmcMotion:
    """Read an AMC motion file against the skeleton of `asf_path` (cached per pair of unchanged files).

    Every frame must list every bone that has dofs, exactly once, with one value per dof.
    """
    skeleton = parse_asf(asf_path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    return _parse_amc_text(path, path.read_text(errors="replace"), skeleton)


def _parse_amc_text(path: Path, text: str, skeleton: AsfSkeleton) -> AmcMotion:
    expected = {name: len(d) for name, d in zip(skeleton.names, skeleton.dofs) if d}
    radians = False
    frame_numbers: list[int] = []
    rows: dict[str, list[list[str]]] = {name: [] for name in expected}
    seen: set[str] = set()

    def close_frame(lineno: int) -> None:
        if frame_numbers and len(seen) != len(expected):
            missing = sorted(set(expected) - seen)
            raise DataFormatError(path, f"frame {frame_numbers[-1]} (ending line {lineno}) lacks bone(s) "
                                        f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}")

    for lineno, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if tokens[0].startswith(":"):
            radians = radians or tokens[0].upper() == ":RADIANS"
            continue
        if len(tokens) == 1 and tokens[0].isdigit():
            close_frame(lineno - 1)
            frame_numbers.append(int(tokens[0]))
            seen = set()
            continue
        name = tokens[0]
        if not frame_numbers:
            raise DataFormatError(path, f"line {lineno}: bone data before the first frame number")
        if name not in expected:
            known = "has no dofs" if name in skeleton.names else "is not in the skeleton"
            raise DataFormatError(path, f"line {lineno}: bone '{name}' {known} ({skeleton.path.name})")
        if name in seen:
            raise DataFormatError(path, f"line {lineno}: bone '{name}' appears twice in frame {frame_numbers[-1]}")
        if len(tokens) - 1 != expected[name]:
            raise DataFormatError(path, f"line {lineno}: bone '{name}' has {len(tokens) - 1} value(s); expected "
                                        f"{expected[name]} ({' '.join(skeleton.dofs[skeleton.index(name)])})")
        seen.add(name)
        rows[name].append(tokens[1:])
    if not frame_numbers:
        raise DataFormatError(path, "no frames found; expected frame numbers each followed by one line per bone")
    close_frame(len(text.splitlines()))
    values = {}
    for name, data in rows.items():
        try:
            array = np.array(data, dtype=np.float64)
        except ValueError:
            raise DataFormatError(path, f"bone '{name}' has non-numeric values") from None
        if not np.isfinite(array).all():
            raise DataFormatError(path, f"bone '{name}' has non-finite values")
        if radians:
            rotation = [d in _ROTATIONS for d in skeleton.dofs[skeleton.index(name)]]
            array[:, rotation] = np.rad2deg(array[:, rotation])
        values[name] = array
    return freeze(AmcMotion(path, np.array(frame_numbers), values))


# ------------------------------------------------------------------------------------------------ FK
def positions(skeleton: AsfSkeleton, motion: AmcMotion | None = None, frames: int = 1) -> np.ndarray:
    """Forward kinematics: the root position and the tip of every bone, per frame.

    Args:
        skeleton: the ASF skeleton.
        motion: the AMC motion, or None for the rest pose (all dofs zero) repeated `frames` times.
    Returns:
        (F, J, 3) positions in file units, joints in `skeleton.names` order.
    """
    F = motion.frames if motion is not None else frames
    J = len(skeleton.names)
    local = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    root = np.broadcast_to(skeleton.root_position, (F, 3)).copy()
    for j, (name, dofs) in enumerate(zip(skeleton.names, skeleton.dofs)):
        values = motion.values.get(name) if motion is not None else None
        if values is None or not dofs:
            continue
        axes = [(k, _ROTATIONS[d]) for k, d in enumerate(dofs) if d in _ROTATIONS]
        for k, d in enumerate(dofs):
            if d in _TRANSLATIONS:
                root[:, _TRANSLATIONS[d]] += values[:, k]
        if axes:  # first listed applied first: M = R_last ⋯ R_first
            M = euler_product([a for _, a in reversed(axes)], values[:, [k for k, _ in reversed(axes)]])
            C = skeleton.frames[j]
            local[:, j] = C @ M @ C.T
    rotations = global_rotations(skeleton.parents, local)
    vectors = np.einsum("fjab,jb->fja", rotations, skeleton.vectors)
    return chain_positions(skeleton.parents, root, vectors)
