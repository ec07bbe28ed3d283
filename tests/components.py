"""Tiny methods and datasets registered for tests of the runner and the CLI (never shipped)."""
import numpy as np

from nrsfm_bench.datasets.base import Dataset
from nrsfm_bench.errors import InputError
from nrsfm_bench.method import Capabilities, Method, PerSequenceMethod, Reconstruction
from nrsfm_bench.registry import register_dataset, register_method
from nrsfm_bench.sequence import Sequence


def lifted(seq: Sequence, depth: float = 0.0) -> Reconstruction:
    """Shapes [W, depth] with the identity camera."""
    S = np.concatenate([seq.W, np.full(seq.W.shape[:2] + (1,), depth)], -1)
    return Reconstruction(S, np.broadcast_to(np.eye(3)[:2], (seq.F, 2, 3)).copy(), {"calls": 1})


@register_method("test_lift")
class Lift(PerSequenceMethod):
    """Test method: lifts W to depth `depth` (complete data only)."""

    capabilities = Capabilities()

    def __init__(self, *, depth: float = 0.0, fail: str = "", seed: int = 0):
        self.depth, self.fail, self.seed = depth, fail, seed

    def _solve(self, seq):
        if self.fail == "nan":
            return Reconstruction(np.full((seq.F, seq.P, 3), np.nan))
        if self.fail == "interrupt":
            raise KeyboardInterrupt
        return lifted(seq, self.depth)


@register_method("test_inductive")
class MeanDepth(Method):
    """Test inductive method: learns the mean |x| of the training frames and uses it as depth."""

    capabilities = Capabilities(inductive=True, missing_data=True)

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    def fit(self, seq):
        self.depth_ = float(np.abs(seq.W[..., 0]).mean())
        self.trained_frames_ = seq.F
        return self

    def reconstruct(self, seq):
        return lifted(seq, self.depth_)


@register_dataset("test_bad")
class BadData(Dataset):
    """Test dataset whose loader produces a non-finite observation."""

    builtin = True

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    def load(self, root=None):
        W = np.zeros((3, 5, 2))
        W[1, 2, 0] = np.inf
        return Sequence(W=W, name="test_bad")


@register_dataset("test_missing_file")
class MissingFile(Dataset):
    """Test dataset whose file is never there."""

    source = "nowhere (a test)"

    def __init__(self):
        pass

    def required_files(self, root):
        return [root / "never" / "there.mat"]

    def load(self, root=None):
        self.check_present(root)
        raise InputError("unreachable")
