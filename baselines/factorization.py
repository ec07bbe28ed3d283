"""Factorisation pieces shared by the classical methods: masked rank-r factorisation, metric upgrade, cameras.

Layout: the measurement matrix `Wm (2F, P)` stacks frame i's x row at 2i and its y row at 2i+1 (the classical
papers' `W`, 0-based); a motion matrix `A (2F, n)` has the same row order, so `A.reshape(F, 2, n)` gives one
2×n block per frame.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

from nrsfm_bench.errors import MethodFailure
from nrsfm_bench.geometry import orthonormalize_camera

CHUNK_ROWS = 4096  # rows of a constraint or normal-equation block built at once (bounds temporary memory)


# ----------------------------------------------------------------------------------------------- layout
def stack_frames(W: np.ndarray) -> np.ndarray:
    """(F, P, 2) observations → (2F, P) measurement matrix (x row then y row per frame)."""
    F, P, _ = W.shape
    return np.ascontiguousarray(W.transpose(0, 2, 1).reshape(2 * F, P))


def row_mask(visible: np.ndarray) -> np.ndarray:
    """(F, P) visibility → (2F, P) mask of the measurement matrix."""
    return np.repeat(np.asarray(visible, bool), 2, axis=0)


def frame_blocks(A: np.ndarray) -> np.ndarray:
    """(2F, n) motion matrix → (F, 2, n) per-frame blocks."""
    return A.reshape(A.shape[0] // 2, 2, A.shape[1])


# ----------------------------------------------------------------------------------------------- factorisation
@dataclasses.dataclass(frozen=True)
class Factorization:
    """`Wm ≈ A B + t 1ᵀ` on the observed entries.

    Attributes:
        A: (2F, r) motion factor.
        B: (r, P) structure factor.
        t: (2F,) per-row translation (the projected centroid of the whole shape).
        rmse: root mean square residual over observed entries.
        iterations: alternation sweeps run (0 for the closed-form SVD on complete data).
        converged: the relative change of the residual fell below the tolerance (always True for the SVD).
    """

    A: np.ndarray
    B: np.ndarray
    t: np.ndarray
    rmse: float
    iterations: int
    converged: bool


def _batched_solve(G: np.ndarray, rhs: np.ndarray, damping: float) -> np.ndarray:
    """Solve `(G_k + damping·I) x_k = rhs_k` for each k; G: (N, r, r), rhs: (N, r)."""
    r = G.shape[-1]
    scale = np.maximum(np.trace(G, axis1=1, axis2=2) / r, 1e-300)
    G = G + (damping * scale)[:, None, None] * np.eye(r)
    return np.linalg.solve(G, rhs[..., None])[..., 0]


def _masked_normal_equations(X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Σ_j mask[j, p] X_j X_jᵀ for every column p, by one matrix product: X (N, r), mask (N, P) → (P, r, r)."""
    r = X.shape[1]
    outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], r * r)
    return (mask.T.astype(X.dtype) @ outer).reshape(mask.shape[1], r, r)


