"""PASCAL3D+ (release 1.1): CAD keypoints per category, seen under annotated or sampled viewpoints.

Files (as in `PASCAL3D+_release1.1.zip`):

* `CAD/<category>.mat`: one variable named after the category, a 1 x M struct array (one CAD model each) with
  `pnames` (keypoint names) and one field per keypoint holding its (1 x 3) position in the CAD frame (z up), or
  an empty array when that model lacks the keypoint (→ `visible=False`); `azimuth`, `elevation` and
  `visibility` tabulate which keypoints each model shows from a grid of views.
* `Annotations/<category>_pascal/<image>.mat`: a struct `record` whose `objects` array holds per object `class`,
  `cad_index` (1-based), `viewpoint` (`azimuth`, `elevation`, `theta` in degrees, `distance`, ...) and
  `anchors` (per keypoint name, `location` [x y] in pixels or empty).

Protocols (recorded as `protocol` in every sequence's metadata, hence in every result):

* `annotations`: one frame per annotated object of the category with a fine viewpoint (`distance` > 0): the
  keypoints of its CAD model, rotated into the annotated camera. 2D: their orthographic projection
  (`keypoints_2d="projected"`, noise free) or the annotated 2D keypoints (`keypoints_2d="annotated"`).
* `cad-views` (when no annotation is present): every CAD model seen from `views_per_model` seeded random
  viewpoints; `views="upright"`: azimuth ~ U[0°, 360°), elevation ~ U[-10°, 40°], in-plane theta ~ U[-10°, 10°]
  (objects photographed upright from around and slightly above); `views="sphere"`: uniformly random rotations.

The camera follows the PASCAL3D+ toolbox (`project_3d.m`): world → camera `R = R_x(e - 90°) R_z(-a)`, then the
in-plane rotation by theta and the image's downward y. As one rotation:
`R_cam = diag(1, -1, -1) · [[R2(θ), 0], [0, 1]] · R_x(e - 90°) · R_z(-a)`; rows 1-2 give image x (right) and y
(down), row 3 the depth. Shapes are stored in the CAD frame (centred on the visible keypoints) with
`M = R_cam[:2]`, so `W_i = M_i S_i`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.datasets.file_cache import cached, freeze
from nrsfm_bench.datasets.layout import relative_name, root_or_default
from nrsfm_bench.datasets.mat_files import read_mat, struct_field, variable
from nrsfm_bench.datasets.skeleton import axis_rotation
from nrsfm_bench.errors import DataFormatError, DataNotFoundError
from nrsfm_bench.geometry import center_masked, project, random_rotations
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

SOURCE = ("PASCAL3D+ release 1.1 (Xiang, Mottaghi, Savarese, WACV 2014), "
          "https://cvgl.stanford.edu/projects/pascal3d.html (PASCAL3D+_release1.1.zip)")
#: Folders searched under the data root for CAD/ and Annotations/ (the shared layout, the zip's own folder).
BASES = ("pascal3d", "PASCAL3D+_release1.1", "pascal3d/PASCAL3D+_release1.1")
CATEGORIES = ("aeroplane", "bicycle", "boat", "bottle", "bus", "car", "chair", "diningtable", "motorbike", "sofa",
              "train", "tvmonitor")
#: The categories of PR-RRN's Table 2 (at least 8 keypoints), loaded by the bare name `pascal3d`.
PAPER_CATEGORIES = ("aeroplane", "bicycle", "bus", "car", "chair", "diningtable", "motorbike", "sofa")
PROTOCOLS = ("auto", "annotations", "cad-views")
VIEWS = ("upright", "sphere")
UPRIGHT = {"azimuth": (0.0, 360.0), "elevation": (-10.0, 40.0), "theta": (-10.0, 10.0)}


# ------------------------------------------------------------------------------------------------ CAD
@dataclasses.dataclass(frozen=True)
class CadModels:
    """The keypoints of one category's CAD models.

    Attributes:
        path: the CAD file.
        names: (K,) keypoint names in `pnames` order.
        keypoints: (M, K, 3) positions in the CAD frame; NaN where a model lacks a keypoint.
    """

    path: Path
    names: tuple[str, ...]
    keypoints: np.ndarray


@dataclasses.dataclass(frozen=True)
class ViewVisibility:
    """A CAD file's table of which keypoints each model shows from a grid of views.

    Attributes:
        azimuths: (A,) and elevations: (E,) the grid, in degrees.
        visible: (M, A, E, K) bool.
    """

    azimuths: np.ndarray
    elevations: np.ndarray
    visible: np.ndarray

    def lookup(self, model: np.ndarray, azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
        """(F, K) visibility of each keypoint from the nearest tabulated view of each frame's model."""
        a = np.abs(((azimuth[:, None] - self.azimuths[None]) + 180) % 360 - 180).argmin(1)
        e = np.abs(elevation[:, None] - self.elevations[None]).argmin(1)
        return self.visible[model, a, e]


