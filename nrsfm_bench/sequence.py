"""The data model: a `Sequence` of 2D tracks, with optional ground truth, validated on construction."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence as TypingSequence

import numpy as np

from nrsfm_bench.errors import InputError

SPLIT_LABELS = ("train", "test")


@dataclasses.dataclass(frozen=True, eq=False)
class Sequence:
    """F frames of P tracked points, stored frame-first.

    Attributes:
        W: (F, P, 2) float64 2D observations. Entries of hidden points are set to 0 on construction, so they
            can never leak NaNs into a matrix product; always read them together with `visible`.
        visible: (F, P) bool, True where the point is observed. Defaults to all True.
        S_gt: optional (F, P, 3) float64 ground-truth shapes; may be non-finite where `visible` is False.
        M_gt: optional (F, 2, 3) float64 ground-truth orthographic cameras (`W_i ≈ M_i S_i`).
        split: optional (F,) array of "train" / "test" labels (the dataset's published split).
        point_names: optional P names of the points.
        edges: optional (E, 2) int pairs of point indices to draw as a skeleton.
        name: the dataset name that produced the sequence (e.g. "classic/drink").
        ordered: True when the frame order is temporal (methods that need temporal order may run).
        meta: free-form provenance: source, units, protocol, camera protocol, ...
    """

    W: np.ndarray
    visible: np.ndarray | None = None
    S_gt: np.ndarray | None = None
    M_gt: np.ndarray | None = None
    split: np.ndarray | None = None
    point_names: tuple[str, ...] | None = None
    edges: np.ndarray | None = None
    name: str = "unnamed"
    ordered: bool = False
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = lambda field, value: object.__setattr__(self, field, value)  # noqa: E731 (frozen dataclass)
        W = self._array("W", self.W, trailing=(2,))
        F, P = W.shape[:2]
        if F < 2:
            self._fail("W", f"has {F} frame(s); expected at least 2 frames")
        if P < 4:
            self._fail("W", f"has {P} point(s) per frame; expected at least 4 points")

        if self.visible is None:
            visible = np.ones((F, P), dtype=bool)
        else:
            visible = np.asarray(self.visible)
            if visible.shape != (F, P):
                self._fail("visible", f"has shape {visible.shape}; expected (F, P) = {(F, P)}")
            if visible.dtype != bool:
                if not np.isin(visible, (0, 1)).all():
                    self._fail("visible", f"has dtype {visible.dtype} with values other than 0/1; expected bool")
                visible = visible.astype(bool)
        bad = ~np.isfinite(W).all(axis=-1) & visible
        if bad.any():
            f, p = np.argwhere(bad)[0]
            self._fail("W", f"has {int(bad.sum())} non-finite visible value(s), first at frame {f}, point {p}; "
                            "expected finite values (mark missing points with visible=False)")
        W = np.where(visible[..., None], W, 0.0)

        S_gt = None
        if self.S_gt is not None:
            S_gt = self._array("S_gt", self.S_gt, trailing=(3,), allow_nonfinite=True)
            if S_gt.shape[:2] != (F, P):
                self._fail("S_gt", f"has shape {S_gt.shape}; expected (F, P, 3) = {(F, P, 3)}")
            bad = ~np.isfinite(S_gt).all(axis=-1) & visible
            if bad.any():
                self._fail("S_gt", f"has {int(bad.sum())} non-finite value(s) at visible points; expected finite")
        M_gt = None
        if self.M_gt is not None:
            M_gt = self._array("M_gt", self.M_gt, trailing=(2, 3))
            if M_gt.shape[0] != F:
                self._fail("M_gt", f"has shape {M_gt.shape}; expected (F, 2, 3) = {(F, 2, 3)}")
            if not np.isfinite(M_gt).all():
                self._fail("M_gt", "has non-finite values; expected finite cameras")

        split = None
        if self.split is not None:
            split = np.asarray(self.split).astype(str)
            if split.shape != (F,):
                self._fail("split", f"has shape {split.shape}; expected (F,) = {(F,)}")
            unknown = sorted(set(np.unique(split)) - set(SPLIT_LABELS))
            if unknown:
                self._fail("split", f"has label(s) {unknown}; expected only {list(SPLIT_LABELS)}")

        point_names = None
        if self.point_names is not None:
            point_names = tuple(str(n) for n in self.point_names)
            if len(point_names) != P:
                self._fail("point_names", f"has {len(point_names)} names; expected P = {P}")

        edges = None
        if self.edges is not None:
            edges = np.asarray(self.edges)
            if edges.size == 0:
                edges = np.zeros((0, 2), dtype=np.int64)
            if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
                self._fail("edges", f"has shape {edges.shape} and dtype {edges.dtype}; expected (E, 2) integers")
            if edges.size and (edges.min() < 0 or edges.max() >= P):
                self._fail("edges", f"has point indices outside [0, {P})")
            edges = edges.astype(np.int64)

        for field, value in dict(W=W, visible=visible, S_gt=S_gt, M_gt=M_gt, split=split,
                                 point_names=point_names, edges=edges, meta=dict(self.meta)).items():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            set_(field, value)

    # ----------------------------------------------------------------------------------------- validation
    def _fail(self, field: str, problem: str) -> None:
        raise InputError(f"sequence '{self.name}': field {field} {problem}")

    def _array(self, field: str, value, trailing: tuple[int, ...], allow_nonfinite: bool = False) -> np.ndarray:
        """`value` as a float64 array of rank 3 whose last axes are `trailing`."""
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            self._fail(field, f"is not numeric (got {type(value).__name__}); expected a float array")
        expected = {(2,): "(F, P, 2)", (3,): "(F, P, 3)", (2, 3): "(F, 2, 3)"}[trailing]
        if array.ndim != 3 or array.shape[-len(trailing):] != trailing:
            self._fail(field, f"has shape {array.shape}; expected {expected}")
        if not allow_nonfinite and field != "W" and not np.isfinite(array).all():
            self._fail(field, "has non-finite values")
        return array

    # ----------------------------------------------------------------------------------------- views
    @property
    def F(self) -> int:
        """Number of frames."""
        return self.W.shape[0]

    @property
    def P(self) -> int:
        """Number of points per frame."""
        return self.W.shape[1]

    @property
    def has_ground_truth(self) -> bool:
        return self.S_gt is not None

    @property
    def has_missing(self) -> bool:
        return not bool(self.visible.all())

    def replace(self, **changes: Any) -> "Sequence":
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def subset(self, frames: np.ndarray | TypingSequence[int]) -> "Sequence":
        """The frames selected by an index array or a (F,) boolean mask, in the given order."""
        index = np.asarray(frames)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        take = lambda a: None if a is None else a[index]  # noqa: E731
        return self.replace(W=self.W[index], visible=self.visible[index], S_gt=take(self.S_gt),
                            M_gt=take(self.M_gt), split=take(self.split))

    def split_indices(self, label: str) -> np.ndarray:
        """Frame indices of one split label ("train" or "test"); all frames for "all" or when unlabelled."""
        if label == "all":
            return np.arange(self.F)
        if label not in SPLIT_LABELS:
            raise InputError(f"split '{label}' is unknown; expected one of all, {', '.join(SPLIT_LABELS)}")
        if self.split is None:
            if label == "train":
                return np.arange(self.F)
            raise InputError(f"sequence '{self.name}' has no test split; use --split all or --split train")
        return np.flatnonzero(self.split == label)

    def observations(self) -> "Sequence":
        """What a method may see: the 2D tracks and their metadata, without ground truth."""
        meta = {k: v for k, v in self.meta.items() if k != "ground_truth"}
        return self.replace(S_gt=None, M_gt=None, meta=meta)

    def __repr__(self) -> str:
        gt = "with S_gt" if self.has_ground_truth else "2D only"
        missing = f", {int((~self.visible).sum())} hidden points" if self.has_missing else ""
        return f"Sequence('{self.name}', F={self.F}, P={self.P}, {gt}{missing})"
