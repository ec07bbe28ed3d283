"""The flat floor: every frame's 2D points at depth 0 seen by the identity camera."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.geometry import center_masked
from nrsfm_bench.method import Capabilities, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence

IDENTITY_CAMERA = np.eye(2, 3)


@register_method("flat")
class Flat(PerSequenceMethod):
    """Depth 0: S_i = [W_i, 0] with camera [I 0] — the floor every method must beat."""

    capabilities = Capabilities(inductive=False, missing_data=True)

    def __init__(self, *, seed: int = 0):
        """
        Args:
            seed: unused (the method is deterministic); kept so every method takes a seed.
        """
        self.seed = seed

    def _solve(self, seq: Sequence) -> Reconstruction:
        W = center_masked(seq.W, seq.visible)
        S = np.concatenate([W, np.zeros(W.shape[:2] + (1,))], axis=-1)
        M = np.broadcast_to(IDENTITY_CAMERA, (seq.F, 2, 3)).copy()
        return Reconstruction(S=S, M=M, info={})
