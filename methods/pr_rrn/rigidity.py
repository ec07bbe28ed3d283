"""Pairwise rigidity `msr` (PR-RRN eq. 9) from 4×4 Gram matrices: O(P) per pair, no 4×P SVD.

For two frames stacked as `A = [W_iᵀ; W_jᵀ]` (4×P), the squared singular values of `A` are the eigenvalues of
the 4×4 Gram matrix `A Aᵀ`, whose blocks `W_iᵀW_i`, `W_iᵀW_j`, `W_jᵀW_j` (2×2 each, frame-first layout) are
one matrix product over the points per pair. With missing points only the points visible in both frames are
used, and both frames are re-centred on that common set (a translation would otherwise add a fourth rank);
the per-pair centring costs only the per-pair sums `Σ_p m_p w_p`, again one product over the points.
"""
from __future__ import annotations

import torch

#: fewer common points than this leave `A` (centred) with rank ≤ 3 whatever the shapes: msr is undefined.
MIN_COMMON_POINTS = 5


def _outer_entries(W: torch.Tensor) -> torch.Tensor:
    """(F, P, 2) → (F, P, 3): the entries xx, xy, yy of each point's outer product."""
    x, y = W[..., 0], W[..., 1]
    return torch.stack([x * x, x * y, y * y], -1)


def _block(entries: torch.Tensor) -> torch.Tensor:
    """(..., 3) entries xx, xy, yy → (..., 2, 2) symmetric blocks."""
    xx, xy, yy = entries.unbind(-1)
    return torch.stack([torch.stack([xx, xy], -1), torch.stack([xy, yy], -1)], -2)


def _centred_rows(W: torch.Tensor) -> torch.Tensor:
    """(N, P, 2) → (N, 2, P) contiguous: each frame's x row and y row, centred, in one pass over the data."""
    rows = torch.empty(W.shape[0], 2, W.shape[1], dtype=W.dtype, device=W.device)
    return torch.sub(W.transpose(1, 2), W.mean(1)[..., None], out=rows)


def _cross_blocks(rows_a: torch.Tensor, rows_b: torch.Tensor) -> torch.Tensor:
    """(A, 2, P), (B, 2, P) rows → (A, B, 2, 2) blocks `W_aᵀ W_b` of every pair: one (2A × P)(P × 2B) product."""
    A, _, P = rows_a.shape
    B = rows_b.shape[0]
    return (rows_a.reshape(2 * A, P) @ rows_b.reshape(2 * B, P).T).reshape(A, 2, B, 2).transpose(1, 2)


