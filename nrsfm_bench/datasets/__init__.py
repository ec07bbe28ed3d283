"""Dataset loaders, one module per dataset family, each registered by name in `nrsfm_bench.registry`.

Modules here must not import torch at module level: the registry imports all of them to list names.
"""
