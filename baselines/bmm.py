"""Dai, Li & He's prior-free NRSfM (CVPR 2012): rank-3K factorisation, trace-norm rotations, block matrix shapes."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.baselines.basis_size import choose_K
from nrsfm_bench.baselines.factorization import (cameras_from_blocks, low_rank_factorize,
                                                 metric_upgrade_trace_norm, row_mask, stack_frames)
from nrsfm_bench.baselines.memory import FLOAT, require_memory
from nrsfm_bench.method import Capabilities, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence

SHAPES = ("bmm", "pinv")


def project_onto_observations(Z: np.ndarray, M: np.ndarray, W: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """The shapes nearest to Z that reproject exactly onto the visible observations.

    For an orthonormal camera M_i, `s ← z + M_iᵀ (w − M_i z)` is the orthogonal projection of a point z onto
    {s : M_i s = w}; hidden points are left free.

    Args:
        Z: (F, P, 3) shapes; M: (F, 2, 3) orthonormal cameras; W: (F, P, 2) observations; visible: (F, P).
    Returns:
        (F, P, 3).
    """
    residual = (W - Z @ M.transpose(0, 2, 1)) * visible[..., None]
    return Z + residual @ M


def singular_value_threshold(X: np.ndarray, tau: float) -> tuple[np.ndarray, int]:
    """The proximal operator of τ‖·‖_*: shrink every singular value of X (N, D) by τ. Returns it and its rank.

    Works through the eigen-decomposition of the small Gram matrix (D×D when N ≥ D): `X V diag(max(1 − τ/σ, 0)) Vᵀ`,
    an order of magnitude faster than a full SVD of the tall F×3P matrix; singular values below ~1e-8 σ₁ lose
    precision, which only matters for values the threshold zeroes anyway.
    """
    if X.shape[0] < X.shape[1]:
        Y, rank = singular_value_threshold(X.T, tau)
        return Y.T, rank
    values, V = np.linalg.eigh(X.T @ X)
    sigma = np.sqrt(np.maximum(values, 0))
    keep = sigma > tau
    shrink = 1 - tau / sigma[keep]
    V = V[:, keep]
    return ((X @ V) * shrink) @ V.T, int(keep.sum())


def block_matrix_shapes(M: np.ndarray, W: np.ndarray, visible: np.ndarray, *, iterations: int, tol: float,
                        rho: float, rho_growth: float = 1.1) -> tuple[np.ndarray, dict]:
    """Shapes of least nuclear norm of `S♯` (F×3P, one frame a row) that reproject exactly onto W.

    Solves Dai et al.'s block matrix problem `min ‖S♯‖_* s.t. M_i S_i = W_i` by ADMM on the split
    `X = S♯`: a singular value threshold for X, the exact projection above for S, a growing penalty.

    Args:
        M: (F, 2, 3) orthonormal cameras; W: (F, P, 2) centred observations; visible: (F, P).
        iterations, tol: ADMM iterations at most and the relative gap ‖X − S♯‖/‖S♯‖ to stop at.
        rho: the initial penalty, relative to 1/σ₁ of the pseudo-inverse shapes.
        rho_growth: factor by which the penalty grows each iteration (capped at 1e6 × its start).
    Returns:
        S (F, P, 3) and diagnostics.
    """
    F, P = visible.shape
    S = project_onto_observations(np.zeros((F, P, 3)), M, W, visible)
    sigma = np.linalg.norm(S.reshape(F, -1), 2)
    penalty = rho / max(sigma, 1e-300)
    penalty_max = penalty * 1e6
    Y = np.zeros((F, 3 * P))
    gap, rank, iteration = np.inf, 0, 0
    for iteration in range(1, iterations + 1):
        flat = S.reshape(F, 3 * P)
        X, rank = singular_value_threshold(flat - Y / penalty, 1 / penalty)
        S = project_onto_observations((X + Y / penalty).reshape(F, P, 3), M, W, visible)
        difference = X - S.reshape(F, 3 * P)
        Y += penalty * difference
        penalty = min(penalty * rho_growth, penalty_max)
        gap = np.linalg.norm(difference) / max(np.linalg.norm(S), 1e-300)
        if gap < tol:
            break
    return S, {"shape_iterations": iteration, "shape_gap": float(gap), "shape_rank": rank}


def consistent_signs(S: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Resolve the per-frame sign ambiguity `(M_i, S_i) ~ (−M_i, −S_i)` of the recovered rotations.

    The camera of frame i is recovered up to the sign of its shape coefficient, and a flipped camera gives a
    point-reflected shape with the same low rank. The leading right singular vector v of S♯ is invariant to such
    flips; each frame is turned to have a non-negative projection on v.

    Returns:
        S (F, P, 3), M (F, 2, 3) and the number of frames flipped.
    """
    F = S.shape[0]
    flat = S.reshape(F, -1)
    v = np.linalg.svd(flat, full_matrices=False)[2][0]
    sign = np.where(flat @ v < 0, -1.0, 1.0)
    return S * sign[:, None, None], M * sign[:, None, None], int((sign < 0).sum())


