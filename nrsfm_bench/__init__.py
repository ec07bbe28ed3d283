"""nrsfm-bench: Non-Rigid Structure-from-Motion methods, datasets and one evaluator behind one interface."""
from __future__ import annotations

import os as _os

# `methods/` and `baselines/` sit beside this folder and are mapped to `nrsfm_bench.methods` and
# `nrsfm_bench.baselines` by pyproject's package-dir. When the package is imported straight from a source
# checkout (not installed, or shadowed by the current directory), point the package path at the checkout so
# those two subpackages still resolve under the package's own namespace.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "methods")) and _os.path.isdir(
    _os.path.join(_checkout, "methods")
):
    __path__.append(_checkout)  # type: ignore[name-defined]

__version__ = "0.1.0"

from nrsfm_bench.errors import NrsfmError  # noqa: E402
from nrsfm_bench.sequence import Sequence  # noqa: E402

__all__ = ["NrsfmError", "Sequence", "__version__"]
