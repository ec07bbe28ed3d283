"""Classical NRSfM baselines (factorisation methods), importable as `nrsfm_bench.baselines`.

Modules here are imported by the method registry to list names; they use NumPy/SciPy only.
"""
