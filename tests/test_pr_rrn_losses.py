"""PR-RRN's losses: reprojection, rigidity contrastive (eq. 12) and pairwise consistency (eq. 17)."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nrsfm_bench.geometry import cameras_from_rotations, project, random_rotations  # noqa: E402
from nrsfm_bench.methods.pr_rrn.losses import (  # noqa: E402
    consistency_loss, contrastive_loss, reprojection_loss)
from nrsfm_bench.methods.pr_rrn.networks import RotationNetwork, ShapeNetwork  # noqa: E402


def _cameras(n: int, seed: int) -> torch.Tensor:
    return torch.as_tensor(cameras_from_rotations(random_rotations(n, seed)))


def test_reprojection_is_zero_for_exact_shapes_and_ignores_hidden_points():
    S = torch.randn(4, 10, 3, dtype=torch.float64)
    S = S - S.mean(1, keepdim=True)
    M = _cameras(4, 0)
    W = project(S, M)
    visible = torch.ones(4, 10, dtype=torch.float64)
    assert reprojection_loss(W, visible, S, M).item() < 1e-5
    visible[:, :3] = 0
    S_bad = S.clone()
    S_bad[:, :3] += 5.0                                      # wrong only at hidden points
    W_vis = (W - (W * visible[..., None]).sum(1, keepdim=True) / 7) * visible[..., None]
    assert reprojection_loss(W_vis, visible, S_bad, M).item() < 1e-5
    assert reprojection_loss(W_vis, visible, S_bad * 1.1, M).item() > 0.1   # and it can fail


def test_contrastive_matches_equation_12_by_hand():
    h = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8]]), dim=1)
    keys = torch.nn.functional.normalize(torch.tensor([[1.0, 1.0], [-1.0, 0.0], [0.0, 1.0]]), dim=1)
    positive = torch.tensor([[True, False, False], [False, False, True]])
    negative = torch.tensor([[False, True, True], [True, False, False]])
    loss, rows = contrastive_loss(h, keys, positive, negative)
    d = h @ keys.T
    by_hand = [-math.log(math.exp(d[0, 0]) / (math.exp(d[0, 0]) + math.exp(d[0, 1]) + math.exp(d[0, 2]))),
               -math.log(math.exp(d[1, 2]) / (math.exp(d[1, 2]) + math.exp(d[1, 0])))]
    assert rows == 2 and loss.item() == pytest.approx(sum(by_hand) / 2, abs=1e-6)


def test_contrastive_decreases_when_positives_are_pulled_together():
    g = torch.Generator().manual_seed(0)
    h = torch.nn.functional.normalize(torch.randn(16, 8, generator=g), dim=1)
    keys = torch.nn.functional.normalize(torch.randn(40, 8, generator=g), dim=1)
    label = torch.randint(0, 3, (16, 40), generator=g)
    positive, negative = label == 0, label == 2
    before, rows = contrastive_loss(h, keys, positive, negative)
    pulled = torch.nn.functional.normalize(h + 0.5 * positive.float() @ keys, dim=1)
    after, _ = contrastive_loss(pulled, keys, positive, negative)
    pushed = torch.nn.functional.normalize(h - 0.5 * positive.float() @ keys, dim=1)
    assert rows == 16 and after < before < contrastive_loss(pushed, keys, positive, negative)[0]


def test_contrastive_skips_frames_without_positive_or_negative():
    h = torch.nn.functional.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    keys = torch.nn.functional.normalize(torch.randn(5, 4), dim=1)
    none = torch.zeros(3, 5, dtype=torch.bool)
    loss, rows = contrastive_loss(h, keys, none, ~none)
    assert rows == 0 and loss.item() == 0.0
    loss.backward()                                          # still part of the graph
    assert torch.equal(h.grad, torch.zeros_like(h))


class _RigidOracle:
    """A network pair that is exactly consistent on views of one rigid shape: F returns the shape, G the
    least-squares camera of the view (exact for `W = M S0`)."""

    def __init__(self, S0: torch.Tensor, bias: float = 0.0):
        self.S0, self.bias = S0, bias

    def __call__(self, W: torch.Tensor):
        S = self.S0.expand(W.shape[0], -1, -1) + self.bias
        M = torch.linalg.lstsq(self.S0.expand(W.shape[0], -1, -1), W).solution.transpose(1, 2)
        return S, M


def test_consistency_is_zero_for_an_exactly_consistent_network():
    rng = np.random.default_rng(0)
    S0 = torch.as_tensor(rng.standard_normal((12, 3)))
    S0 = S0 - S0.mean(0)
    M = _cameras(6, 1)
    S = S0.expand(6, -1, -1)
    visible = torch.ones(6, 12, dtype=torch.float64)
    for new_cameras in (M[torch.tensor([3, 0, 5, 1, 2, 4])], _cameras(6, 2)):   # permuted or random
        assert consistency_loss(S, M, visible, new_cameras, _RigidOracle(S0)).item() < 1e-5
        assert consistency_loss(S, M, visible, new_cameras, _RigidOracle(S0, bias=0.1)).item() > 0.1


def test_losses_of_real_networks_have_finite_gradients():
    torch.manual_seed(0)
    shape_net, rotation_net = ShapeNetwork(9, recursions=2), RotationNetwork(9)
    W = torch.randn(8, 9, 2)
    visible = (torch.rand(8, 9) > 0.2).float()
    W = W * visible[..., None]
    S, h = shape_net(W)
    M = rotation_net(W)
    h = torch.nn.functional.normalize(h, dim=1)
    positive = torch.rand(8, 8) < 0.3
    total = (reprojection_loss(W, visible, S, M) + contrastive_loss(h, h, positive, ~positive)[0]
             + consistency_loss(S, M, visible, M[torch.randperm(8)], lambda x: (shape_net(x)[0], rotation_net(x))))
    total.backward()
    grads = [p.grad for net in (shape_net, rotation_net) for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_detached_consistency_sends_no_gradient_into_its_targets():
    S = torch.randn(4, 6, 3, requires_grad=True)
    M = _cameras(4, 3).float()
    visible = torch.ones(4, 6)
    new_cameras = _cameras(4, 4).float().requires_grad_(True)
    weight = torch.ones((), requires_grad=True)
    networks = lambda W: (torch.zeros(W.shape[0], 6, 3) + weight * W.sum(), M)   # noqa: E731
    consistency_loss(S, M, visible, new_cameras, networks, detach=True).backward()
    assert S.grad is None and new_cameras.grad is None and weight.grad is not None
    consistency_loss(S, M, visible, new_cameras, networks, detach=False).backward()
    assert S.grad is not None and float(S.grad.abs().sum()) > 0
