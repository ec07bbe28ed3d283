"""Provenance stamped on every run record: date, git commit, package versions, machine."""
from __future__ import annotations

import datetime
import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("nrsfm-bench", "numpy", "scipy", "torch", "pandas")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)  # reads metadata only: never imports torch
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def git_state() -> dict:
    """Commit and dirty flag of the checkout the package runs from (None outside a git checkout)."""
    source = Path(__file__).resolve().parent
    try:
        run = lambda *args: subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True,  # noqa: E731
                                           timeout=10, check=True).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


@functools.lru_cache(maxsize=1)
def machine() -> dict:
    memory_gb = None
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"hostname": platform.node(), "platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "memory_gb": memory_gb, "python": platform.python_version()}


def provenance() -> dict:
    """Everything needed to tell where and with what a result was produced."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git_state(),
        "versions": {p: _version(p) for p in PACKAGES},
        "machine": machine(),
    }