def low_rank_factorize(Wm: np.ndarray, rank: int, mask: np.ndarray | None = None, *, iterations: int = 500,
                       tol: float = 1e-10, damping: float = 1e-9) -> Factorization:
    """Rank-`rank` factorisation with a translation: `Wm ≈ A B + t 1ᵀ` over the observed entries.

    Complete data: t is the row mean and (A, B) the truncated SVD of the centred matrix (exact optimum).
    Missing data: alternating least squares on the mask (each point's column of B, then each row's A and t,
    by batched normal equations with a small relative damping), started from the SVD of the zero-filled
    centred matrix. Deterministic (no random start).

    Args:
        Wm: (2F, P) measurement matrix (values at unobserved entries are ignored).
        rank: r ≥ 1, at most min(2F, P) − 1.
        mask: (2F, P) bool, True where observed; None means complete.
        iterations: alternation sweeps at most (missing data only).
        tol: stop when the relative decrease of the residual is below this.
        damping: relative ridge added to each normal-equation matrix (keeps under-observed columns solvable).
    Returns:
        A Factorization.
    """
    Wm = np.asarray(Wm, dtype=np.float64)
    n_rows, P = Wm.shape
    if rank < 1 or rank >= min(n_rows, P):
        raise MethodFailure(f"rank-{rank} factorisation needs 2F > rank and P > rank; the measurement matrix is "
                            f"{n_rows} x {P}")
    if mask is None or mask.all():
        t = Wm.mean(axis=1)
        U, s, Vt = np.linalg.svd(Wm - t[:, None], full_matrices=False)
        root = np.sqrt(s[:rank])
        A, B = U[:, :rank] * root, root[:, None] * Vt[:rank]
        rmse = float(np.sqrt(np.mean((Wm - t[:, None] - A @ B) ** 2)))
        return Factorization(A, B, t, rmse, 0, True)

    mask = np.asarray(mask, bool)
    if (mask.sum(axis=0) < rank).any() or (mask.sum(axis=1) < rank + 1).any():
        raise MethodFailure(f"rank-{rank} factorisation with missing data needs every point seen in at least "
                            f"{(rank + 1) // 2} frames and every frame to show at least {rank + 1} points")
    weight = mask.astype(np.float64)
    observed = weight.sum()
    t = (Wm * weight).sum(axis=1) / weight.sum(axis=1)
    U, s, Vt = np.linalg.svd((Wm - t[:, None]) * weight, full_matrices=False)
    A = U[:, :rank] * np.sqrt(s[:rank])
    previous, converged, sweep = np.inf, False, 0
    for sweep in range(1, iterations + 1):
        # structure: each column b_p from the rows that observe point p
        rhs = ((Wm - t[:, None]) * weight).T @ A                                     # (P, r)
        B = _batched_solve(_masked_normal_equations(A, mask), rhs, damping).T       # (r, P)
        # motion: each row [a_j, t_j] from the points it observes
        B1 = np.vstack([B, np.ones((1, P))])                                         # (r+1, P)
        rhs = (Wm * weight) @ B1.T                                                   # (2F, r+1)
        At = _batched_solve(_masked_normal_equations(B1.T, mask.T), rhs, damping)    # (2F, r+1)
        A, t = At[:, :rank], At[:, rank]
        residual = float((((Wm - A @ B - t[:, None]) * weight) ** 2).sum())
        if np.isfinite(previous) and previous - residual <= tol * previous:
            converged = True
            break
        previous = residual
    rmse = float(np.sqrt(residual / observed))
    centre = B.mean(axis=1)          # gauge: t is the projected centroid of the whole shape, as for complete data
    return Factorization(A, B - centre[:, None], t + A @ centre, rmse, sweep, converged)


