"""The classic sparse NRSfM sequences: Akhter et al. 2011 (W, S, Rs), Torresani et al. 2008 (P3_gt), real 2D tracks.

Each sequence is read from its original .mat file, whichever of the known formats it is in:

* Akhter et al. 2011 (drink, pickup, stretch, yoga, dance): `W` (2F x P, rows 2i-1, 2i = frame i), `S`
  (3F x P, rows 3i-2..3i), optional `Rs` (2F x 3 per-frame cameras; dance has none), `K`, `theta`, optional
  `list` (E x 2, 1-based skeleton edges). `W = Rs_i S_i` is checked on loading.
* Torresani et al. 2008 (face, walking, shark = `jaws.mat`): `P3_gt` (3F x P) in *blocked* layout: rows
  `[x(1..F); y(1..F); z(1..F)]` (Torresani's demos index frame t as rows t, t+F, t+2F).
* CSF / KSTA format (dinosaur, face_real): `W` only (2F x P interleaved, pixels); no 3D ground truth.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.datasets.layout import first_existing, relative_name, root_or_default
from nrsfm_bench.datasets.mat_files import frames_from_rows, matrix, read_mat, scalar, variable
from nrsfm_bench.datasets.projection import random_orthographic_views
from nrsfm_bench.errors import DataFormatError
from nrsfm_bench.geometry import center_masked, project
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

FOLDER = "classic_nrsfm"
AKHTER = ("Akhter, Sheikh, Khan, Kanade, 'Trajectory Space', TPAMI 2011; http://cvlab.lums.edu.pk/nrsfm/")
TORRESANI = ("Torresani, Hertzmann, Bregler, 'Nonrigid Structure-from-Motion', TPAMI 2008; "
             "http://www.cs.dartmouth.edu/~lorenzo/nrsfm.html")
CSF = ("real 2D tracks as distributed with Gotardo & Martinez's CSF/KSTA code (W matrix; origin not verified); "
       "see docs/datasets.md")

#: Cameras whose rows must be orthonormal to this tolerance, and `W = M S` must hold to this relative tolerance.
_ORTHONORMAL_TOL = 1e-6
_CONSISTENCY_TOL = 1e-8


@dataclasses.dataclass(frozen=True)
class ClassicSpec:
    """Where one classic sequence lives and what it is.

    Attributes:
        folder: sub-folder of `classic_nrsfm/` named after the source.
        files: accepted file names, the official download's name first.
        source: citation and URL.
        ground_truth: whether the sequence has 3D ground truth (False for the real 2D-only tracks).
    """

    folder: str
    files: tuple[str, ...]
    source: str
    ground_truth: bool = True

    def candidates(self) -> list[str]:
        """Paths relative to the data root, in search order."""
        return [f"{FOLDER}/{folder}/{name}" for name in self.files for folder in (self.folder, ".")]


SEQUENCES: dict[str, ClassicSpec] = {
    "drink": ClassicSpec("akhter2011", ("drink.mat",), AKHTER),
    "pickup": ClassicSpec("akhter2011", ("pickup.mat",), AKHTER),
    "stretch": ClassicSpec("akhter2011", ("stretch.mat",), AKHTER),
    "yoga": ClassicSpec("akhter2011", ("yoga.mat",), AKHTER),
    "dance": ClassicSpec("akhter2011", ("dance.mat", "dance_falta_list.mat"), AKHTER),
    "face": ClassicSpec("torresani2008", ("face.mat",), TORRESANI),
    "walking": ClassicSpec("torresani2008", ("walking.mat",), TORRESANI),
    "shark": ClassicSpec("torresani2008", ("jaws.mat", "shark.mat"), TORRESANI),
    "dinosaur": ClassicSpec("csf_format", ("dinosaur_real.mat", "dinosaur.mat"), CSF, ground_truth=False),
    "face_real": ClassicSpec("csf_format", ("face_real.mat",), CSF, ground_truth=False),
}
CAMERAS = ("file", "random")


@register_dataset("classic", variant_param="sequence", variants=tuple(SEQUENCES), variant_required=True)
class Classic(Dataset):
    """Classic NRSfM sequences (Akhter 2011 MoCap, Torresani 2008, real 2D tracks) from their original .mat files."""

    source = f"{AKHTER} | {TORRESANI} | {CSF}"
    layout = "\n".join(f"{FOLDER}/{spec.folder}/{' or '.join(spec.files)}" for spec in SEQUENCES.values())

    def __init__(self, *, sequence: str, cameras: str = "file", seed: int = 0):
        """
        Args:
            sequence: one of drink, pickup, stretch, yoga, dance, face, walking, shark, dinosaur, face_real.
            cameras: "file" — the published 2D: `W` as stored (Akhter), or the x, y rows of `P3_gt`
                (Torresani: the identity camera, exactly the input of Torresani's demos and of PND2's
                rearranged exports); "random" — the 3D shapes seen through seeded, uniformly random
                orthographic cameras, one per frame (`projection.random_orthographic_views`).
            seed: seed of the random cameras (unused with cameras="file").
        """
        if sequence not in SEQUENCES:
            raise ValueError(f"sequence must be one of {', '.join(SEQUENCES)}, got {sequence!r}")
        if cameras not in CAMERAS:
            raise ValueError(f"cameras must be one of {', '.join(CAMERAS)}, got {cameras!r}")
        spec = SEQUENCES[sequence]
        if cameras == "random" and not spec.ground_truth:
            raise ValueError(f"classic/{sequence} has real 2D tracks and no 3D; cameras must be 'file'")
        self.sequence, self.cameras, self.seed = sequence, cameras, seed
        self.source = spec.source
        self.has_ground_truth = spec.ground_truth

    @property
    def spec(self) -> ClassicSpec:
        return SEQUENCES[self.sequence]

    def required_files(self, root: Path) -> list[Path]:
        found = first_existing(root, self.spec.candidates())
        return [found if found is not None else root / self.spec.candidates()[0]]

    def load(self, root: Path | None) -> Sequence:
        root = root_or_default(root)
        self.check_present(root)
        path = self.required_files(root)[0]
        mat = read_mat(path)
        meta = {"source": self.spec.source, "file": relative_name(path, root)}
        if not self.spec.ground_truth:
            W, meta_format = read_tracks_2d(mat, path), {"format": "W only (2F x P, interleaved rows)"}
            meta.update(meta_format, units="pixels", ground_truth="none: real 2D tracks (e3D unavailable)",
                        centring="W centred per frame")
            return Sequence(W=center_masked(W), name=f"classic/{self.sequence}", ordered=True, meta=meta)
        data = read_torresani(mat, path) if "P3_gt" in mat else read_akhter(mat, path)
        meta.update(data.meta, units="arbitrary (as in the file)")
        S = center_masked(data.S)
        if self.cameras == "random":
            W, S, M = random_orthographic_views(S, self.seed)
            meta["cameras"] = ("random: one uniformly random orthographic camera per frame, seeded "
                               f"(seed {self.seed}); shapes centred per frame")
        else:
            M = data.M
            W = project(S, M) if data.W is None else center_masked(data.W)
        return Sequence(W=W, S_gt=S, M_gt=M, edges=data.edges, name=f"classic/{self.sequence}", ordered=True,
                        meta=meta)


@dataclasses.dataclass(frozen=True)
class ShapeFile:
    """What a 3D classic file holds, frame-first.

    Attributes:
        S: (F, P, 3) shapes as stored; M: (F, 2, 3) cameras or None; W: (F, P, 2) tracks as stored, or None
        when the 2D is the projection `S Mᵀ`; edges: (E, 2) or None; meta: format and camera notes.
    """

    S: np.ndarray
    M: np.ndarray | None
    W: np.ndarray | None
    edges: np.ndarray | None
    meta: dict


# --------------------------------------------------------------------------------------------- readers
def read_tracks_2d(mat: dict, path: Path) -> np.ndarray:
    """`W` (2F x P, rows 2i-1, 2i = frame i) as (F, P, 2)."""
    return frames_from_rows(matrix(mat, path, "W", "a 2F x P double matrix of 2D tracks", row_multiple=2),
                            2, "interleaved")


def read_torresani(mat: dict, path: Path) -> ShapeFile:
    """Torresani's `P3_gt` (3F x P, blocked rows): shapes (F, P, 3) seen by the identity camera (F, 2, 3)."""
    S = frames_from_rows(matrix(mat, path, "P3_gt", "a 3F x P double matrix (rows x(1..F); y(1..F); z(1..F))",
                                row_multiple=3), 3, "blocked")
    M = np.broadcast_to(np.eye(3)[:2], (S.shape[0], 2, 3)).copy()
    meta = {"format": "Torresani 2008 P3_gt (3F x P, blocked rows)",
            "cameras": "file: the identity camera — W is the x, y rows of P3_gt (as in Torresani's demos and "
                       "PND2's rearranged exports); shapes centred per frame"}
    return ShapeFile(S, M, None, None, meta)


