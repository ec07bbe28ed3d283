"""Default basis size K of the classical methods: the published K per sequence, else the dataset's, else a rule.

Order of choice (`choose_K`):
1. the K a method's paper used on that sequence (`PUBLISHED_K`, with its source);
2. the K the dataset itself carries in `meta["K"]` (Akhter et al.'s files store the K of their trajectory
   method) or `meta["rank_of_W"] // 3` (the built-in synthetic data);
3. the rule `K = min(DEFAULT_K, (min(2F, P) − 1) // 3)`: five basis shapes, the middle of the range the
   classical papers hand-pick (2 to 13), reduced when the measurement matrix cannot hold rank 3K.
"""
from __future__ import annotations

from nrsfm_bench.errors import MethodFailure
from nrsfm_bench.sequence import Sequence

DEFAULT_K = 5

#: method → sequence name → (K, source)
PUBLISHED_K: dict[str, dict[str, tuple[int, str]]] = {
    "bmm": {
        "classic/drink": (12, "Dai, Li & He, CVPR 2012 (block matrix method, hand-picked K)"),
        "classic/yoga": (10, "Dai, Li & He, CVPR 2012 (block matrix method, hand-picked K)"),
    },
}


def largest_K(seq: Sequence) -> int:
    """The largest K whose rank 3K fits the (2F × P) measurement matrix with its translation."""
    return (min(2 * seq.F, seq.P) - 1) // 3


def choose_K(method: str, seq: Sequence, K: int | None) -> tuple[int, str]:
    """The basis size to use and where it came from ("parameter", a citation, "dataset meta" or "rule").

    Raises:
        MethodFailure: when an explicit K does not fit the sequence.
    """
    limit = largest_K(seq)
    if K is not None:
        if not 1 <= K <= limit:
            raise MethodFailure(f"{method}: K={K} does not fit '{seq.name}' ({seq.F} frames x {seq.P} points "
                                f"allow 1 <= K <= {limit})")
        return K, "parameter"
    if seq.name in PUBLISHED_K.get(method, {}):
        published, source = PUBLISHED_K[method][seq.name]
        return min(published, limit), source
    meta = seq.meta or {}
    if meta.get("K"):
        return min(int(meta["K"]), limit), "dataset meta (K)"
    if meta.get("rank_of_W"):
        return max(1, min(int(meta["rank_of_W"]) // 3, limit)), "dataset meta (rank_of_W / 3)"
    return max(1, min(DEFAULT_K, limit)), "rule"
