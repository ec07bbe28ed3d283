"""The eight classic NRSfM sequences for the baseline scripts: the registered `classic/NAME` dataset when it is
available, else (until the datasets branch lands) a direct read of the original files under the data root."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from nrsfm_bench.data_root import resolve_data_root
from nrsfm_bench.errors import UnknownNameError
from nrsfm_bench.sequence import Sequence

AKHTER = ("drink", "pickup", "stretch", "yoga", "dance")
TORRESANI = {"face": "face", "walking": "walking", "shark": "jaws"}
NAMES = AKHTER + tuple(TORRESANI)


def load(name: str, root: str | Path | None = None) -> Sequence:
    """`classic/<name>` as a Sequence with ground truth."""
    from nrsfm_bench.registry import DATASETS

    root, _ = resolve_data_root(root)
    try:
        entry, params = DATASETS.resolve(f"classic/{name}")
    except UnknownNameError:
        return _read_original(name, root)
    return entry.cls(**params).load(root)


def _read_original(name: str, root: Path) -> Sequence:
    """Akhter files: W (2F×P), S (3F×P); Torresani files: P3_gt (3F×P), observed through its x, y rows."""
    folder = root / "classic_nrsfm"
    if name in AKHTER:
        file = folder / "akhter2011" / ("dance_falta_list.mat" if name == "dance" else f"{name}.mat")
        data = scipy.io.loadmat(file)
        S = data["S"].reshape(-1, 3, data["S"].shape[1]).transpose(0, 2, 1)
        W = data["W"].reshape(-1, 2, data["W"].shape[1]).transpose(0, 2, 1)
        meta = {"K": int(np.ravel(data["K"])[0])} if "K" in data else {}
    else:
        data = scipy.io.loadmat(folder / "torresani2008" / f"{TORRESANI[name]}.mat")
        S = data["P3_gt"].reshape(-1, 3, data["P3_gt"].shape[1]).transpose(0, 2, 1)
        W, meta = S[..., :2], {}
    centre = S.mean(axis=1, keepdims=True)
    return Sequence(W=W - W.mean(axis=1, keepdims=True), S_gt=S - centre, name=f"classic/{name}", ordered=True,
                    meta=meta)
