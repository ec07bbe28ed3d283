"""Torresani, Hertzmann & Bregler's EM-PPCA (TPAMI 2008): a Gaussian prior on the shape coefficients, EM."""
from __future__ import annotations

import numpy as np

from nrsfm_bench.baselines.basis_size import choose_K
from nrsfm_bench.baselines.factorization import rigid_factorization
from nrsfm_bench.baselines.memory import FLOAT, require_memory
from nrsfm_bench.geometry import orthonormalize_camera
from nrsfm_bench.method import Capabilities, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence

CAMERA_STEPS = 5  # majorise-minimise steps of the camera update per M-step


def _einsum(*operands):
    """np.einsum with contraction-order optimisation (the multi-operand products here would loop naively)."""
    return np.einsum(*operands, optimize=True)


def _posterior(W, vis, R, T, B, sigma2):
    """E-step: the Gaussian posterior of the L deformation coefficients of every frame.

    Args:
        W: (F, P, 2); vis: (F, P) float; R: (F, 2, 3); T: (F, 2); B: (P, 3, L+1) basis (mean shape first);
        sigma2: noise variance.
    Returns:
        Ez: (F, L+1) E[ẑ] with ẑ = [1, z]; Ezz: (F, L+1, L+1) E[ẑ ẑᵀ].
    """
    F, L = W.shape[0], B.shape[2] - 1
    RB = _einsum("fij,pjl->fpil", R, B)                                  # (F, P, 2, L+1)
    RV = RB[..., 1:]
    residual = (W - RB[..., 0] - T[:, None, :]) * vis[..., None]           # (F, P, 2)
    precision = np.eye(L) + _einsum("fp,fpil,fpim->flm", vis, RV, RV) / sigma2
    covariance = np.linalg.inv(precision)
    mean = _einsum("flm,fm->fl", covariance, _einsum("fpil,fpi->fl", RV, residual)) / sigma2
    Ez = np.concatenate([np.ones((F, 1)), mean], axis=1)
    Ezz = _einsum("fl,fm->flm", Ez, Ez)
    Ezz[:, 1:, 1:] += covariance
    return Ez, Ezz


def _expected_error(W, vis, R, T, B, Ez, Ezz):
    """Σ over visible points of E‖w − T − R B ẑ‖² (F, P) summed, under the posterior."""
    Wt = (W - T[:, None, :]) * vis[..., None]
    RB = _einsum("fij,pjl->fpil", R, B)
    linear = _einsum("fpi,fpil,fl->", Wt, RB, Ez)
    quadratic = _einsum("fp,fpil,fpim,flm->", vis, RB, RB, Ezz)
    return float((Wt ** 2).sum() - 2 * linear + quadratic)


def _update_basis(W, vis, R, T, Ez, Ezz, complete):
    """M-step for the basis B (P, 3, L+1): per point, Σ_t (R_tᵀR_t ⊗ E[ẑẑᵀ]) vec B_p = Σ_t vec(R_tᵀ (w − T) E[ẑ]ᵀ)."""
    F, P, _ = W.shape
    D = Ez.shape[1]
    RtR = _einsum("fki,fkj->fij", R, R)
    rhs = _einsum("fp,fki,fpk,fl->pil", vis, R, W - T[:, None, :], Ez).reshape(P, 3 * D)
    if complete:
        G = _einsum("fij,flm->iljm", RtR, Ezz).reshape(3 * D, 3 * D)
        return np.linalg.solve(G, rhs.T).T.reshape(P, 3, D)
    G = _einsum("fp,fij,flm->piljm", vis, RtR, Ezz).reshape(P, 3 * D, 3 * D)
    G += 1e-10 * np.trace(G, axis1=1, axis2=2)[:, None, None] / (3 * D) * np.eye(3 * D)
    return np.linalg.solve(G, rhs[..., None])[..., 0].reshape(P, 3, D)


def _update_cameras(W, vis, R, T, B, Ez, Ezz):
    """M-step for the orthographic cameras: minimise tr(R A Rᵀ) − 2⟨R, C⟩ over R Rᵀ = I by majorise-minimise.

    A_t = Σ_p B_p E[ẑẑᵀ] B_pᵀ and C_t = Σ_p (w − T) E[ẑ]ᵀ B_pᵀ; with λ ≥ λ_max(A_t), each step
    R ← orth(R (I − A/λ) + C/λ) decreases the objective (it minimises a quadratic majoriser exactly).
    """
    P, _, D = B.shape
    outer = _einsum("pil,pjm->plmij", B, B).reshape(P, D * D * 9)          # B_p[:, l] B_p[:, m]ᵀ per point
    A = _einsum("flm,flmij->fij", Ezz, (vis @ outer).reshape(-1, D, D, 3, 3))
    C = _einsum("fpk,fpj->fkj", (W - T[:, None, :]) * vis[..., None], _einsum("pjl,fl->fpj", B, Ez))
    lam = np.linalg.eigvalsh(A)[:, -1][:, None, None]
    lam = np.maximum(lam, 1e-300)
    step = np.eye(3) - A / lam
    for _ in range(CAMERA_STEPS):
        R = orthonormalize_camera(R @ step + C / lam)
    return R


