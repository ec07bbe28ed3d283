"""TWO CLOTHS (Taylor, Jepson, Kutulakos, CVPR 2010): listed, but not loadable — its file layout is not public.

PR-RRN shows this real sequence qualitatively (525-point mesh, 163 frames, 2D only). No copy of the data and
no public description of its file format could be found (see docs/datasets.md), so no reader is guessed at:
the dataset is always reported missing. To run on a copy you hold, convert its 2D tracks to the user-file
schema (docs/datasets.md) and pass the file: `nrsfm-bench run --dataset two_cloths.npz ...`.
"""
from __future__ import annotations

from pathlib import Path

from nrsfm_bench.datasets.base import Dataset, DatasetStatus
from nrsfm_bench.errors import DataNotFoundError
from nrsfm_bench.registry import register_dataset
from nrsfm_bench.sequence import Sequence

SOURCE = ("Taylor, Jepson, Kutulakos, 'Non-Rigid Structure from Locally-Rigid Motion', CVPR 2010 (data from the "
          "authors, University of Toronto; no public file layout known)")
MISSING = "two_cloths: no reader (the published file layout could not be confirmed); convert to a user file"


@register_dataset("two_cloths")
class TwoCloths(Dataset):
    """TWO CLOTHS (2D only, 525 points x 163 frames): not available; convert your copy to a user file (.npz)."""

    source = SOURCE
    layout = "not defined: no public description of the files; use the user-file schema instead"
    has_ground_truth = False

    def status(self, root: Path) -> DatasetStatus:
        return DatasetStatus(False, root, (MISSING,))

    def check_present(self, root: Path) -> None:
        raise DataNotFoundError(
            "dataset 'two_cloths' has no reader: its file layout is not public, so nrsfm-bench cannot read the "
            f"original files; get the data from {SOURCE}, convert the 2D tracks to the user-file schema "
            "(docs/datasets.md) and run with --dataset path/to/two_cloths.npz")

    def load(self, root: Path | None) -> Sequence:
        self.check_present(root)
        raise AssertionError("unreachable")
