"""PR-RRN's networks: tensor shapes, orthonormal cameras, tied weights, Vanilla's parameter count, gradients."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nrsfm_bench.methods.pr_rrn.networks import RotationNetwork, ShapeNetwork, parameter_count  # noqa: E402


def _rrn_parameter_formula(P: int, channels=(128, 64, 32, 16, 8), code=8) -> int:
    """Count by hand: input layer, each RR module (recursive C×C, halving C/2×C, their biases and the
    decoder's separate biases), the middle layer (tied, separate decoder bias) and the shape layer."""
    first, bottleneck = channels[0], channels[-1] // 2 * 2
    count = first * P + first
    for c in channels:
        count += c * c + c + (c // 2) * c + c // 2          # encoder weights and biases
        count += c + c                                      # decoder biases (weights are the transposes)
    count += code * bottleneck + code + bottleneck
    count += 3 * P * first * 2 + 3 * P
    return count


@pytest.mark.parametrize("points", [31, 7])
def test_shapes_and_orthonormal_cameras(points):
    W = torch.randn(5, points, 2)
    S, h = ShapeNetwork(points, recursions=2)(W)
    M = RotationNetwork(points)(W)
    assert S.shape == (5, points, 3) and h.shape == (5, 8) and M.shape == (5, 2, 3)
    assert torch.allclose(S.mean(1), torch.zeros(5, 3), atol=1e-5)       # centred over points
    assert torch.allclose(M @ M.transpose(1, 2), torch.eye(2).expand(5, 2, 2), atol=1e-5)


def test_parameter_counts_tied_weights_and_vanilla():
    rrn = ShapeNetwork(31, recursions=3)
    vanilla = ShapeNetwork(31, recursive=False)
    assert parameter_count(rrn) == parameter_count(vanilla) == _rrn_parameter_formula(31) == 61_681
    assert parameter_count(RotationNetwork(31)) == 62 * 128 + 128 + 128 * 32 + 32 + 32 * 8 + 8 + 8 * 6 + 6
    # recursion shares one layer: T does not change the count
    assert parameter_count(ShapeNetwork(31, recursions=1)) == parameter_count(rrn)


def test_recursion_and_residual_change_the_function():
    W = torch.randn(4, 31, 2)
    outputs = [ShapeNetwork(31, recursions=T, residual=r, recursive=rec)(W)[0]
               for T, r, rec in [(3, "step", True), (2, "step", True), (3, "input", True), (3, "step", False)]]
    for a in range(len(outputs)):
        for b in range(a + 1, len(outputs)):
            assert not torch.allclose(outputs[a], outputs[b])


def test_same_seed_same_networks():
    a = ShapeNetwork(31, generator=torch.Generator().manual_seed(3))
    b = ShapeNetwork(31, generator=torch.Generator().manual_seed(3))
    c = ShapeNetwork(31, generator=torch.Generator().manual_seed(4))
    W = torch.randn(2, 31, 2)
    assert torch.equal(a(W)[0], b(W)[0]) and not torch.equal(a(W)[0], c(W)[0])


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="residual"):
        ShapeNetwork(31, residual="sideways")
    with pytest.raises(ValueError, match="activation"):
        ShapeNetwork(31, activation="swish")
