"""Biovision BVH files (HIERARCHY + MOTION) and their forward kinematics to joint and end-site positions.

Conventions (column vectors): a node's local rotation is the product of its rotation channels in the order
listed (`Zrotation Yrotation Xrotation` → `R_z R_y R_x`); its global rotation is `R = R_parent L`; its position
is `p = p_parent + R_parent (OFFSET + position channels)`. The root's position is `OFFSET + position channels`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nrsfm_bench.datasets.file_cache import cached, freeze
from nrsfm_bench.datasets.skeleton import chain_positions, euler_product, global_rotations
from nrsfm_bench.errors import DataFormatError, DataNotFoundError

CHANNELS = {"xposition": ("t", 0), "yposition": ("t", 1), "zposition": ("t", 2),
            "xrotation": ("r", "x"), "yrotation": ("r", "y"), "zrotation": ("r", "z")}


@dataclasses.dataclass(frozen=True)
class Bvh:
    """A parsed BVH file. Nodes are joints and end sites in file (depth-first) order, the root first.

    Attributes:
        path: the file.
        names: (N,) node names; an end site is named "<its joint>_end".
        parents: (N,) parent index (-1 for the root).
        offsets: (N, 3) OFFSET of each node in its parent's frame.
        channels: per node, its channel names (lower case) in file order; empty for end sites.
        is_end_site: (N,) True for end sites.
        frame_time: seconds per frame.
        motion: (F, C) channel values, one row per frame, channels in node order.
        first_frame_is_tpose: the first frame has every rotation written as an integer without a decimal
            point while the second frame does not: the signature of the T-pose that the cgspeed conversion of
            CMU MOCAP adds as frame 1.
    """

    path: Path
    names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    is_end_site: np.ndarray
    frame_time: float
    motion: np.ndarray
    first_frame_is_tpose: bool

    @property
    def frames(self) -> int:
        return self.motion.shape[0]

    def index(self, name: str) -> int:
        return self.names.index(name)


class _Tokens:
    """Whitespace tokens of the HIERARCHY section with their line numbers."""

    def __init__(self, path: Path, lines: list[str]):
        self.path = path
        self.items = [(token, n) for n, line in enumerate(lines, 1) for token in line.split()]
        self.i = 0

    def peek(self) -> str | None:
        return self.items[self.i][0] if self.i < len(self.items) else None

    def next(self, what: str) -> tuple[str, int]:
        if self.i >= len(self.items):
            raise DataFormatError(self.path, f"file ends inside HIERARCHY while reading {what}; the file is "
                                             "truncated")
        self.i += 1
        return self.items[self.i - 1]

    def expect(self, word: str) -> int:
        token, line = self.next(repr(word))
        if token.lower() != word.lower():
            raise DataFormatError(self.path, f"line {line}: found {token!r}; expected {word!r}")
        return line

    def numbers(self, count: int, what: str) -> list[float]:
        values = []
        for _ in range(count):
            token, line = self.next(what)
            try:
                values.append(float(token))
            except ValueError:
                raise DataFormatError(self.path, f"line {line}: {what} has {token!r}; expected a number") from None
        return values


@cached
def parse_bvh(path: Path) -> Bvh:
    """Read a BVH file.

    Raises:
        DataFormatError: naming the file, the line and the problem (unbalanced braces, unknown channels, a
            frame line with the wrong number of values, a Frames header that disagrees with the data, ...).
    """
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    lines = path.read_text(errors="replace").splitlines()
    motion_at = next((n for n, line in enumerate(lines) if line.strip().upper() == "MOTION"), None)
    if not lines or lines[0].strip().upper() != "HIERARCHY":
        raise DataFormatError(path, "does not start with HIERARCHY; expected a BVH file")
    if motion_at is None:
        raise DataFormatError(path, "has no MOTION section; the file is truncated or not a BVH file")
    tokens = _Tokens(path, lines[:motion_at])
    tokens.expect("HIERARCHY")
    tokens.expect("ROOT")
    nodes: list[dict] = []
    _read_node(tokens, nodes, parent=-1, end_site=False)
    if tokens.peek() is not None:
        token, line = tokens.next("the end of HIERARCHY")
        raise DataFormatError(path, f"line {line}: unexpected {token!r} after the root joint's closing brace")
    n_channels = sum(len(node["channels"]) for node in nodes)
    motion, frame_time, tpose = _read_motion(path, lines, motion_at, n_channels, nodes)
    return freeze(Bvh(path, tuple(n["name"] for n in nodes), np.array([n["parent"] for n in nodes]),
                      np.array([n["offset"] for n in nodes]), tuple(tuple(n["channels"]) for n in nodes),
                      np.array([n["end"] for n in nodes]), frame_time, motion, tpose))


def _read_node(tokens: _Tokens, nodes: list[dict], parent: int, end_site: bool) -> None:
    path = tokens.path
    if end_site:
        tokens.expect("Site")
        name = f"{nodes[parent]['name']}_end"
    else:
        name, _ = tokens.next("a joint name")
    index = len(nodes)
    node = {"name": name, "parent": parent, "end": end_site, "channels": [], "offset": [0.0, 0.0, 0.0]}
    nodes.append(node)
    tokens.expect("{")
    tokens.expect("OFFSET")
    node["offset"] = tokens.numbers(3, f"OFFSET of '{name}'")
    if end_site:
        tokens.expect("}")
        return
    line = tokens.expect("CHANNELS")
    count = tokens.numbers(1, f"CHANNELS of '{name}'")[0]
    if count != int(count) or not 0 <= count <= 6:
        raise DataFormatError(path, f"line {line}: joint '{name}' declares {count} channels; expected 0 to 6")
    for _ in range(int(count)):
        channel, line = tokens.next(f"the channels of '{name}'")
        if channel.lower() not in CHANNELS:
            raise DataFormatError(path, f"line {line}: joint '{name}' has channel {channel!r}; expected "
                                        "X/Y/Z position or X/Y/Z rotation")
        node["channels"].append(channel.lower())
    while True:
        token, line = tokens.next(f"the children of '{name}'")
        keyword = token.upper()
        if keyword == "}":
            return
        if keyword == "JOINT":
            _read_node(tokens, nodes, index, end_site=False)
        elif keyword == "END":
            _read_node(tokens, nodes, index, end_site=True)
        else:
            raise DataFormatError(path, f"line {line}: found {token!r} in joint '{name}'; expected JOINT, "
                                        "End Site or '}'")


def _read_motion(path: Path, lines: list[str], motion_at: int, n_channels: int,
                 nodes: list[dict]) -> tuple[np.ndarray, float, bool]:
    header = [(n, line.strip()) for n, line in enumerate(lines[motion_at + 1:motion_at + 3], motion_at + 2)]
    if len(header) < 2 or not header[0][1].lower().startswith("frames:") or \
            not header[1][1].lower().startswith("frame time:"):
        raise DataFormatError(path, f"line {motion_at + 2}: expected 'Frames: N' and 'Frame Time: T' after MOTION")
    try:
        declared = int(header[0][1].split(":", 1)[1])
        frame_time = float(header[1][1].split(":", 1)[1])
    except ValueError:
        raise DataFormatError(path, f"line {header[0][0]}: malformed 'Frames:' or 'Frame Time:' value") from None
    first_data = motion_at + 4
    rows = [(n, line.split()) for n, line in enumerate(lines[motion_at + 3:], first_data) if line.strip()]
    for n, values in rows:
        if len(values) != n_channels:
            frame = n - first_data + 1
            raise DataFormatError(path, f"line {n}: frame {frame} has {len(values)} values; expected {n_channels} "
                                        "(one per channel)")
    if len(rows) != declared:
        state = "truncated: " if len(rows) < declared else ""
        raise DataFormatError(path, f"{state}the header declares {declared} frames but {len(rows)} frame lines "
                                    "follow")
    if not rows:
        raise DataFormatError(path, "has no frames; expected at least one line of channel values")
    try:
        motion = np.array([values for _, values in rows], dtype=np.float64)
    except ValueError:
        bad = next(n for n, values in rows if not _all_numbers(values))
        raise DataFormatError(path, f"line {bad}: non-numeric channel value") from None
    if not np.isfinite(motion).all():
        raise DataFormatError(path, "has non-finite channel values")
    rotation_columns = [i for i, c in enumerate(c for node in nodes for c in node["channels"])
                        if CHANNELS[c][0] == "r"]
    integral = lambda values: all("." not in values[i] and "e" not in values[i].lower()  # noqa: E731
                                  for i in rotation_columns)
    tpose = len(rows) > 1 and integral(rows[0][1]) and not integral(rows[1][1])
    return motion, frame_time, tpose


def _all_numbers(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
        return True
    except ValueError:
        return False


def positions(bvh: Bvh, frames: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Forward kinematics of every node (joints and end sites).

    Args:
        bvh: the parsed file.
        frames: which frames of `bvh.motion` to pose.
    Returns:
        (F, N, 3) positions in file units, nodes in `bvh.names` order.
    """
    motion = bvh.motion[frames]
    F, N = motion.shape[0], len(bvh.names)
    local = np.broadcast_to(np.eye(3), (F, N, 3, 3)).copy()
    translations = np.broadcast_to(bvh.offsets, (F, N, 3)).copy()
    column = 0
    for j, channels in enumerate(bvh.channels):
        kinds = [CHANNELS[c] for c in channels]
        values = motion[:, column:column + len(channels)]
        column += len(channels)
        for k, (kind, axis) in enumerate(kinds):
            if kind == "t":
                translations[:, j, axis] += values[:, k]
        rotations = [k for k, (kind, _) in enumerate(kinds) if kind == "r"]
        if rotations:
            local[:, j] = euler_product([kinds[k][1] for k in rotations], values[:, rotations])
    rotations = global_rotations(bvh.parents, local)
    vectors = translations.copy()
    vectors[:, 1:] = np.einsum("fjab,fjb->fja", rotations[:, bvh.parents[1:]], translations[:, 1:])
    return chain_positions(bvh.parents, np.zeros((F, 3)), vectors)
