"""Training checkpoints: written atomically at epoch boundaries, read without executing pickled code.

A checkpoint holds tensors, numbers and strings only (RNG and history as JSON text), so `torch.load(...,
weights_only=True)` reads it; any other content is refused.
"""
from __future__ import annotations

from pathlib import Path

import torch

from nrsfm_bench.errors import InputError
from nrsfm_bench.store import atomic_path

FORMAT = 1
FILENAME = "pr_rrn-checkpoint.pt"


def save(path: Path, state: dict) -> None:
    """Write `state` to `path` through a temporary file and one `os.replace` (never a half-written file)."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load(path: Path) -> dict:
    """The checkpoint at `path`, loaded on the CPU with `weights_only=True`.

    Raises:
        InputError: naming the file, when it is unreadable, not a checkpoint of this format, or holds code.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad files
        raise InputError(f"{path}: not a readable PR-RRN checkpoint ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"{path}: not a PR-RRN checkpoint of format {FORMAT}")
    return state