@register_method("bmm")
class BlockMatrixMethod(PerSequenceMethod):
    """Dai, Li & He 2012: prior-free rank-3K factorisation, trace-norm rotations, nuclear-norm (block matrix) shapes."""

    capabilities = Capabilities(inductive=False, missing_data=True)
    test_parameters = {"K": 2, "shape_iterations": 100, "sdp_iterations": 300}

    def __init__(self, *, K: int | None = None, shape: str = "bmm", trace_weight: float = 0.1,
                 sdp_iterations: int = 3000, shape_iterations: int = 500, tol: float = 1e-6, rho: float = 1.0,
                 iterations: int = 500, seed: int = 0):
        """
        Args:
            K: number of basis shapes (W has rank 3K); None picks it by `basis_size.choose_K` (the published K
                for a classic sequence, the dataset's own K, else the spectrum rule).
            shape: "bmm" (block matrix method: nuclear-norm minimisation) or "pinv" (pseudo-inverse of the
                block-diagonal rotation matrix: `S_i = R_iᵀ W_i`, the minimum-norm shape, depth left at 0 in
                each camera frame).
            trace_weight: weight of the trace norm in the rotation SDP (see `metric_upgrade_trace_norm`).
            sdp_iterations: ADMM iterations of the rotation SDP at most.
            shape_iterations: ADMM iterations of the block matrix method at most.
            tol: relative gap ‖X − S♯‖/‖S♯‖ at which the shape ADMM stops.
            rho: initial shape-ADMM penalty relative to 1/σ₁ of the pseudo-inverse shapes.
            iterations: alternation sweeps of the rank-3K factorisation when points are missing.
            seed: unused (the method is deterministic); kept so every method takes a seed.
        """
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
        self.K, self.shape, self.trace_weight, self.sdp_iterations = K, shape, trace_weight, sdp_iterations
        self.shape_iterations, self.tol, self.rho, self.iterations, self.seed = shape_iterations, tol, rho, \
            iterations, seed

    def _solve(self, seq: Sequence) -> Reconstruction:
        F, P = seq.F, seq.P
        K, K_source = choose_K(self.registry_name, seq, self.K)
        n = 3 * K
        m = n * (n + 1) // 2
        require_memory(self.registry_name, FLOAT * (6 * 2 * F * P + 3 * m * m + 8 * F * 3 * P),
                       f"the {2 * F} x {P} measurement matrix, the {m} x {m} normal equations of the rotation SDP "
                       f"and the {F} x {3 * P} shape matrix")
        mask = row_mask(seq.visible) if seq.has_missing else None
        factors = low_rank_factorize(stack_frames(seq.W), n, mask, iterations=self.iterations)
        Q, metric = metric_upgrade_trace_norm(factors.A, K, trace_weight=self.trace_weight,
                                              iterations=self.sdp_iterations)
        M = cameras_from_blocks(factors.A, Q)
        W = (seq.W - factors.t.reshape(F, 1, 2)) * seq.visible[..., None]
        if self.shape == "pinv":
            S = project_onto_observations(np.zeros((F, P, 3)), M, W, seq.visible)
            shape_info = {}
        else:
            S, shape_info = block_matrix_shapes(M, W, seq.visible, iterations=self.shape_iterations, tol=self.tol,
                                                rho=self.rho)
        S, M, flipped = consistent_signs(S, M)
        info = {"K": K, "K_source": K_source, "factorization_rmse": factors.rmse, **metric, **shape_info,
                "frames_flipped": flipped}
        return Reconstruction(S=S - S.mean(axis=1, keepdims=True), M=M, info=info)
