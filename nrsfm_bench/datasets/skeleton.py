"""Forward kinematics shared by the ASF/AMC and BVH readers: axis rotations, Euler products, chain accumulation.

Rotations act on column vectors. Joints are stored in topological order (`parents[j] < j`, root first with
parent -1), so one pass from the root outwards accumulates every chain.
"""
from __future__ import annotations

from typing import Sequence as TypingSequence

import numpy as np

AXES = "xyz"


def axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    """Right-handed rotations about a coordinate axis.

    Args:
        axis: "x", "y" or "z" (either case).
        degrees: (...) angles in degrees.
    Returns:
        (..., 3, 3) rotation matrices.
    """
    angle = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    rows = {"x": [[one, zero, zero], [zero, c, -s], [zero, s, c]],
            "y": [[c, zero, s], [zero, one, zero], [-s, zero, c]],
            "z": [[c, -s, zero], [s, c, zero], [zero, zero, one]]}[axis.lower()]
    return np.stack([np.stack(row, -1) for row in rows], -2)


def euler_product(axes: TypingSequence[str], degrees: np.ndarray) -> np.ndarray:
    """The product `R_{axes[0]}(θ_0) R_{axes[1]}(θ_1) ⋯` of axis rotations, in the order listed.

    BVH channels `Zrotation Yrotation Xrotation` are this product for axes "zyx". An ASF/AMC rotation whose
    first listed axis is applied first (`axis 0 0 20 XYZ`, `dof rx ry rz`: x, then y, then z about fixed
    axes) is the product over the reversed list.

    Args:
        axes: k axis letters.
        degrees: (..., k) angles in degrees, in the order of `axes`.
    Returns:
        (..., 3, 3) rotations (the identity for k = 0).
    """
    degrees = np.asarray(degrees, dtype=np.float64)
    result = np.broadcast_to(np.eye(3), degrees.shape[:-1] + (3, 3))
    for i, axis in enumerate(axes):
        result = result @ axis_rotation(axis, degrees[..., i])
    return result


def check_topological(parents: np.ndarray) -> None:
    """Raise ValueError unless joint 0 is the only root and every parent precedes its child."""
    parents = np.asarray(parents)
    if parents[0] != -1 or np.any(parents[1:] < 0) or np.any(parents[1:] >= np.arange(1, parents.size)):
        raise ValueError("joints must be in topological order: joint 0 the root (parent -1), parents[j] < j")


def global_rotations(parents: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Accumulate local rotations along the chains: `R_j = R_parent(j) L_j`, `R_0 = L_0`.

    Args:
        parents: (J,) parent index per joint, topological order.
        local: (F, J, 3, 3) local rotations.
    Returns:
        (F, J, 3, 3) global rotations.
    """
    check_topological(parents)
    result = np.empty_like(local)
    result[:, 0] = local[:, 0]
    for j in range(1, len(parents)):
        result[:, j] = result[:, parents[j]] @ local[:, j]
    return result


def chain_positions(parents: np.ndarray, root: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Positions from world-frame bone vectors: `p_0 = root + v_0`, `p_j = p_parent(j) + v_j`.

    Args:
        parents: (J,) parent index per joint, topological order.
        root: (F, 3) root positions.
        vectors: (F, J, 3) world-frame vectors from each joint's parent to the joint.
    Returns:
        (F, J, 3) positions.
    """
    check_topological(parents)
    positions = np.empty_like(vectors)
    positions[:, 0] = root + vectors[:, 0]
    for j in range(1, len(parents)):
        positions[:, j] = positions[:, parents[j]] + vectors[:, j]
    return positions


def bone_lengths(positions: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """(F, J-1) distances from each non-root joint to its parent."""
    return np.linalg.norm(positions[:, 1:] - positions[:, np.asarray(parents)[1:]], axis=-1)
