"""The contrastive loss's memory bank: a queue of the last N_mem representations and their frame indices.

The bank keeps each entry's index into the training frames rather than a copy of its 2D data: the msr of a
batch against the bank reads `W` and `visible` of those frames from the training tensors, which are in memory
anyway. The bank costs N_mem × (d + 1) numbers whatever the number of points P.
"""
from __future__ import annotations

import torch


class MemoryBank:
    """A FIFO queue of `size` (representation, frame index) entries.

    Attributes:
        h: (size, d) stored representations (unit norm, detached); rows of empty slots are 0.
        index: (size,) long frame indices, −1 for empty slots.
        pointer: the slot the next entry is written to.
    """

    def __init__(self, size: int, dim: int, device: torch.device | str = "cpu"):
        if size < 0:
            raise ValueError(f"memory size must be ≥ 0, got {size}")
        self.h = torch.zeros(size, dim, device=device)
        self.index = torch.full((size,), -1, dtype=torch.long, device=device)
        self.pointer = 0

    @property
    def size(self) -> int:
        return self.index.shape[0]

    def filled(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The occupied entries: (h (n, d), index (n,))."""
        keep = self.index >= 0
        return self.h[keep], self.index[keep]

    def push(self, h: torch.Tensor, index: torch.Tensor) -> None:
        """Enqueue `h (B, d)` with frame indices `index (B,)`, replacing the oldest entries."""
        if self.size == 0:
            return
        h, index = h.detach()[-self.size:], index[-self.size:]
        slots = (self.pointer + torch.arange(index.shape[0], device=self.index.device)) % self.size
        self.h[slots] = h.to(self.h.dtype)
        self.index[slots] = index.to(self.index.device)
        self.pointer = int((self.pointer + index.shape[0]) % self.size)

    def state_dict(self) -> dict:
        return {"h": self.h.cpu(), "index": self.index.cpu(), "pointer": self.pointer}

    def load_state_dict(self, state: dict) -> None:
        if tuple(state["h"].shape) != tuple(self.h.shape):
            raise ValueError(f"memory bank of shape {tuple(state['h'].shape)} does not fit {tuple(self.h.shape)}")
        self.h = state["h"].to(self.h.device)
        self.index = state["index"].to(self.index.device)
        self.pointer = int(state["pointer"])
