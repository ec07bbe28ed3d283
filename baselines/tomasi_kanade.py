"""Tomasi–Kanade rigid factorisation (rank 3 + metric upgrade), with missing data by masked alternation."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.baselines.factorization import (cameras_from_blocks, low_rank_factorize, metric_upgrade_rigid,
                                                 rigid_shape_given_cameras, row_mask, stack_frames)
from nrsfm_bench.baselines.memory import FLOAT, require_memory
from nrsfm_bench.method import Capabilities, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence


@register_method("tomasi_kanade")
class TomasiKanade(PerSequenceMethod):
    """Rigid rank-3 factorisation with metric upgrade (Tomasi & Kanade 1992); one shape for all frames."""

    capabilities = Capabilities(inductive=False, missing_data=True)
    test_parameters = {"iterations": 50}

    def __init__(self, *, iterations: int = 500, tol: float = 1e-10, seed: int = 0):
        """
        Args:
            iterations: alternation sweeps of the rank-3 factorisation when points are missing (complete data
                is factorised in closed form by SVD).
            tol: relative decrease of the residual below which the alternation stops.
            seed: unused (the method is deterministic); kept so every method takes a seed.
        """
        self.iterations, self.tol, self.seed = iterations, tol, seed

    def _solve(self, seq: Sequence) -> Reconstruction:
        F, P = seq.F, seq.P
        require_memory(self.registry_name, 6 * 2 * F * P * FLOAT, f"about six copies of the {2 * F} x {P} "
                       "measurement matrix")
        mask = None if not seq.has_missing else row_mask(seq.visible)
        factors = low_rank_factorize(stack_frames(seq.W), 3, mask, iterations=self.iterations, tol=self.tol)
        Q, metric = metric_upgrade_rigid(factors.A)
        M = cameras_from_blocks(factors.A, Q)
        shape = rigid_shape_given_cameras(seq.W, seq.visible, M, factors.t.reshape(F, 2))
        S = np.broadcast_to(shape, (F, P, 3)).copy()
        info = {"factorization_rmse": factors.rmse, "iterations": factors.iterations,
                "converged": factors.converged, **metric}
        return Reconstruction(S=S, M=M, info=info)