def read_akhter(mat: dict, path: Path) -> ShapeFile:
    """Akhter's `W`, `S`, `Rs`, `list`: tracks (F, P, 2), shapes (F, P, 3), cameras (F, 2, 3), edges (E, 2).

    Cameras come from `Rs` when present and are checked (orthonormal rows, `W_i = Rs_i S_i`); without `Rs`
    (dance) they are fitted per frame by least squares and kept only if they are exact and orthonormal.
    """
    expected = "Akhter 2011 variables W (2F x P) and S (3F x P), or Torresani's P3_gt (3F x P)"
    variable(mat, path, "W", expected)
    W = read_tracks_2d(mat, path)
    S = frames_from_rows(matrix(mat, path, "S", "a 3F x P double matrix of 3D shapes", row_multiple=3),
                         3, "interleaved")
    if S.shape != W.shape[:2] + (3,):
        raise DataFormatError(path, f"S holds {S.shape[0]} frames x {S.shape[1]} points but W holds "
                                    f"{W.shape[0]} x {W.shape[1]}; expected the same frames and points")
    meta: dict = {"format": "Akhter 2011 (W, S, Rs)"}
    for name in ("K", "theta"):
        if scalar(mat, name) is not None:
            meta[name] = scalar(mat, name)
    if "Rs" in mat:
        Rs = matrix(mat, path, "Rs", "a 2F x 3 matrix of per-frame camera rows", row_multiple=2, columns=3)
        if Rs.shape[0] != 2 * W.shape[0]:
            raise DataFormatError(path, f"variable 'Rs' has {Rs.shape[0]} rows; expected 2F = {2 * W.shape[0]}")
        M = frames_from_rows(Rs, 2, "interleaved").transpose(0, 2, 1)
        _check_cameras(path, M, W, S, "Rs")
        meta["cameras"] = "file: per-frame orthographic cameras Rs (W = Rs_i S_i checked)"
    else:
        M = fit_cameras(W, S)
        if M is None:
            meta["cameras"] = "none: the file has no Rs and W is not an orthographic view of S"
        else:
            meta["cameras"] = "fitted: the file has no Rs; W_i = M_i S_i solved per frame (exact, orthonormal)"
    return ShapeFile(S, M, W, read_edges(mat, path, W.shape[1]), meta)


