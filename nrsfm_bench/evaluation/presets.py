"""Named e3D conventions (presets): each fixes every alignment and error choice, and is recorded with results."""
from __future__ import annotations

import dataclasses
import difflib
from typing import Literal

from nrsfm_bench.errors import UnknownNameError

ErrorKind = Literal["relative_frobenius", "mean_distance_over_std"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """An e3D convention.

    Attributes:
        name: the preset's name, stored with every result.
        summary: one line for listings.
        scope, reflection, scale, center, rotation_fit, depth_flip: alignment options (see `procrustes.align`).
        camera_scale: before alignment, multiply each predicted shape by the largest singular value of the
            method's camera for that frame (Deep NRSfM moves the camera's scale into the shape).
        camera_frame: compare shapes in each frame's camera coordinates: the ground truth rotated by the full
            rotation of its camera `M_gt` (third row m₁ × m₂), the prediction by that of the method's camera
            (inputs without cameras are taken as already in the camera frame). x and y then equal the 2D
            observations up to noise, and the comparison measures depth.
        error: "relative_frobenius" gives `e_i = ‖X_i − G_i‖ / ‖G_i‖`; "mean_distance_over_std" gives the
            mean Euclidean point distance in units of `s`, the mean per-row standard deviation of G (Akhter).
    """

    name: str
    summary: str
    scope: str = "frame"
    reflection: bool = True
    scale: str = "norm_ratio"
    center: str = "none"
    rotation_fit: str = "orthogonal"
    depth_flip: bool = False
    camera_scale: bool = False
    camera_frame: bool = False
    error: ErrorKind = "relative_frobenius"

    def alignment_options(self) -> dict:
        return dict(scope=self.scope, reflection=self.reflection, scale=self.scale, center=self.center,
                    rotation_fit=self.rotation_fit, depth_flip=self.depth_flip)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="dnrsfm",
            summary="Deep NRSfM's released evaluation (PR-RRN's tables): per frame, reflection allowed, "
                    "norm-ratio scale, no centring",
            scope="frame", reflection=True, scale="norm_ratio", center="none", camera_scale=True,
            error="relative_frobenius",
        ),
        Preset(
            name="camera_zflip",
            summary="C3DPO / CNS / PRN style: camera frame, per-frame centring, no rotation or scale, "
                    "best of depth and negated depth",
            scope="none", reflection=False, scale="none", center="both", depth_flip=True, camera_frame=True,
            error="relative_frobenius",
        ),
        Preset(
            name="akhter",
            summary="Akhter et al.'s compareStructs (Dai et al. 2012 and classical papers): one rotation per "
                    "sequence, ground truth centred, mean point distance over the mean coordinate std",
            scope="sequence", reflection=True, scale="none", center="ground_truth",
            rotation_fit="lstsq_project", error="mean_distance_over_std",
        ),
    )
}

DEFAULT_PRESET = "dnrsfm"


def get_preset(name: str | Preset) -> Preset:
    """The preset of that name (a Preset passes through, for custom conventions from Python)."""
    if isinstance(name, Preset):
        return name
    if name not in PRESETS:
        close = difflib.get_close_matches(name, PRESETS, n=2, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"valid presets: {', '.join(PRESETS)}"
        raise UnknownNameError(f"unknown preset '{name}'; {hint}")
    return PRESETS[name]
