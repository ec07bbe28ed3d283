"""A procedurally animated stick figure (17 joints): the articulated synthetic body of the demo."""
from __future__ import annotations

import numpy as np

# (name, parent index, rest offset from the parent in metres, y up, figure facing +z)
JOINTS: tuple[tuple[str, int, tuple[float, float, float]], ...] = (
    ("pelvis", -1, (0.0, 0.0, 0.0)),
    ("spine", 0, (0.0, 0.22, 0.0)),
    ("chest", 1, (0.0, 0.25, 0.0)),
    ("neck", 2, (0.0, 0.20, 0.0)),
    ("head", 3, (0.0, 0.18, 0.02)),
    ("left_shoulder", 2, (0.19, 0.16, 0.0)),
    ("left_elbow", 5, (0.0, -0.29, 0.0)),
    ("left_wrist", 6, (0.0, -0.26, 0.0)),
    ("right_shoulder", 2, (-0.19, 0.16, 0.0)),
    ("right_elbow", 8, (0.0, -0.29, 0.0)),
    ("right_wrist", 9, (0.0, -0.26, 0.0)),
    ("left_hip", 0, (0.10, -0.06, 0.0)),
    ("left_knee", 11, (0.0, -0.43, 0.0)),
    ("left_ankle", 12, (0.0, -0.42, 0.0)),
    ("right_hip", 0, (-0.10, -0.06, 0.0)),
    ("right_knee", 14, (0.0, -0.43, 0.0)),
    ("right_ankle", 15, (0.0, -0.42, 0.0)),
)
NAMES = tuple(j[0] for j in JOINTS)
PARENTS = np.array([j[1] for j in JOINTS])
OFFSETS = np.array([j[2] for j in JOINTS])
EDGES = np.array([(i, p) for i, p in enumerate(PARENTS) if p >= 0])


def _rot(axis: str, angle: np.ndarray) -> np.ndarray:
    """(F, 3, 3) rotations about a coordinate axis by `angle` (F,)."""
    c, s, o, z = np.cos(angle), np.sin(angle), np.ones_like(angle), np.zeros_like(angle)
    rows = {"x": [[o, z, z], [z, c, -s], [z, s, c]],
            "y": [[c, z, s], [z, o, z], [-s, z, c]],
            "z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def joint_angles(frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Local joint rotations (F, 3, 3) of a walk whose stride, arm swing and a slow wave vary over time."""
    t = np.arange(frames) / 30.0  # 30 fps
    speed = 1.0 + 0.25 * np.sin(2 * np.pi * t / rng.uniform(6, 10) + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(speed) / 30.0 / rng.uniform(1.0, 1.3) + rng.uniform(0, 2 * np.pi)
    stride = 0.45 + 0.15 * np.sin(2 * np.pi * t / rng.uniform(5, 9))
    wave = np.clip(np.sin(2 * np.pi * t / rng.uniform(8, 12) + rng.uniform(0, 2 * np.pi)), 0, None)
    swing = np.sin(phase)
    knee = lambda p: 0.1 + 0.9 * np.clip(np.sin(p), 0, None)  # noqa: E731
    return {
        "spine": _rot("y", 0.12 * swing) @ _rot("x", 0.05 + 0.03 * np.cos(2 * phase)),
        "chest": _rot("y", -0.08 * swing),
        "neck": _rot("x", 0.1 * np.sin(2 * np.pi * t / 4)),
        "left_shoulder": _rot("x", -0.45 * stride / 0.45 * swing) @ _rot("z", 0.15 + 2.2 * wave),
        "left_elbow": _rot("x", -(0.35 + 0.25 * np.cos(phase)) - 1.2 * wave * (1 + np.sin(6 * t)) / 2),
        "right_shoulder": _rot("x", 0.45 * stride / 0.45 * swing) @ _rot("z", -0.15),
        "right_elbow": _rot("x", -(0.35 - 0.25 * np.cos(phase))),
        "left_hip": _rot("x", stride * swing),
        "left_knee": _rot("x", -knee(phase + 0.6 * np.pi)),
        "right_hip": _rot("x", -stride * swing),
        "right_knee": _rot("x", -knee(phase - 0.4 * np.pi)),
    }


def animate(frames: int, rng: np.random.Generator) -> np.ndarray:
    """Forward kinematics of the walking figure.

    Returns:
        (F, 17, 3) joint positions in metres, pelvis at the origin.
    """
    local = joint_angles(frames, rng)
    identity = np.broadcast_to(np.eye(3), (frames, 3, 3))
    rotation = [identity] * len(JOINTS)
    position = np.zeros((frames, len(JOINTS), 3))
    for j, (name, parent, _) in enumerate(JOINTS):
        if parent < 0:
            continue
        position[:, j] = position[:, parent] + rotation[parent] @ OFFSETS[j]
        rotation[j] = rotation[parent] @ local.get(name, identity)
    return position