def read_edges(mat: dict, path: Path, points: int) -> np.ndarray | None:
    """Akhter's `list` (E x 2, 1-based point indices) as 0-based (E, 2) edges; None when absent."""
    if "list" not in mat:
        return None
    edges = np.asarray(mat["list"])
    if edges.ndim != 2 or edges.shape[1] != 2 or edges.dtype.kind not in "iuf" or edges.size == 0:
        raise DataFormatError(path, f"variable 'list' has shape {edges.shape}; expected E x 2 point indices")
    if not np.all(edges == np.round(edges)) or edges.min() < 1 or edges.max() > points:
        raise DataFormatError(path, f"variable 'list' has indices outside 1..{points}; expected 1-based point "
                                    "indices")
    return edges.astype(np.int64) - 1


def _check_cameras(path: Path, M: np.ndarray, W: np.ndarray, S: np.ndarray, name: str) -> None:
    gram_error = np.abs(M @ M.transpose(0, 2, 1) - np.eye(2)).max()
    if gram_error > _ORTHONORMAL_TOL:
        raise DataFormatError(path, f"cameras '{name}' are not orthonormal (max |M Mᵀ − I| = {gram_error:.2e}); "
                                    "expected per-frame orthographic cameras")
    residual = np.abs(W - project(S, M)).max(axis=(1, 2))
    tolerance = _CONSISTENCY_TOL * max(1.0, np.abs(W).max())
    if residual.max() > tolerance:
        frame = int(residual.argmax())
        raise DataFormatError(path, f"W does not equal {name}·S (max residual {residual.max():.2e} at frame "
                                    f"{frame}); the file's tracks, shapes and cameras disagree")


def fit_cameras(W: np.ndarray, S: np.ndarray) -> np.ndarray | None:
    """Per-frame least-squares cameras `M_i = argmin ‖W_i − S_i M_iᵀ‖`, if they reproduce W exactly.

    Args:
        W: (F, P, 2) tracks; S: (F, P, 3) shapes.
    Returns:
        (F, 2, 3) cameras when every frame is reproduced to `_CONSISTENCY_TOL` (relative) by a camera with
        orthonormal rows, else None.
    """
    gram = S.transpose(0, 2, 1) @ S
    if np.any(np.linalg.matrix_rank(gram) < 3):
        return None
    M = np.linalg.solve(gram, S.transpose(0, 2, 1) @ W).transpose(0, 2, 1)
    exact = np.abs(W - project(S, M)).max() <= _CONSISTENCY_TOL * max(1.0, np.abs(W).max())
    orthonormal = np.abs(M @ M.transpose(0, 2, 1) - np.eye(2)).max() <= _ORTHONORMAL_TOL
    return M if exact and orthonormal else None
