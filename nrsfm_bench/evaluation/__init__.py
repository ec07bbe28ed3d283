"""The one evaluator: Procrustes alignment under named presets, and the metrics reported with every run."""
from nrsfm_bench.evaluation.metrics import (Alignment, Evaluation, align_to_ground_truth, evaluate, evaluate_presets,
                                            reprojection_errors)
from nrsfm_bench.evaluation.presets import DEFAULT_PRESET, PRESETS, Preset, get_preset
from nrsfm_bench.evaluation.procrustes import align

__all__ = ["DEFAULT_PRESET", "PRESETS", "Alignment", "Evaluation", "Preset", "align", "align_to_ground_truth",
           "evaluate", "evaluate_presets", "get_preset", "reprojection_errors"]
