"""The method API: hyper-parameters in `__init__`, `fit(seq)` returns self, `reconstruct(seq)` gives 3D.

Methods see only `Sequence.observations()` (2D tracks, visibility, metadata); the runner and the evaluator
alone hold the ground truth.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import ClassVar

import numpy as np

from nrsfm_bench.config import Configurable
from nrsfm_bench.errors import MethodFailure
from nrsfm_bench.sequence import Sequence


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a method can do, listed by `nrsfm-bench methods` and used to skip unfit pairs.

    Attributes:
        inductive: learns a model on training frames that then reconstructs unseen frames; otherwise the
            method reconstructs the one sequence it is given (per-sequence).
        missing_data: handles points with `visible=False`.
        temporal_order: needs frames in temporal order (skipped on orderless data).
    """

    inductive: bool = False
    missing_data: bool = False
    temporal_order: bool = False

    def summary(self) -> str:
        parts = ["inductive" if self.inductive else "per-sequence"]
        parts.append("missing data" if self.missing_data else "complete data only")
        if self.temporal_order:
            parts.append("needs temporal order")
        return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class Reconstruction:
    """A method's output for F frames.

    Attributes:
        S: (F, P, 3) shapes.
        M: (F, 2, 3) orthographic cameras, or None for methods without cameras.
        info: method-specific diagnostics (iterations, convergence, chosen rank, ...), JSON-able.
    """

    S: np.ndarray
    M: np.ndarray | None = None
    info: dict = dataclasses.field(default_factory=dict)

    def check(self, seq: Sequence, method: str) -> "Reconstruction":
        """Raise MethodFailure unless S is (F, P, 3), M is (F, 2, 3) and both are finite."""
        expected = {"S": (seq.F, seq.P, 3), "M": (seq.F, 2, 3)}
        for field, shape in expected.items():
            value = getattr(self, field)
            if value is None and field == "M":
                continue
            value = np.asarray(value)
            if value.shape != shape:
                raise MethodFailure(f"method '{method}' returned {field} of shape {value.shape}; expected {shape}")
            if not np.isfinite(value).all():
                raise MethodFailure(f"method '{method}' returned non-finite values in {field}")
        return self


@dataclasses.dataclass(frozen=True)
class RunContext:
    """How a run executes, as opposed to what it computes: not part of a run's configuration hash.

    Attributes:
        workdir: a folder private to this run (keyed by the run's hash) where a method may keep checkpoints;
            None when the method is used from Python without a store.
        resume: continue from the checkpoint in `workdir` when one exists.
        progress: show a progress bar on stderr.
        device: "auto" (CUDA when available, else CPU), "cpu" or "cuda".
    """

    workdir: Path | None = None
    resume: bool = False
    progress: bool = False
    device: str = "auto"


class Method(Configurable):
    """Base class of every NRSfM method.

    Subclasses take their hyper-parameters as keyword arguments of `__init__` and store each as an attribute
    of the same name; learned state is stored in attributes ending in `_`. The runner sets `context` (a
    RunContext) on the instance before `fit`; methods that checkpoint or report progress read it.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()
    context: RunContext = RunContext()

    def skip(self, seq: Sequence) -> tuple[bool, str]:
        """(True, reason) when this method cannot run on `seq`."""
        if seq.has_missing and not self.capabilities.missing_data:
            return True, f"{self.registry_name} does not handle missing points ({int((~seq.visible).sum())} hidden)"
        if self.capabilities.temporal_order and not seq.ordered:
            return True, f"{self.registry_name} needs frames in temporal order; '{seq.name}' is orderless"
        return False, ""

    def fit(self, seq: Sequence) -> "Method":
        """Learn from the observations of `seq`; returns self."""
        raise NotImplementedError

    def reconstruct(self, seq: Sequence) -> Reconstruction:
        """Shapes (and cameras) for every frame of `seq`."""
        raise NotImplementedError


def fingerprint(seq: Sequence) -> str:
    """A hash of a sequence's observations, to tell whether a per-sequence method has seen it."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(seq.W).tobytes())
    digest.update(np.ascontiguousarray(seq.visible).tobytes())
    return digest.hexdigest()


class PerSequenceMethod(Method):
    """A method that reconstructs exactly the sequence it is fitted on (factorisation methods).

    Subclasses implement `_solve(seq) -> Reconstruction`; `fit` solves and keeps the result in `result_`,
    `reconstruct` returns it for the same sequence and solves afresh for another.
    """

    def _solve(self, seq: Sequence) -> Reconstruction:
        raise NotImplementedError

    def fit(self, seq: Sequence) -> "PerSequenceMethod":
        self.result_ = self._solve(seq)
        self.fitted_on_ = fingerprint(seq)
        return self

    def reconstruct(self, seq: Sequence) -> Reconstruction:
        if getattr(self, "fitted_on_", None) != fingerprint(seq):
            self.fit(seq)
        return self.result_