def _update_translations(W, vis, R, B, Ez):
    """M-step for the per-frame translations: mean over visible points of w − R B E[ẑ]."""
    predicted = _einsum("fij,pjl,fl->fpi", R, B, Ez)
    return ((W - predicted) * vis[..., None]).sum(1) / np.maximum(vis.sum(1), 1)[:, None]


@register_method("em_ppca")
class EmPpca(PerSequenceMethod):
    """Torresani, Hertzmann & Bregler 2008: probabilistic PCA shape model (Gaussian coefficients), EM, orthographic."""

    capabilities = Capabilities(inductive=False, missing_data=True)
    test_parameters = {"K": 2, "iterations": 20}

    def __init__(self, *, K: int | None = None, iterations: int = 300, tol: float = 1e-7,
                 init_iterations: int = 500, seed: int = 0):
        """
        Args:
            K: number of basis shapes, the mean shape included (K − 1 Gaussian deformation modes; W has rank
                3K); None picks it by `basis_size.choose_K`.
            iterations: EM iterations at most.
            tol: stop when the expected squared residual changes by less than this fraction.
            init_iterations: alternation sweeps of the rigid initialisation when points are missing.
            seed: unused (initialised deterministically from the rigid factorisation); kept so every method
                takes a seed.
        """
        self.K, self.iterations, self.tol, self.init_iterations, self.seed = K, iterations, tol, \
            init_iterations, seed

    def _initialise(self, seq: Sequence, L: int):
        """Rigid Tomasi–Kanade cameras and mean shape; deformation modes from the PCA of the back-projected
        rigid residuals (in-plane only: EM recovers their depth)."""
        F, P = seq.F, seq.P
        vis = seq.visible.astype(float)
        R, T, mean, _ = rigid_factorization(seq.W, seq.visible, iterations=self.init_iterations)
        residual = (seq.W - mean @ R.transpose(0, 2, 1) - T[:, None, :]) * vis[..., None]
        back = (residual @ R).reshape(F, 3 * P)
        _, s, Vt = np.linalg.svd(back, full_matrices=False)
        modes = (Vt[:L] * (s[:L, None] / np.sqrt(F))).reshape(L, P, 3)
        B = np.concatenate([mean[None], modes], axis=0).transpose(1, 2, 0)    # (P, 3, L+1)
        sigma2 = max(float((residual ** 2).sum() / (2 * vis.sum())), 1e-12 * float((seq.W ** 2).mean()))
        return R, T, B, sigma2

    def _solve(self, seq: Sequence) -> Reconstruction:
        F, P = seq.F, seq.P
        K, K_source = choose_K(self.registry_name, seq, self.K)
        L = K - 1
        require_memory(self.registry_name, FLOAT * (4 * F * P * 2 * (L + 1) + 6 * 2 * F * P
                                                    + (0 if not seq.has_missing else P * (3 * K) ** 2)),
                       f"the {F} x {P} x 2 x {K} projected bases and the {2 * F} x {P} measurement matrix")
        W, vis = seq.W, seq.visible.astype(float)
        R, T, B, sigma2 = self._initialise(seq, L)
        floor = 1e-14 * float((W ** 2).sum() / max(vis.sum(), 1))
        previous, converged, iteration = np.inf, False, 0
        for iteration in range(1, self.iterations + 1):
            Ez, Ezz = _posterior(W, vis, R, T, B, sigma2)
            B = _update_basis(W, vis, R, T, Ez, Ezz, not seq.has_missing)
            R = _update_cameras(W, vis, R, T, B, Ez, Ezz)
            T = _update_translations(W, vis, R, B, Ez)
            error = _expected_error(W, vis, R, T, B, Ez, Ezz)
            sigma2 = max(error / (2 * vis.sum()), floor)
            if np.isfinite(previous) and abs(previous - error) <= self.tol * previous:
                converged = True
                break
            previous = error
        Ez, _ = _posterior(W, vis, R, T, B, sigma2)
        S = _einsum("pjl,fl->fpj", B, Ez)
        info = {"K": K, "K_source": K_source, "iterations": iteration, "converged": converged,
                "sigma2": float(sigma2)}
        return Reconstruction(S=S - S.mean(axis=1, keepdims=True), M=R, info=info)
