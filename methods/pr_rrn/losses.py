"""PR-RRN's losses: masked reprojection (eq. 7), rigidity contrastive (eq. 10–12), pairwise consistency (eq. 17).

Every loss is a mean over the frames of the batch (the paper writes a single frame, eq. 7, or a sum, eq. 17;
a mean keeps λ₁ and λ₂ independent of the batch size).
"""
from __future__ import annotations

from typing import Callable

import torch

from nrsfm_bench.geometry import center_masked, project


def _frobenius(x: torch.Tensor) -> torch.Tensor:
    """Per-frame Frobenius norm of `x (B, ...)`, with a finite gradient at 0."""
    return torch.sqrt((x * x).flatten(1).sum(1) + 1e-12)


def reprojection_loss(W: torch.Tensor, visible: torch.Tensor, S: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """Mean over frames of `‖(W_i − M_i S_i) ⊙ v_i‖_F`, both sides centred over the visible points.

    Args:
        W: (B, P, 2) observations, centred over visible points, 0 at hidden ones; visible: (B, P) float 0/1;
        S: (B, P, 3) shapes; M: (B, 2, 3) cameras.
    Returns:
        () the loss.
    """
    residual = (W - center_masked(project(S, M), visible)) * visible[..., None]
    return _frobenius(residual).mean()


def contrastive_loss(h: torch.Tensor, keys: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                     temperature: float = 1.0) -> tuple[torch.Tensor, int]:
    """`−log Σ_pos exp(h_i·h_j/t) / (Σ_pos + Σ_neg)` (paper eq. 12, t = 1), mean over frames with both sets.

    Args:
        h: (B, d) representations of the batch, unit norm; keys: (K, d) unit-norm representations to
            contrast with (the batch itself and the memory bank);
        positive: (B, K) bool, `msr < τ`; negative: (B, K) bool, `msr > ξ`; a frame is never its own key.
        temperature: divides the dot products (the paper uses none, i.e. 1).
    Returns:
        (loss, rows): the loss (0, still attached to the graph, when no frame has both a positive and a
        negative) and the number of frames that contributed.
    """
    logits = h @ keys.T / temperature                                           # (B, K)
    very_negative = torch.finfo(logits.dtype).min
    positive_lse = torch.logsumexp(logits.masked_fill(~positive, very_negative), 1)
    both_lse = torch.logsumexp(logits.masked_fill(~(positive | negative), very_negative), 1)
    rows = positive.any(1) & negative.any(1)
    count = int(rows.sum())
    if count == 0:
        return logits.sum() * 0.0, 0
    return (both_lse - positive_lse)[rows].mean(), count


def consistency_loss(S: torch.Tensor, M: torch.Tensor, visible: torch.Tensor, new_cameras: torch.Tensor,
                     networks: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                     detach: bool = False) -> torch.Tensor:
    """Mean over frames of `‖(S_i − S'_i) ⊙ v_i‖_F + ‖M'_i − M''_i‖_F` (paper eq. 15–17).

    Each estimated shape is viewed through another camera `M'_i` (`new_cameras`: the batch's cameras in a
    random permutation, or random rotations), `W'_i = M'_i S_i`, masked and centred like a real input; the
    networks must give back the same shape `S'_i = F(W'_i)` and that camera `M''_i = G(W'_i)`.

    Args:
        S: (B, P, 3) and M: (B, 2, 3) estimates of the batch; visible: (B, P) float 0/1;
        new_cameras: (B, 2, 3);
        networks: `W (B, P, 2) → (S (B, P, 3), M (B, 2, 3))`, i.e. F and G.
        detach: treat `S` and `new_cameras` as fixed targets, so the loss trains the networks' second pass to
            recover them (True); False (default) lets gradients flow into the first pass too.
    Returns:
        () the loss.
    """
    if detach:
        S, new_cameras = S.detach(), new_cameras.detach()
    W_new = center_masked(project(S, new_cameras), visible)
    S_again, M_again = networks(W_new)
    shape_term = _frobenius((S - S_again) * visible[..., None])
    camera_term = _frobenius(new_cameras - M_again)
    return (shape_term + camera_term).mean()
