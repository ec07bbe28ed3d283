"""Where real data is looked for: `--data-dir`, else `$NRSFM_BENCH_DATA`, else a per-user default folder."""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NRSFM_BENCH_DATA"


def default_data_root() -> Path:
    """The per-user default: `$XDG_DATA_HOME/nrsfm-bench` (usually `~/.local/share/nrsfm-bench`)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "nrsfm-bench"


def resolve_data_root(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The data root and where that choice came from ("--data-dir", "$NRSFM_BENCH_DATA" or "default")."""
    if explicit:
        return Path(explicit).expanduser(), "--data-dir"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    return default_data_root(), "default"
