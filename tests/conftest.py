"""Shared fixtures. Real-data tests use `data_root`: they skip locally when the data is absent, and fail in CI
(where `CI` is set and `.ci/run` points NRSFM_BENCH_DATA at ../shared/data)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nrsfm_bench.data_root import ENV_VAR


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real-data root; required in CI, optional on a developer's machine."""
    root = os.environ.get(ENV_VAR)
    if root and Path(root).is_dir():
        return Path(root)
    message = f"real data not found: set {ENV_VAR} to the data root (e.g. ../shared/data)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty results store for one test."""
    return tmp_path / "store"