# ----------------------------------------------------------------------------------------------- metric upgrade
def sym_coefficients(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients of `aᵀ L b` in the upper-triangular entries of a symmetric n×n L (row-major `triu` order).

    Args:
        a, b: (..., n).
    Returns:
        (..., n(n+1)/2): `a_i b_i` on the diagonal, `a_i b_j + a_j b_i` off it.
    """
    n = a.shape[-1]
    i, j = np.triu_indices(n)
    return np.where(i == j, a[..., i] * b[..., j], a[..., i] * b[..., j] + a[..., j] * b[..., i])


def sym_from_upper(x: np.ndarray, n: int) -> np.ndarray:
    """The symmetric n×n matrix whose upper-triangular entries (row-major) are x: (n(n+1)/2,) → (n, n)."""
    L = np.zeros((n, n))
    L[np.triu_indices(n)] = x
    return L + np.triu(L, 1).T


def orthonormality_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame linear constraints on a symmetric Gram matrix L (n×n) from the motion blocks `A_i` (2×n).

    Returns the coefficient rows of `a₁ᵀ L a₁`, `a₂ᵀ L a₂` and `a₁ᵀ L a₂` for every frame, each (F, n(n+1)/2),
    where a₁, a₂ are the two rows of frame i's block.
    """
    blocks = frame_blocks(A)
    a1, a2 = blocks[:, 0], blocks[:, 1]
    return sym_coefficients(a1, a1), sym_coefficients(a2, a2), sym_coefficients(a1, a2)


def nearest_psd_factor(L: np.ndarray, rank: int) -> tuple[np.ndarray, bool]:
    """A factor Q (n×rank) with `Q Qᵀ` the nearest rank-`rank` positive semi-definite matrix to symmetric L.

    Returns:
        Q: (n, rank); clipped: True when L had fewer than `rank` positive eigenvalues (L was not PD enough).
    """
    values, vectors = np.linalg.eigh((L + L.T) / 2)
    values, vectors = values[::-1][:rank], vectors[:, ::-1][:, :rank]
    clipped = bool(values.min() <= 0)
    if values.max() <= 0:
        raise MethodFailure("metric upgrade failed: the Gram matrix from the orthonormality constraints has no "
                            "positive eigenvalue (is the input a projection of a 3D shape?)")
    values = np.maximum(values, values.max() * 1e-9)
    return vectors * np.sqrt(values), clipped


def _rigid_residuals(q: np.ndarray, a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    Q = q.reshape(3, 3)
    m1, m2 = a1 @ Q, a2 @ Q
    return np.concatenate([(m1 * m1).sum(1) - 1, (m2 * m2).sum(1) - 1, (m1 * m2).sum(1)])


def metric_upgrade_rigid(A: np.ndarray, refine: bool = True) -> tuple[np.ndarray, dict]:
    """The corrective transform Q (3×3) making the affine cameras `A_i Q` orthonormal (Tomasi & Kanade).

    Solves the orthonormality constraints `a₁ᵀLa₁ = a₂ᵀLa₂ = 1`, `a₁ᵀLa₂ = 0` for the symmetric L = Q Qᵀ by
    linear least squares, takes the nearest positive semi-definite L when the solution is not positive
    definite, then (when `refine`) polishes Q on the same constraints by Gauss–Newton (`scipy least_squares`),
    which also repairs a clipped, non-PD start.

    Args:
        A: (2F, 3) affine motion matrix.
    Returns:
        Q (3, 3) and diagonostics {"gram_clipped": bool, "metric_residual": rms constraint residual}.
    """
    c11, c22, c12 = orthonormality_rows(A)
    C = np.concatenate([c11, c22, c12])
    rhs = np.concatenate([np.ones(len(c11)), np.ones(len(c22)), np.zeros(len(c12))])
    L = sym_from_upper(np.linalg.lstsq(C, rhs, rcond=None)[0], 3)
    Q, clipped = nearest_psd_factor(L, 3)
    blocks = frame_blocks(A)
    if refine:
        Q = least_squares(_rigid_residuals, Q.ravel(), args=(blocks[:, 0], blocks[:, 1]), method="lm",
                          max_nfev=200).x.reshape(3, 3)
    residual = _rigid_residuals(Q.ravel(), blocks[:, 0], blocks[:, 1])
    return Q, {"gram_clipped": clipped, "metric_residual": float(np.sqrt(np.mean(residual ** 2)))}


# ----------------------------------------------------------------------------------------------- cameras and shapes
def cameras_from_blocks(A: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Orthonormal cameras (F, 2, 3) nearest to the blocks of `A Q` (A: (2F, n), Q: (n, 3))."""
    return orthonormalize_camera(frame_blocks(A @ Q))


def rigid_shape_given_cameras(W: np.ndarray, visible: np.ndarray, M: np.ndarray, t: np.ndarray | None = None,
                              damping: float = 1e-12) -> np.ndarray:
    """The one shape S (P, 3) minimising Σ_i ‖W_i − M_i S − t_i‖² over visible points.

    Args:
        W: (F, P, 2); visible: (F, P); M: (F, 2, 3); t: optional (F, 2) translations (0 when None).
    Returns:
        (P, 3) shape, centred over its points.
    """
    Wt = W if t is None else W - t[:, None, :]
    vis = visible.astype(np.float64)
    G = np.einsum("fp,fki,fkj->pij", vis, M, M)                 # Σ_i v_ip M_iᵀ M_i, (P, 3, 3)
    rhs = np.einsum("fp,fpk,fki->pi", vis, Wt, M)               # Σ_i v_ip M_iᵀ w_ip, (P, 3)
    S = _batched_solve(G, rhs, damping)
    return S - S.mean(axis=0)


def _nonrigid_residuals(q: np.ndarray, a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """Orthonormality residuals of the scaled cameras `a Q` (equal row norms, orthogonal rows) and the scale
    normalisation (mean squared row norm 1). a1, a2: (F, n) rows of the motion blocks; q: Q (n, 3) flattened."""
    Q = q.reshape(a1.shape[1], 3)
    m1, m2 = a1 @ Q, a2 @ Q
    n1, n2 = (m1 * m1).sum(1), (m2 * m2).sum(1)
    return np.concatenate([n1 - n2, 2 * (m1 * m2).sum(1), [np.sqrt(len(n1)) * ((n1 + n2).mean() / 2 - 1)]])


def _nonrigid_jacobian(q: np.ndarray, a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """Jacobian of `_nonrigid_residuals` with respect to q: (2F + 1, 3n)."""
    Q = q.reshape(a1.shape[1], 3)
    m1, m2 = a1 @ Q, a2 @ Q
    outer = lambda a, m: (a[:, :, None] * m[:, None, :]).reshape(len(a), -1)  # noqa: E731  d(a·Q·m)/dQ rows
    d11, d22 = 2 * outer(a1, m1), 2 * outer(a2, m2)
    return np.vstack([d11 - d22, 2 * (outer(a1, m2) + outer(a2, m1)),
                      np.sqrt(len(a1)) * (d11 + d22).mean(axis=0, keepdims=True) / 2])


def metric_upgrade_trace_norm(A: np.ndarray, K: int, *, trace_weight: float = 0.1, iterations: int = 3000,
                              tol: float = 1e-9, refine: bool = True) -> tuple[np.ndarray, dict]:
    """One column triple Q_k (3K×3) of the corrective matrix of a rank-3K motion matrix (Dai, Li & He 2012).

    Dai et al. recover `G_k = Q_k Q_kᵀ` from the orthonormality constraints of every frame,
    `a₁ᵀ G a₁ = a₂ᵀ G a₂` and `a₁ᵀ G a₂ = 0`, and pick a rank-3 member of their solution space by trace-norm
    minimisation over the PSD cone. Real data are not exactly rank 3K, so the constraints hold only in the
    least-squares sense; we solve the penalised semidefinite programme

        min_G  ‖C svec(G)‖² + μ tr(G)   s.t.  G ⪰ 0,  mean_i (a₁ᵀGa₁ + a₂ᵀGa₂)/2 = 1,

    with μ = `trace_weight` × (mean diagonal of CᵀC), by ADMM (one projection onto the PSD cone per iteration).
    The rank-3 factor of G is then polished (when `refine`) by Levenberg–Marquardt on the same constraints
    with Q as the unknown, which enforces rank 3 exactly (the trace norm alone can leave a few percent of the
    trace outside the top three eigenvalues; camera errors drop from ~1e-1 to ~1e-8 on exact synthetic data).

    Args:
        A: (2F, 3K) motion matrix from the rank-3K factorisation.
        K: number of basis shapes.
        trace_weight: μ relative to the constraints' scale.
        iterations, tol: ADMM iterations at most, and the relative primal/dual residual to stop at.
        refine: polish Q by Levenberg–Marquardt.
    Returns:
        Q_k (3K, 3) and diagnostics: ADMM iterations, the share of G's trace in its top three eigenvalues
        (1 for an exact rank-3 solution) and the rms constraint residual of the returned Q.
    """
    n = 3 * K
    m = n * (n + 1) // 2
    blocks = frame_blocks(A)
    F = blocks.shape[0]
    N, normal = np.zeros((m, m)), np.zeros(m)
    for start in range(0, F, CHUNK_ROWS):                    # accumulate CᵀC chunk by chunk (bounded memory)
        c11, c22, c12 = orthonormality_rows(A[2 * start:2 * min(start + CHUNK_ROWS, F)])
        N += (c11 - c22).T @ (c11 - c22) + c12.T @ c12
        normal += (c11 + c22).sum(axis=0) / (2 * F)
    iu = np.triu_indices(n)
    diagonal = (iu[0] == iu[1]).astype(float)
    weight = np.where(iu[0] == iu[1], 1.0, 2.0)             # ⟨G, V⟩ = Σ_{i≤j} w_ij g_ij v_ij
    scale = max(np.trace(N) / m, 1e-300)
    rho = scale
    kkt_inverse = np.linalg.pinv(np.block([[N + rho * np.diag(weight), normal[:, None]],
                                           [normal[None, :], np.zeros((1, 1))]]))
    X, U = np.zeros((n, n)), np.zeros((n, n))
    iteration, converged = 0, False
    for iteration in range(1, iterations + 1):
        rhs = np.concatenate([rho * weight * (X - U)[iu] - trace_weight * scale * diagonal, [1.0]])
        G = sym_from_upper((kkt_inverse @ rhs)[:m], n)
        eig, vec = np.linalg.eigh(G + U)
        X_new = (vec * np.maximum(eig, 0)) @ vec.T
        primal, dual = np.linalg.norm(G - X_new), np.linalg.norm(X_new - X)
        U += G - X_new
        X = X_new
        if max(primal, dual) <= tol * max(np.linalg.norm(X), 1e-300):
            converged = True
            break
    eig = np.linalg.eigvalsh(X)[::-1]
    rank3_share = float(eig[:3].sum() / max(eig[eig > 0].sum(), 1e-300))
    Q, _ = nearest_psd_factor(X, 3)
    a1, a2 = blocks[:, 0], blocks[:, 1]
    if refine:
        Q = least_squares(_nonrigid_residuals, Q.ravel(), jac=_nonrigid_jacobian, args=(a1, a2), method="lm",
                          max_nfev=200).x.reshape(n, 3)
    residual = _nonrigid_residuals(Q.ravel(), a1, a2)
    return Q, {"sdp_iterations": iteration, "sdp_converged": converged, "gram_rank3_share": rank3_share,
               "metric_residual": float(np.sqrt(np.mean(residual ** 2)))}
