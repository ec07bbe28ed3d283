"""Akhter et al.'s point trajectory approach (TPAMI 2011): every point's trajectory in K DCT basis vectors."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.baselines.basis_size import choose_K
from nrsfm_bench.baselines.factorization import (cameras_from_blocks, low_rank_factorize,
                                                 metric_upgrade_orthonormal, row_mask, solve_masked_columns,
                                                 stack_frames)
from nrsfm_bench.baselines.memory import FLOAT, require_memory
from nrsfm_bench.method import Capabilities, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence


def dct_basis(F: int, K: int) -> np.ndarray:
    """The first K orthonormal DCT-II vectors over F frames as columns: (F, K); column 0 is constant 1/√F."""
    i = np.arange(F)[:, None]
    k = np.arange(K)[None, :]
    theta = np.sqrt(2.0 / F) * np.cos(np.pi * (2 * i + 1) * k / (2 * F))
    theta[:, 0] = 1 / np.sqrt(F)
    return theta


@register_method("pta")
class PointTrajectoryApproach(PerSequenceMethod):
    """Akhter, Sheikh, Khan & Kanade 2011: point trajectories in a K-vector DCT basis (needs temporal order)."""

    capabilities = Capabilities(inductive=False, missing_data=True, temporal_order=True)
    test_parameters = {"K": 3, "iterations": 50, "restarts": 2}

    def __init__(self, *, K: int | None = None, restarts: int = 10, iterations: int = 500, tol: float = 1e-10,
                 seed: int = 0):
        """
        Args:
            K: number of DCT basis vectors per trajectory (W has rank 3K); None picks it by
                `basis_size.choose_K` (Akhter's files carry the K of their published runs).
            restarts: random restarts of the rotation polish (the constraints have spurious near-solutions).
            iterations, tol: alternation settings of the rank-3K factorisation when points are missing.
            seed: seed of the random restarts.
        """
        self.K, self.restarts, self.iterations, self.tol, self.seed = K, restarts, iterations, tol, seed

    def _solve(self, seq: Sequence) -> Reconstruction:
        F, P = seq.F, seq.P
        K, K_source = choose_K(self.registry_name, seq, self.K)
        n = 3 * K
        require_memory(self.registry_name, FLOAT * (6 * 2 * F * P + 4 * 2 * F * n + P * n * n),
                       f"the {2 * F} x {P} measurement matrix and the {2 * F} x {n} trajectory design matrix")
        mask = row_mask(seq.visible) if seq.has_missing else None
        Wm = stack_frames(seq.W)
        factors = low_rank_factorize(Wm, n, mask, iterations=self.iterations, tol=self.tol)
        # Λ_i = R_i (θ_iᵀ ⊗ I₃) and θ_i0 = 1/√F for every frame, so a Q with √F Λ̂_i Q = R_i exists: the
        # rigid orthonormality constraints on √F Λ̂ give it (Akhter et al., Sec. 4).
        Q, metric = metric_upgrade_orthonormal(np.sqrt(F) * factors.A, restarts=self.restarts, seed=self.seed)
        M = cameras_from_blocks(np.sqrt(F) * factors.A, Q)
        theta = dct_basis(F, K)
        # W_i − t_i = R_i Σ_k θ_ik a_k: design (2F, 3K) with block row i = θ_iᵀ ⊗ R_i, one column per point
        design = np.einsum("fk,fij->fikj", theta, M).reshape(2 * F, n)
        coefficients = solve_masked_columns(design, Wm - factors.t[:, None], mask)      # (3K, P)
        S = np.einsum("fk,kjp->fpj", theta, coefficients.reshape(K, 3, P))
        info = {"K": K, "K_source": K_source, "factorization_rmse": factors.rmse, **metric}
        return Reconstruction(S=S - S.mean(axis=1, keepdims=True), M=M, info=info)
