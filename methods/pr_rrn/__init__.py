"""PR-RRN (Zeng et al., ICCV 2021) and its ablations, registered as methods (torch is imported only to train).

One implementation with flags: `pr_rrn` (both pairwise losses, alternated), `rrn` (reprojection only),
`rrn_contrast`, `rrn_consist` (one pairwise loss, always on) and `vanilla_rrn` (plain layers, same parameters).
"""
from __future__ import annotations

from typing import ClassVar

from nrsfm_bench.config import config_hash
from nrsfm_bench.errors import InputError
from nrsfm_bench.method import Capabilities, Method, Reconstruction, fingerprint
from nrsfm_bench.methods.pr_rrn.profiles import PROFILES, default_recursions, resolve
from nrsfm_bench.registry import register_method
from nrsfm_bench.sequence import Sequence


@register_method("pr_rrn")
class PRRRN(Method):
    """PR-RRN: residual-recursive networks with the rigidity contrastive and pairwise consistency losses."""

    capabilities = Capabilities(inductive=True, missing_data=True)
    test_parameters = {"epochs": 4, "batch_size": 32, "memory_size": 64, "alternate_every": 2}
    #: the variant: which pairwise losses are used, and residual-recursive (True) or plain (False) layers
    variant: ClassVar[dict] = {"contrast": True, "consist": True, "recursive": True}

    def __init__(self, *, profile: str = "quick", epochs: int | None = None, batch_size: int | None = None,
                 lr: float | None = None, lr_decay: float | None = None, lr_decay_every: int | None = None,
                 lambda_contrast: float | None = None, lambda_consist: float | None = None,
                 tau: float | None = None, xi: float | None = None, memory_size: int | None = None,
                 alternate_every: int | None = None, recursions: int | None = None, residual: str = "step",
                 activation: str = "elu", bias_init: str = "zero", consistency: str = "random_rotation",
                 consistency_detach: bool = False, temperature: float = 1.0, normalize: str = "frame",
                 restarts: int = 1, restart_epochs: int | None = None, threads: int | None = 1, seed: int = 0):
        """
        Args:
            profile: "quick" (default: seconds on a CPU) or "paper" (Sec. 5.1: 700 epochs, N_mem 1024, ...);
                every other argument left as None takes the profile's value (see profiles.PROFILES).
            epochs, batch_size, lr: training length, frames per step, Adam's learning rate.
            lr_decay, lr_decay_every: the learning rate is multiplied by `lr_decay` every `lr_decay_every`
                epochs.
            lambda_contrast, lambda_consist: λ₁ and λ₂ of eq. 18.
            tau, xi: msr thresholds of positives (< tau) and negatives (> xi), eq. 10–11.
            memory_size: N_mem, the memory bank's length.
            alternate_every: epochs per phase when both pairwise losses alternate (contrastive first).
            recursions: T of the RR modules; None: 2 on PASCAL3D+, 3 elsewhere (the paper's choice).
            residual: "step" (`y ← y + act(R y + b)` at each recursion) or "input" (`y ← x + act(R y + b)`).
            activation: "elu" (default), "leaky_relu" (slope 0.2), "relu" or "tanh".
            bias_init: "zero" (default) or "uniform" (PyTorch's default, U(±1/√fan_in)).
            consistency: "permute" (the batch's cameras permuted, eq. 16) or "random_rotation".
            consistency_detach: the estimated shapes and new cameras are fixed targets of the consistency loss,
                which then trains the networks to recover them (True); False lets gradients reach them too.
            temperature: divides the contrastive logits (the paper uses 1).
            normalize: divide the 2D input by a scale of the training frames, multiplied back into the shapes:
                "frame" (a typical frame has ‖W_i‖_F = 1), "rms" (coordinates of RMS 1) or "none".
            restarts: initialisations to screen (1, the default, trains one network as the paper does). Each
                candidate trains `restart_epochs` epochs (None: one contrastive and one consistency phase) and
                the one with the lowest training loss then trains to the end; ground truth is never used.
                Costs (restarts − 1) · restart_epochs extra epochs. See docs/pr_rrn.md (measured there).
            restart_epochs: the screening length in epochs (None: 2 · alternate_every).
            threads: torch CPU threads while training and predicting (1 by default: the layers are too small
                to gain from more, and threads contend badly on shared cores); None leaves torch's setting.
            seed: drives initialisation, shuffling and every random choice of training.
        """
        self.profile, self.epochs, self.batch_size, self.lr = profile, epochs, batch_size, lr
        self.lr_decay, self.lr_decay_every = lr_decay, lr_decay_every
        self.lambda_contrast, self.lambda_consist, self.tau, self.xi = lambda_contrast, lambda_consist, tau, xi
        self.memory_size, self.alternate_every, self.recursions = memory_size, alternate_every, recursions
        self.residual, self.activation, self.bias_init = residual, activation, bias_init
        self.consistency, self.consistency_detach = consistency, consistency_detach
        self.temperature, self.normalize, self.threads, self.seed = temperature, normalize, threads, seed
        self.restarts, self.restart_epochs = restarts, restart_epochs
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        self.config_for("unnamed")  # validate every value now, not after loading data

    def config_for(self, dataset_name: str):
        """The resolved TrainConfig for a dataset (T depends on it when `recursions` is None)."""
        overrides = {k: getattr(self, k) for k in (*PROFILES[self.profile], "residual", "activation", "bias_init",
                                                    "consistency", "consistency_detach", "temperature", "normalize",
                                                    "restarts", "restart_epochs", "seed")}
        if self.recursions is None:
            overrides["recursions"] = default_recursions(dataset_name)
        else:
            overrides["recursions"] = self.recursions
        return resolve(self.profile, overrides, self.variant)

    def fit(self, seq: Sequence) -> "PRRRN":
        from nrsfm_bench.methods.pr_rrn.training import cpu_threads, train

        config = self.config_for(seq.name)
        run_key = config_hash({"config": config.to_dict(), "data": fingerprint(seq)})
        with cpu_threads(self.threads):
            self.model_ = train(config, seq.W, seq.visible, context=self.context, fingerprint=run_key)
        self.config_ = config.to_dict()
        self.history_ = self.model_.history
        self.points_ = seq.P
        return self

    def reconstruct(self, seq: Sequence) -> Reconstruction:
        from nrsfm_bench.methods.pr_rrn.training import cpu_threads, predict

        if not hasattr(self, "model_"):
            raise InputError(f"{self.registry_name}: reconstruct() needs a trained model; call fit() first")
        if seq.P != self.points_:
            raise InputError(f"sequence '{seq.name}' has P = {seq.P} points; {self.registry_name} was trained "
                             f"on P = {self.points_}")
        with cpu_threads(self.threads):
            S, M = predict(self.model_, seq.W, seq.visible, device=self.context.device)
        info = {"config": self.config_, "history": self.history_, **self.model_.info}
        return Reconstruction(S=S, M=M, info=info)


@register_method("rrn")
class RRN(PRRRN):
    """RRN: PR-RRN's networks trained with the reprojection loss only (ablation, Table 4)."""

    variant = {"contrast": False, "consist": False, "recursive": True}


@register_method("rrn_contrast")
class RRNContrast(PRRRN):
    """RRN-Contrast: reprojection plus the rigidity contrastive loss (ablation, Table 4)."""

    variant = {"contrast": True, "consist": False, "recursive": True}


@register_method("rrn_consist")
class RRNConsist(PRRRN):
    """RRN-Consist: reprojection plus the pairwise consistency loss (ablation, Table 4)."""

    variant = {"contrast": False, "consist": True, "recursive": True}


@register_method("vanilla_rrn")
class VanillaRRN(PRRRN):
    """Vanilla RRN: plain layers with RRN's exact parameter count, reprojection loss only (Table 3)."""

    variant = {"contrast": False, "consist": False, "recursive": False}


__all__ = ["PRRRN", "RRN", "RRNConsist", "RRNContrast", "VanillaRRN"]
