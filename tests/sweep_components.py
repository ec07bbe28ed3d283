"""A slow test method for sweep tests, importable by sweep workers (`--import sweep_components`, tests/ on the path)."""
import time

from components import lifted
from nrsfm_bench.method import Capabilities, PerSequenceMethod
from nrsfm_bench.registry import register_method


@register_method("test_sleep")
class Sleep(PerSequenceMethod):
    """Test method: waits `seconds`, then lifts W to depth 0; fails on purpose for seeds listed in `fail_seeds`."""

    capabilities = Capabilities(missing_data=True)

    def __init__(self, *, seconds: float = 0.0, fail_seeds: tuple = (), seed: int = 0):
        self.seconds, self.fail_seeds, self.seed = seconds, fail_seeds, seed

    def _solve(self, seq):
        time.sleep(self.seconds)
        if self.seed in self.fail_seeds:
            raise RuntimeError(f"deliberate failure for seed {self.seed}")
        return lifted(seq)
