"""PR-RRN's training profiles (`paper`, `quick`) and the resolved configuration of one training run (torch-free)."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

#: Sec. 5.1 of the paper, plus the choices it leaves open (batch size, decay period; see docs/pr_rrn.md).
PROFILES: dict[str, dict[str, Any]] = {
    "paper": dict(epochs=700, batch_size=64, lr=1e-3, lr_decay=0.95, lr_decay_every=10, lambda_contrast=0.1,
                  lambda_consist=0.2, tau=0.02, xi=0.04, memory_size=1024, alternate_every=100),
    # The default: the README's first command in about half a minute on a CPU. Same losses, weights and
    # thresholds; 100 epochs of batches of 32, phases of 10 epochs, decay every 5 epochs, a bank of 256.
    "quick": dict(epochs=100, batch_size=32, lr=1e-3, lr_decay=0.95, lr_decay_every=5, lambda_contrast=0.1,
                  lambda_consist=0.2, tau=0.02, xi=0.04, memory_size=256, alternate_every=10),
}
PROFILE_KEYS = tuple(PROFILES["paper"])
CONSISTENCY_MODES = ("permute", "random_rotation")
ACTIVATION_NAMES = ("elu", "leaky_relu", "relu", "tanh")
RESIDUALS = ("step", "input")
BIAS_INITS = ("zero", "uniform")
NORMALIZATIONS = ("frame", "rms", "none")


def default_recursions(dataset_name: str) -> int:
    """The paper's recursion count T: 2 for PASCAL3D+, 3 for CMU MOCAP (and, by our choice, everything else)."""
    return 2 if dataset_name.split("/")[0].startswith("pascal3d") else 3


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting of one PR-RRN training run, resolved from the profile, the overrides and the variant.

    Attributes (beyond the profile keys, see PROFILES):
        contrast, consist: which pairwise losses the variant uses (both: alternated every `alternate_every`
            epochs, the contrastive loss first; one: always on; none: reprojection only).
        recursive: residual-recursive modules (False: the Vanilla network).
        recursions: T; residual: "step" or "input"; activation: name in networks.ACTIVATIONS;
        bias_init: "zero" or "uniform".
        consistency: "permute" (the batch's cameras permuted, eq. 16) or "random_rotation" (the paper's variant).
        consistency_detach: the consistency targets (estimated shapes, new cameras) carry no gradient.
        temperature: divides the contrastive logits (1 in the paper).
        normalize: the input scale rule, "frame", "rms" or "none" (see training.input_scale).
        seed: drives initialisation, shuffling, permutations and random rotations.
        restarts: candidate initialisations trained for `screen_epochs`; the one with the lowest training loss in
            its last screening epoch is trained on to `epochs` (1: a single run, as in the paper).
        restart_epochs: the screening length; None: two phases (`2 · alternate_every`), so that a candidate is
            judged after one contrastive and one consistency phase.
    """

    epochs: int
    batch_size: int
    lr: float
    lr_decay: float
    lr_decay_every: int
    lambda_contrast: float
    lambda_consist: float
    tau: float
    xi: float
    memory_size: int
    alternate_every: int
    contrast: bool
    consist: bool
    recursive: bool
    recursions: int
    residual: str
    activation: str
    bias_init: str
    consistency: str
    consistency_detach: bool
    temperature: float
    normalize: str
    seed: int
    restarts: int = 1
    restart_epochs: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 0, "epochs must be ≥ 0"),
            (self.batch_size >= 2, "batch_size must be ≥ 2"),
            (self.lr > 0, "lr must be > 0"),
            (0 < self.lr_decay <= 1, "lr_decay must be in (0, 1]"),
            (self.lr_decay_every >= 1, "lr_decay_every must be ≥ 1"),
            (self.lambda_contrast >= 0 and self.lambda_consist >= 0, "lambda_* must be ≥ 0"),
            (0 <= self.tau <= self.xi <= 0.25, "need 0 ≤ tau ≤ xi ≤ 0.25 (msr lies in [0, 0.25])"),
            (self.memory_size >= 0, "memory_size must be ≥ 0"),
            (self.alternate_every >= 1, "alternate_every must be ≥ 1"),
            (self.recursions >= 1, "recursions must be ≥ 1"),
            (self.consistency in CONSISTENCY_MODES, f"consistency must be one of {', '.join(CONSISTENCY_MODES)}"),
            (self.activation in ACTIVATION_NAMES, f"activation must be one of {', '.join(ACTIVATION_NAMES)}"),
            (self.residual in RESIDUALS, f"residual must be one of {', '.join(RESIDUALS)}"),
            (self.bias_init in BIAS_INITS, f"bias_init must be one of {', '.join(BIAS_INITS)}"),
            (self.normalize in NORMALIZATIONS, f"normalize must be one of {', '.join(NORMALIZATIONS)}"),
            (self.temperature > 0, "temperature must be > 0"),
            (self.restarts >= 1, "restarts must be ≥ 1"),
            (self.restart_epochs is None or self.restart_epochs >= 1, "restart_epochs must be ≥ 1 or None"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def active_losses(self, epoch: int) -> tuple[bool, bool]:
        """(contrast on, consist on) in `epoch` (0-based): alternated when the variant uses both."""
        if self.contrast and self.consist:
            contrast_phase = (epoch // self.alternate_every) % 2 == 0
            return contrast_phase, not contrast_phase
        return self.contrast, self.consist

    def lr_at(self, epoch: int) -> float:
        """The learning rate of `epoch`: `lr · lr_decay^(epoch // lr_decay_every)`."""
        return self.lr * self.lr_decay ** (epoch // self.lr_decay_every)

    @property
    def screen_epochs(self) -> int:
        """Epochs every candidate trains before one is chosen (0 with a single candidate)."""
        if self.restarts == 1:
            return 0
        wanted = self.restart_epochs if self.restart_epochs is not None else 2 * self.alternate_every
        return min(wanted, self.epochs)

    def candidate_seed(self, candidate: int) -> int:
        """The seed of restart candidate `candidate`: `seed` itself for the first, derived ones after it."""
        if candidate == 0:
            return self.seed
        return int(np.random.SeedSequence([self.seed, candidate]).generate_state(1)[0])

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve(profile: str, overrides: Mapping[str, Any], variant: Mapping[str, Any]) -> TrainConfig:
    """The profile's values, replaced by every override that is not None, plus the variant's flags."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    values = {**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}, **variant}
    return TrainConfig(**values)