def _text(value) -> str:
    """A MATLAB char array (possibly nested in cells) as a Python string."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.flat[0]
    if isinstance(value, np.ndarray):
        return "".join(value.astype(str).ravel().tolist())
    return str(value)


@cached
def read_cad(path: Path) -> CadModels:
    """Read `CAD/<category>.mat` (the variable is named after the file's category)."""
    category = path.stem
    mat = read_mat(path)
    models = variable(mat, path, category, f"a 1 x M struct array of CAD models named '{category}'")
    fields = getattr(models.dtype, "names", None) or ()
    if "pnames" not in fields or models.size == 0:
        raise DataFormatError(path, f"variable '{category}' has no 'pnames' field; expected the PASCAL3D+ CAD "
                                    "struct (vertices, faces, pnames, one field per keypoint)")
    models = models.ravel()
    names = tuple(_text(n) for n in np.asarray(models[0]["pnames"]).ravel())
    for name in names:
        if name not in fields:
            raise DataFormatError(path, f"keypoint '{name}' is listed in pnames but has no field")
    keypoints = np.full((models.size, len(names), 3), np.nan)
    for m, model in enumerate(models):
        for k, name in enumerate(names):
            point = np.asarray(model[name], dtype=np.float64) if np.asarray(model[name]).size else None
            if point is None:
                continue
            if point.size != 3 or not np.isfinite(point).all():
                raise DataFormatError(path, f"model {m + 1}, keypoint '{name}' has shape {point.shape}; expected "
                                            "a finite 1 x 3 point or an empty array")
            keypoints[m, k] = point.ravel()
    if np.isnan(keypoints).all(axis=(1, 2)).any():
        raise DataFormatError(path, "a CAD model has no keypoint at all")
    return freeze(CadModels(path, names, keypoints))


@cached
def read_view_visibility(path: Path) -> ViewVisibility:
    """The `azimuth`, `elevation`, `visibility` table of a CAD file (read only when self-occlusion is asked for)."""
    category, K = path.stem, len(read_cad(path).names)
    models = np.asarray(read_mat(path)[category]).ravel()
    if not {"azimuth", "elevation", "visibility"} <= set(models.dtype.names):
        raise DataFormatError(path, "has no azimuth/elevation/visibility table; self_occlusion needs one")
    azimuths = np.asarray(models[0]["azimuth"], float).ravel()
    elevations = np.asarray(models[0]["elevation"], float).ravel()
    table = np.zeros((models.size, azimuths.size, elevations.size, K), bool)
    for m, model in enumerate(models):
        entries = np.asarray(model["visibility"]).ravel()
        if entries.size != azimuths.size * elevations.size:
            raise DataFormatError(path, f"model {m + 1} has {entries.size} visibility entries; expected "
                                        f"{azimuths.size} azimuths x {elevations.size} elevations")
        for entry in entries:
            a = np.abs(azimuths - float(np.asarray(entry["azimuth"]).item())).argmin()
            e = np.abs(elevations - float(np.asarray(entry["elevation"]).item())).argmin()
            table[m, a, e] = np.asarray(entry["flag"]).ravel()[:K] > 0
    return freeze(ViewVisibility(azimuths, elevations, table))


# ------------------------------------------------------------------------------------------------ annotations
@dataclasses.dataclass(frozen=True)
class AnnotatedObject:
    """One annotated object: its CAD model, viewpoint (degrees) and 2D keypoints (NaN where not annotated)."""

    file: str
    cad_index: int
    azimuth: float
    elevation: float
    theta: float
    keypoints_2d: np.ndarray
    truncated: bool
    occluded: bool


def _scalar(value, default=None):
    array = np.asarray(value)
    if array.dtype == object and array.size == 1:
        return _scalar(array.flat[0], default)
    if array.size != 1 or array.dtype.kind not in "biuf":
        return default
    return array.item()


def read_annotation(path: Path, category: str, keypoint_names: tuple[str, ...]) -> tuple[list[AnnotatedObject], int]:
    """The objects of `category` with a fine viewpoint in one annotation file, and how many were skipped.

    An object is skipped when its viewpoint has no `azimuth`/`elevation`/`theta` or `distance` is 0 (the
    toolbox's mark of a coarse-only viewpoint).
    """
    record = variable(read_mat(path), path, "record", "the PASCAL3D+ annotation struct 'record' with 'objects'")
    objects = struct_field(record, "objects")
    if objects is None:
        raise DataFormatError(path, "struct 'record' has no field 'objects'; expected the PASCAL3D+ annotation "
                                    "format")
    found, skipped = [], 0
    for index, obj in enumerate(np.asarray(objects).ravel()):
        if _text(obj["class"]) != category:
            continue
        viewpoint = obj["viewpoint"]
        angles = [_scalar(struct_field(viewpoint, f)) for f in ("azimuth", "elevation", "theta")]
        distance = _scalar(struct_field(viewpoint, "distance"), 1.0)
        if any(a is None for a in angles) or distance == 0:
            skipped += 1
            continue
        cad_index = _scalar(obj["cad_index"]) if "cad_index" in obj.dtype.names else None
        if cad_index is None or int(cad_index) != cad_index or cad_index < 1:
            raise DataFormatError(path, f"object {index + 1} ('{category}') has cad_index {cad_index!r}; expected "
                                        "a 1-based CAD model index")
        points = np.full((len(keypoint_names), 2), np.nan)
        anchors = obj["anchors"] if "anchors" in obj.dtype.names else None
        for k, name in enumerate(keypoint_names):
            location = struct_field(struct_field(anchors, name), "location") if anchors is not None else None
            if location is not None and np.asarray(location).size == 2:
                points[k] = np.asarray(location, float).ravel()
        found.append(AnnotatedObject(path.name, int(cad_index), *map(float, angles), points,
                                     bool(_scalar(obj["truncated"], 0)) if "truncated" in obj.dtype.names else False,
                                     bool(_scalar(obj["occluded"], 0)) if "occluded" in obj.dtype.names else False))
    return found, skipped


# ------------------------------------------------------------------------------------------------ cameras
def viewpoint_cameras(azimuth: np.ndarray, elevation: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """PASCAL3D+ viewpoints (degrees) as camera rotations `R_cam` (see the module docstring).

    Args:
        azimuth, elevation, theta: (F,) angles in degrees.
    Returns:
        (F, 3, 3) rotations from the CAD frame to the camera frame (x right, y down, z depth).
    """
    flip = np.diag([1.0, -1.0, -1.0])
    in_plane = axis_rotation("z", np.asarray(theta, float))
    return flip @ in_plane @ axis_rotation("x", np.asarray(elevation, float) - 90.0) @ \
        axis_rotation("z", -np.asarray(azimuth, float))


# ------------------------------------------------------------------------------------------------ dataset
def find_base(root: Path, category: str) -> Path | None:
    """The first folder under `root` among BASES that holds `CAD/<category>.mat`."""
    return next((root / b for b in BASES if (root / b / "CAD" / f"{category}.mat").is_file()), None)


@register_dataset("pascal3d", variant_param="category", variants=PAPER_CATEGORIES, open_variants=True)
class Pascal3D(Dataset):
    """PASCAL3D+ CAD keypoints under annotated viewpoints, or sampled ones (protocol cad-views); all categories found."""

    source = SOURCE
    layout = ("pascal3d/CAD/<category>.mat and, when available, pascal3d/Annotations/<category>_pascal/*.mat "
              "(or the same under PASCAL3D+_release1.1/)")
    test_parameters = {"views_per_model": 10}

    def __init__(self, *, category: str | None = None, protocol: str = "auto", keypoints_2d: str = "projected",
                 views: str = "upright", views_per_model: int = 100, self_occlusion: bool = False,
                 imagenet: bool = False, seed: int = 0):
        """
        Args:
            category: one PASCAL3D+ category, or None for every one of PR-RRN's eight categories that is found
                (their keypoints side by side, each frame seeing only its own category's keypoints).
            protocol: "annotations", "cad-views", or "auto" (annotations when `Annotations/<category>_pascal`
                holds files, else cad-views).
            keypoints_2d: annotations protocol only: "projected" (orthographic projection of the CAD keypoints
                under the annotated viewpoint) or "annotated" (the annotated 2D keypoints, in pixels; no camera
                ground truth then, since the images are perspective).
            views: cad-views only: "upright" or "sphere" (see the module docstring).
            views_per_model: cad-views only: frames per CAD model.
            self_occlusion: also hide keypoints that the CAD file's visibility table marks as hidden from the
                nearest tabulated view.
            imagenet: annotations protocol: also use `Annotations/<category>_imagenet`.
            seed: seed of the sampled viewpoints.
        """
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        for name, value, allowed in (("protocol", protocol, PROTOCOLS), ("keypoints_2d", keypoints_2d,
                                     ("projected", "annotated")), ("views", views, VIEWS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        if views_per_model < 1:
            raise ValueError(f"views_per_model must be at least 1, got {views_per_model}")
        self.category, self.protocol, self.keypoints_2d, self.views = category, protocol, keypoints_2d, views
        self.views_per_model, self.self_occlusion, self.imagenet, self.seed = \
            int(views_per_model), bool(self_occlusion), bool(imagenet), seed

    # -------------------------------------------------------------------------------------------- files
    def categories(self, root: Path) -> list[str]:
        """The categories this dataset loads: its own, or the paper's categories whose CAD file is found."""
        if self.category is not None:
            return [self.category]
        return [c for c in PAPER_CATEGORIES if find_base(root, c) is not None]

    def annotation_files(self, root: Path, category: str) -> list[Path]:
        base = find_base(root, category)
        if base is None:
            return []
        sets = ("pascal", "imagenet") if self.imagenet else ("pascal",)
        return [f for s in sets for f in sorted((base / "Annotations" / f"{category}_{s}").glob("*.mat"))]

    def protocol_for(self, root: Path, category: str) -> str:
        if self.protocol != "auto":
            return self.protocol
        return "annotations" if self.annotation_files(root, category) else "cad-views"

    def required_files(self, root: Path) -> list[Path]:
        categories = self.categories(root) or [self.category or PAPER_CATEGORIES[0]]
        files = []
        for category in categories:
            base = find_base(root, category)
            files.append(base / "CAD" / f"{category}.mat" if base else root / BASES[0] / "CAD" / f"{category}.mat")
        return files

    # -------------------------------------------------------------------------------------------- load
    def load(self, root: Path | None) -> Sequence:
        root = root_or_default(root)
        self.check_present(root)
        # one generator per category, keyed by its index in CATEGORIES: pascal3d/chair has the same frames alone
        # and inside the bare pascal3d
        parts = [self._category_frames(root, category, np.random.default_rng([self.seed, CATEGORIES.index(category)]))
                 for category in self.categories(root)]
        name = f"pascal3d/{self.category}" if self.category else "pascal3d"
        if len(parts) == 1:
            W, S, M, visible, meta = parts[0]
            names = tuple(meta.pop("keypoints"))
        else:
            W, S, M, visible, names, meta = _side_by_side(parts)
        if M is None:
            return Sequence(W=W, visible=visible, S_gt=S, point_names=names, name=name, ordered=False, meta=meta)
        return Sequence(W=W, visible=visible, S_gt=S, M_gt=M, point_names=names, name=name, ordered=False,
                        meta=meta)

    def _category_frames(self, root: Path, category: str, rng: np.random.Generator):
        """W (F, K, 2), S (F, K, 3), M (F, 2, 3) or None, visible (F, K), meta of one category."""
        base = find_base(root, category)
        cad = read_cad(base / "CAD" / f"{category}.mat")
        protocol = self.protocol_for(root, category)
        meta = {"source": SOURCE, "category": category, "protocol": protocol, "keypoints": list(cad.names),
                "cad_file": relative_name(cad.path, root), "cad_models": int(cad.keypoints.shape[0]),
                "units": "CAD frame (normalised, about ±0.5)", "split": "none (the paper has no train/test split)"}
        if protocol == "annotations":
            objects, files, skipped = [], self.annotation_files(root, category), 0
            if not files:
                raise DataNotFoundError(f"protocol 'annotations' for '{category}' found no file in "
                                        f"{base / 'Annotations' / (category + '_pascal')}; get them from {SOURCE}")
            for path in files:
                found, n_skipped = read_annotation(path, category, cad.names)
                objects += found
                skipped += n_skipped
            bad = [o for o in objects if o.cad_index > cad.keypoints.shape[0]]
            if bad:
                raise DataFormatError(base / "Annotations" / bad[0].file, f"cad_index {bad[0].cad_index} exceeds "
                                      f"the {cad.keypoints.shape[0]} CAD models of '{category}'")
            if len(objects) < 2:
                raise DataFormatError(base / "Annotations" / f"{category}_pascal", f"only {len(objects)} object(s) "
                                      f"of '{category}' with a fine viewpoint; expected at least 2")
            model = np.array([o.cad_index - 1 for o in objects])
            azimuth, elevation, theta = (np.array([getattr(o, f) for o in objects]) for f in
                                         ("azimuth", "elevation", "theta"))
            meta.update(objects=len(objects), objects_skipped_coarse_viewpoint=skipped,
                        annotation_sets=["pascal", "imagenet"] if self.imagenet else ["pascal"],
                        truncated=int(sum(o.truncated for o in objects)),
                        occluded=int(sum(o.occluded for o in objects)), keypoints_2d=self.keypoints_2d)
        else:
            model, azimuth, elevation, theta, R = self._sampled_views(cad, rng)
            meta.update(views=self.views, views_per_model=self.views_per_model,
                        viewpoints=(f"seed {self.seed}: " + ("azimuth U[0, 360), elevation U[-10, 40], theta "
                                    "U[-10, 10] degrees" if self.views == "upright" else "uniform rotations")))
        R = viewpoint_cameras(azimuth, elevation, theta) if protocol == "annotations" or self.views == "upright" \
            else R
        visible = ~np.isnan(cad.keypoints[model]).any(-1)
        if self.self_occlusion:
            visible &= read_view_visibility(cad.path).lookup(model, azimuth, elevation)
        meta["self_occlusion"] = self.self_occlusion
        S = center_masked(np.nan_to_num(cad.keypoints[model]), visible)
        M = R[:, :2]
        if protocol == "annotations" and self.keypoints_2d == "annotated":
            annotated = np.stack([o.keypoints_2d for o in objects])
            visible &= ~np.isnan(annotated).any(-1)
            S = center_masked(np.nan_to_num(cad.keypoints[model]), visible)
            W = center_masked(np.nan_to_num(annotated), visible)
            meta["cameras"] = "none: annotated 2D keypoints are perspective image points (pixels, y down)"
            return W, S, None, visible, meta
        meta["cameras"] = "orthographic, PASCAL3D+ viewpoint convention (x right, y down); W = M S"
        return project(S, M), S, M, visible, meta

    def _sampled_views(self, cad: CadModels, rng: np.random.Generator):
        models = cad.keypoints.shape[0]
        model = np.repeat(np.arange(models), self.views_per_model)
        n = model.size
        if self.views == "upright":
            azimuth, elevation, theta = (rng.uniform(*UPRIGHT[k], size=n) for k in ("azimuth", "elevation", "theta"))
            return model, azimuth, elevation, theta, None
        R = random_rotations(n, rng)
        # the viewing direction's azimuth/elevation (for the self-occlusion table): camera axis in the CAD frame
        axis = -R[:, 2]
        azimuth = np.degrees(np.arctan2(axis[:, 0], -axis[:, 1])) % 360
        elevation = np.degrees(np.arcsin(np.clip(axis[:, 2], -1, 1)))
        return model, azimuth, elevation, np.zeros(n), R


def _side_by_side(parts: list) -> tuple:
    """Several categories in one sequence: keypoints concatenated, each frame seeing its own category's only."""
    sizes = [p[0].shape[1] for p in parts]
    F, P = sum(p[0].shape[0] for p in parts), sum(sizes)
    W, S, visible = np.zeros((F, P, 2)), np.zeros((F, P, 3)), np.zeros((F, P), bool)
    has_cameras = all(p[2] is not None for p in parts)
    M = np.concatenate([p[2] for p in parts]) if has_cameras else None
    names, frame, column, categories = [], 0, 0, []
    for (w, s, _, vis, meta), size in zip(parts, sizes):
        rows = slice(frame, frame + w.shape[0])
        W[rows, column:column + size], S[rows, column:column + size] = w, s
        visible[rows, column:column + size] = vis
        names += [f"{meta['category']}/{k}" for k in meta.pop("keypoints")]
        categories.append({**meta, "frames": w.shape[0], "first_frame": frame, "first_point": column})
        frame, column = frame + w.shape[0], column + size
    protocols = sorted({c["protocol"] for c in categories})
    meta = {"source": SOURCE, "protocol": protocols[0] if len(protocols) == 1 else "+".join(protocols),
            "categories": categories, "split": "none (the paper has no train/test split)",
            "points": "keypoints of every category side by side; a frame sees only its own category's"}
    return W, S, M, visible, tuple(names), meta
