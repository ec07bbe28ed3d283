"""Deep NRSfM methods (PR-RRN and its ablations), importable as `nrsfm_bench.methods`.

Modules and subpackage `__init__`s here are imported by the method registry to list names: they must not
import torch at module level (keep it inside functions and submodules that only training imports).
"""
