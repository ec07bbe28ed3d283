"""2D tracks in, 3D out: fit a method on the user's file and write shapes, cameras and reprojection errors."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from nrsfm_bench import __version__
from nrsfm_bench.datasets.user_files import UserFile
from nrsfm_bench.errors import UsageError
from nrsfm_bench.evaluation import evaluate, reprojection_errors
from nrsfm_bench.method import RunContext
from nrsfm_bench.runner import build_method
from nrsfm_bench.store import atomic_path


def reconstruct_file(method: str, input_path: str | Path, output_path: str | Path, *,
                     method_params: Mapping[str, Any] | None = None, seed: int = 0, device: str = "auto",
                     progress: bool = False) -> dict:
    """Fit `method` on all frames of a user file and write the reconstruction to an .npz file.

    The output holds `S (F, P, 3)`, `M (F, 2, 3)` (when the method gives cameras), `reprojection_error (F,)`
    (`‖W_i − M_i S_i‖ / ‖W_i‖` over visible points, both sides centred), `W (F, P, 2)` and `visible (F, P)` as
    read (centred per frame), and `info`, a JSON string with the method, its parameters, the input's sha256
    and the package version. It is written through a temporary file and renamed: never half-written.

    Returns:
        A summary: frames, points, mean reprojection error, e3D (dnrsfm) when the file has `S_gt`, seconds.
    """
    output_path = Path(output_path)
    if output_path.suffix != ".npz":
        raise UsageError(f"--output {output_path} must end in .npz")
    dataset = UserFile(path=str(input_path))
    seq = dataset.load()
    model, spec = build_method(method, method_params or {}, seed)
    skip, reason = model.skip(seq.observations())
    if skip:
        raise UsageError(f"method '{method}' cannot reconstruct {input_path}: {reason}")
    model.context = RunContext(progress=progress, device=device)
    start = time.perf_counter()
    result = model.fit(seq.observations()).reconstruct(seq.observations()).check(seq, method)
    seconds = time.perf_counter() - start
    arrays = {"S": result.S, "W": seq.W, "visible": seq.visible}
    summary: dict[str, Any] = {"frames": seq.F, "points": seq.P, "seconds": round(seconds, 3),
                               "reprojection": None, "e3d_dnrsfm": None, "output": str(output_path)}
    if result.M is not None:
        arrays["M"] = result.M
        arrays["reprojection_error"] = reprojection_errors(result.S, result.M, seq.W, seq.visible)
        summary["reprojection"] = float(arrays["reprojection_error"].mean())
    if seq.S_gt is not None:
        summary["e3d_dnrsfm"] = evaluate(result.S, seq.S_gt, seq.visible, M_pred=result.M).e3d
    info = {"method": spec, "input": str(input_path), "input_sha256": dataset.sha256(),
            "nrsfm_bench": __version__, "method_info": result.info}
    arrays["info"] = np.array(json.dumps(info, default=str))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return summary
