"""The dataset API: parameters in `__init__`, `load(root)` returns a validated `Sequence`."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from nrsfm_bench.config import Configurable
from nrsfm_bench.errors import DataNotFoundError
from nrsfm_bench.sequence import Sequence


@dataclasses.dataclass(frozen=True)
class DatasetStatus:
    """Whether a dataset's files are present under a data root.

    Attributes:
        found: every required file is present (always True for built-in data).
        where: the folder looked in (None for built-in data).
        missing: required files that are absent, relative to the data root.
    """

    found: bool
    where: Path | None
    missing: tuple[str, ...] = ()


class Dataset(Configurable):
    """Base class of every dataset.

    Class attributes document the data: `source` (who published it and where to download it), `layout`
    (the files expected under the data root, mirroring the official download), `has_ground_truth`.
    """

    source: ClassVar[str] = "built in"
    layout: ClassVar[str] = ""
    builtin: ClassVar[bool] = False
    has_ground_truth: ClassVar[bool] = True

    def required_files(self, root: Path) -> list[Path]:
        """The files `load` reads (absolute); empty for built-in data."""
        return []

    def status(self, root: Path) -> DatasetStatus:
        if self.builtin:
            return DatasetStatus(True, None)
        missing = tuple(str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
                        for p in self.required_files(root) if not p.exists())
        return DatasetStatus(not missing, root, missing)

    def check_present(self, root: Path) -> None:
        """Raise DataNotFoundError naming the missing files and where to get them."""
        status = self.status(root)
        if not status.found:
            first = status.missing[0]
            more = f" (and {len(status.missing) - 1} more)" if len(status.missing) > 1 else ""
            raise DataNotFoundError(
                f"dataset '{self.registry_name}' needs {first}{more} under {root}; "
                f"get it from {self.source} (layout: docs/datasets.md)")

    def load(self, root: Path | None) -> Sequence:
        """The dataset as one Sequence (frame-first arrays, ground truth when the dataset has it)."""
        raise NotImplementedError
