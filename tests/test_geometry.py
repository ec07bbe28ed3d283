"""Shared geometry on NumPy and torch: rotations, cameras, 6D representations, masked centring."""
import numpy as np
import pytest

from nrsfm_bench import geometry as g


def test_random_rotations_are_proper_seeded_and_uniform_in_mean():
    R = g.random_rotations(4000, 0)
    assert np.allclose(R @ R.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(R), 1)
    assert np.array_equal(R, g.random_rotations(4000, 0))
    assert np.abs(R.mean(0)).max() < 0.05  # Haar measure: E[R] = 0


def test_orthonormalize_camera_and_6d_round_trip():
    rng = np.random.default_rng(1)
    M = g.orthonormalize_camera(rng.standard_normal((10, 2, 3)))
    assert np.allclose(M @ M.transpose(0, 2, 1), np.eye(2), atol=1e-12)
    R = g.random_rotations(10, 2)
    assert np.allclose(g.rotation_from_6d(g.rotation_to_6d(R)), R)
    assert np.allclose(g.camera_from_6d(g.rotation_to_6d(R)), R[:, :2])
    assert np.allclose(g.complete_rotation(R[:, :2]), R)


def test_center_masked_ignores_hidden_points():
    X = np.arange(24, dtype=float).reshape(2, 4, 3)
    visible = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    C = g.center_masked(X, visible)
    assert np.allclose(C[visible.astype(bool)].reshape(-1, 3)[:3].sum(0), 0)
    assert np.all(C[0, 3] == 0)


def test_project_is_w_equals_m_s():
    rng = np.random.default_rng(3)
    S, M = rng.standard_normal((5, 7, 3)), rng.standard_normal((5, 2, 3))
    assert np.allclose(g.project(S, M)[2], (M[2] @ S[2].T).T)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_and_numpy_agree(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((6, 6)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for fn in (g.camera_from_6d, g.rotation_from_6d):
        assert np.allclose(fn(torch.from_numpy(x)).numpy(), fn(x), atol=tol)


def test_camera_from_6d_gradient_float64():
    torch = pytest.importorskip("torch")
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: g.camera_from_6d(t), (x,))