def pair_gram(Wa: torch.Tensor, Wb: torch.Tensor, va: torch.Tensor | None = None,
              vb: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred 4×4 Gram matrices of every pair (a, b), over the points visible in both frames.

    Args:
        Wa: (A, P, 2) frames; Wb: (B, P, 2) frames.
        va: optional (A, P) bool visibility of `Wa`; vb: optional (B, P) bool visibility of `Wb`. When both
            are None every point is used.
    Returns:
        gram: (A, B, 4, 4) the Gram matrix `Ã Ãᵀ` of the stacked, centred pair `Ã` (rows x_a, y_a, x_b, y_b).
        common: (A, B) number of points visible in both frames.
    Cost: O(A·B·P) multiply-adds in four matrix products; memory O(A·B) besides the inputs.
    """
    A, P, _ = Wa.shape
    B = Wb.shape[0]
    if va is None and vb is None:
        # rows layout (N, 2, P): the centring copy is the only pass over each frame's data besides the product
        rows_a, rows_b = _centred_rows(Wa), _centred_rows(Wb)
        aa = (rows_a @ rows_a.transpose(1, 2))[:, None].expand(A, B, 2, 2)
        bb = (rows_b @ rows_b.transpose(1, 2))[None].expand(A, B, 2, 2)
        ab = _cross_blocks(rows_a, rows_b)
        common = torch.full((A, B), P, dtype=Wa.dtype, device=Wa.device)
    else:
        va = torch.ones(Wa.shape[:2], dtype=Wa.dtype, device=Wa.device) if va is None else va.to(Wa.dtype)
        vb = torch.ones(Wb.shape[:2], dtype=Wb.dtype, device=Wb.device) if vb is None else vb.to(Wb.dtype)
        Wa = Wa * va[..., None]  # hidden entries must not contribute, whatever they hold
        Wb = Wb * vb[..., None]
        common = va @ vb.T                                             # (A, B)
        n = common.clamp(min=1)[..., None, None]
        sum_a = torch.einsum("apd,bp->abd", Wa, vb)                   # Σ_p m_p w_ap
        sum_b = torch.einsum("bpd,ap->abd", Wb, va)                   # Σ_p m_p w_bp
        aa = _block(torch.einsum("apk,bp->abk", _outer_entries(Wa), vb))
        bb = _block(torch.einsum("bpk,ap->abk", _outer_entries(Wb), va))
        ab = torch.einsum("apd,bpe->abde", Wa, Wb)
        aa = aa - sum_a[..., :, None] * sum_a[..., None, :] / n
        bb = bb - sum_b[..., :, None] * sum_b[..., None, :] / n
        ab = ab - sum_a[..., :, None] * sum_b[..., None, :] / n
    top = torch.cat([aa, ab], -1)
    bottom = torch.cat([ab.transpose(-1, -2), bb], -1)
    return torch.cat([top, bottom], -2), common


def msr(Wa: torch.Tensor, Wb: torch.Tensor, va: torch.Tensor | None = None, vb: torch.Tensor | None = None,
        *, eig_dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimum singular-value ratio `σ₄² / Σ σ_l²` of every pair (a, b) (paper eq. 9), in [0, 0.25].

    0 means the two views fit one rigid 3D shape (the stacked pair has rank ≤ 3).

    Args:
        Wa: (A, P, 2); Wb: (B, P, 2); va: optional (A, P) bool; vb: optional (B, P) bool.
        eig_dtype: dtype of the batched 4×4 eigenproblem (float64 by default: it is tiny beside the products).
    Returns:
        ratio: (A, B) msr in `eig_dtype`, NaN where it is undefined.
        defined: (A, B) bool, False where the pair has fewer than MIN_COMMON_POINTS common points or a
            zero Gram matrix (all common points coincide).
    """
    gram, common = pair_gram(Wa, Wb, va, vb)
    eigenvalues = torch.linalg.eigvalsh(gram.to(eig_dtype))       # (A, B, 4), ascending
    trace = eigenvalues.sum(-1)
    defined = (common >= MIN_COMMON_POINTS) & (trace > 0)
    ratio = eigenvalues[..., 0].clamp(min=0) / torch.where(defined, trace, torch.ones_like(trace))
    return torch.where(defined, ratio.clamp(max=0.25), torch.full_like(ratio, float("nan"))), defined


def msr_svd(Wa: torch.Tensor, Wb: torch.Tensor, va: torch.Tensor | None = None,
            vb: torch.Tensor | None = None) -> torch.Tensor:
    """The reference definition, one 4×n SVD per pair (slow; for tests and benchmarks only).

    Args:
        Wa: (A, P, 2); Wb: (B, P, 2); va, vb: optional visibilities as in `msr`.
    Returns:
        (A, B) msr, NaN where fewer than MIN_COMMON_POINTS points are visible in both frames.
    """
    out = torch.full((Wa.shape[0], Wb.shape[0]), float("nan"), dtype=Wa.dtype)
    for a in range(Wa.shape[0]):
        for b in range(Wb.shape[0]):
            keep = torch.ones(Wa.shape[1], dtype=torch.bool)
            if va is not None:
                keep &= va[a].bool()
            if vb is not None:
                keep &= vb[b].bool()
            if int(keep.sum()) < MIN_COMMON_POINTS:
                continue
            stacked = torch.cat([Wa[a][keep].T, Wb[b][keep].T])       # (4, n)
            stacked = stacked - stacked.mean(1, keepdim=True)
            sigma = torch.linalg.svdvals(stacked)
            out[a, b] = sigma[3] ** 2 / (sigma ** 2).sum()
    return out


def rigidity_table(W: torch.Tensor, visible: torch.Tensor | None, tau: float, xi: float,
                   pairs_per_chunk: int = 1 << 18) -> torch.Tensor:
    """The contrastive label of every pair of frames, computed once: msr depends on the 2D data alone.

    Args:
        W: (F, P, 2); visible: optional (F, P) bool/float; tau, xi: the thresholds of eq. 10–11.
        pairs_per_chunk: pairs evaluated per batched eigenproblem (bounds the working memory).
    Returns:
        (F, F) int8 table, symmetric: 1 where `msr < tau` (positive), −1 where `msr > xi` (negative), 0 where
        neither or undefined. One byte per pair: used for up to a few thousand frames.
    """
    F = W.shape[0]
    table = torch.zeros(F, F, dtype=torch.int8, device=W.device)
    rows = max(1, pairs_per_chunk // F)
    for start in range(0, F, rows):
        stop = min(F, start + rows)
        va = None if visible is None else visible[start:stop]
        vb = None if visible is None else visible[start:]
        ratio, defined = msr(W[start:stop], W[start:], va, vb)
        label = (defined & (ratio < tau)).to(torch.int8) - (defined & (ratio > xi)).to(torch.int8)
        table[start:stop, start:] = label
        table[start:, start:stop] = label.T
    return table
