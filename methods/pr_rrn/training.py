"""PR-RRN's training loop: shuffled batches, the alternating pairwise losses, the memory bank, checkpoints."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from nrsfm_bench.errors import InputError
from nrsfm_bench.geometry import cameras_from_rotations, center_masked, random_rotations
from nrsfm_bench.method import RunContext
from nrsfm_bench.methods.pr_rrn import checkpoint
from nrsfm_bench.methods.pr_rrn.losses import consistency_loss, contrastive_loss, reprojection_loss
from nrsfm_bench.methods.pr_rrn.memory_bank import MemoryBank
from nrsfm_bench.methods.pr_rrn.networks import RotationNetwork, ShapeNetwork, parameter_count
from nrsfm_bench.methods.pr_rrn.profiles import TrainConfig
from nrsfm_bench.methods.pr_rrn.rigidity import msr, rigidity_table

#: up to this many training frames, the contrastive labels of all pairs are computed once (F² bytes);
#: beyond it, the msr of each batch against the memory bank is computed at every step
MSR_TABLE_MAX_FRAMES = 8192
#: a checkpoint is written at the first epoch boundary at least this many seconds after the previous one
#: (and always after the last epoch)
CHECKPOINT_SECONDS = 10.0


@dataclasses.dataclass
class TrainedModel:
    """The outcome of `train`.

    Attributes:
        shape_net, rotation_net: the trained networks (on the CPU, eval mode).
        scale: the 2D input is divided by it before the networks; their shapes are multiplied by it.
        history: one JSON-able dict per epoch (losses, learning rate, seconds).
        info: JSON-able facts of the run (device, parameter counts, resumed_from, epochs_run).
    """

    shape_net: ShapeNetwork
    rotation_net: RotationNetwork
    scale: float
    history: list[dict]
    info: dict


def resolve_device(name: str) -> torch.device:
    """"auto" → CUDA when available, else CPU; "cpu"/"cuda" as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was asked for but torch sees no CUDA device")
    return torch.device(name)


def build_networks(config: TrainConfig, points: int) -> tuple[ShapeNetwork, RotationNetwork]:
    """Both networks, initialised from `config.seed` alone (independent of torch's global RNG)."""
    generator = torch.Generator().manual_seed(config.seed)
    shape_net = ShapeNetwork(points, recursions=config.recursions, residual=config.residual,
                             activation=config.activation, recursive=config.recursive,
                             bias_init=config.bias_init, generator=generator)
    rotation_net = RotationNetwork(points, activation=config.activation, bias_init=config.bias_init,
                                   generator=generator)
    return shape_net, rotation_net


@contextlib.contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """Run the block with torch limited to `count` CPU threads (None: leave torch's setting alone)."""
    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def input_scale(W: np.ndarray, visible: np.ndarray, mode: str = "frame") -> float:
    """The number the 2D input is divided by (1 when every centred visible coordinate is 0).

    Args:
        W: (F, P, 2); visible: (F, P) bool.
        mode: "frame": the RMS over frames of the per-frame Frobenius norm of the centred visible points, so
            that a typical frame has ‖W_i‖_F = 1; "rms": the RMS of the coordinates (‖W_i‖_F ≈ √(2P));
            "none": 1.
    """
    if mode == "none":
        return 1.0
    centred = center_masked(W, visible)
    if mode == "frame":
        value = float(np.sqrt(np.mean((centred ** 2).sum(axis=(1, 2)))))
    else:
        values = centred[visible]
        value = float(np.sqrt(np.mean(values ** 2))) if values.size else 0.0
    return value if value > 0 else 1.0


@dataclasses.dataclass
class _TrainingData:
    """The training frames, prepared once on the device and shared by every restart candidate.

    Attributes:
        scale: the input scale (see `input_scale`).
        W: (F, P, 2) float32, centred over visible points and divided by `scale`; visible: (F, P) float32.
        complete: every point is visible in every frame.
        table: (F, F) int8 contrastive labels of all pairs (1 positive, -1 negative, 0 neither), or None.
    """

    scale: float
    W: torch.Tensor
    visible: torch.Tensor
    complete: bool
    table: torch.Tensor | None

    @classmethod
    def prepare(cls, config: TrainConfig, W: np.ndarray, visible: np.ndarray,
                device: torch.device) -> "_TrainingData":
        scale = input_scale(W, visible, config.normalize)
        centred = center_masked(np.asarray(W, np.float64), visible) / scale
        W_t = torch.as_tensor(centred, dtype=torch.float32, device=device)
        visible_t = torch.tensor(np.asarray(visible), dtype=torch.float32, device=device)
        complete = bool(np.all(visible))
        table = None
        if config.contrast and W_t.shape[0] <= MSR_TABLE_MAX_FRAMES:
            table = rigidity_table(W_t, None if complete else visible_t, config.tau, config.xi)
        return cls(scale, W_t, visible_t, complete, table)


class _Trainer:
    """State of one training run (one restart candidate): networks, optimiser, memory bank, generator, history.

    `config.seed` is this candidate's seed; `fingerprint` identifies the whole run (configuration and data).
    """

    def __init__(self, config: TrainConfig, data: _TrainingData, device: torch.device, fingerprint: str,
                 candidate: int = 0):
        self.config, self.data, self.device, self.fingerprint = config, data, device, fingerprint
        self.candidate = candidate
        self.shape_net, self.rotation_net = build_networks(config, data.W.shape[1])
        self.shape_net.to(device)
        self.rotation_net.to(device)
        # fused: one kernel updates every parameter (the default per-parameter loop was ~10-20% of a step)
        self.optimizer = torch.optim.Adam([*self.shape_net.parameters(), *self.rotation_net.parameters()],
                                          lr=config.lr, fused=True)
        self.bank = MemoryBank(config.memory_size, self.shape_net.code_dim, device)
        self.rng = np.random.default_rng(config.seed)
        self.history: list[dict] = []
        self.screening: list[dict] = []   # one entry per restart candidate, filled by `_choose_candidate`
        self.epochs_done = 0
        self.resumed_from: int | None = None
        self.checkpoint_path: Path | None = None

    # ------------------------------------------------------------------------------------------ checkpoints
    def _state(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "epoch": self.epochs_done,
            "candidate": self.candidate,
            "screening": json.dumps(self.screening),
            "shape_net": {k: v.cpu() for k, v in self.shape_net.state_dict().items()},
            "rotation_net": {k: v.cpu() for k, v in self.rotation_net.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "bank": self.bank.state_dict(),
            "rng": json.dumps(self.rng.bit_generator.state),
            "torch_rng": torch.get_rng_state(),
            "history": json.dumps(self.history),
            "scale": self.data.scale,
        }

    def restore(self, path: Path) -> None:
        """Continue from the checkpoint at `path` (refused when it belongs to another configuration or data)."""
        state = checkpoint.load(path)
        if state.get("fingerprint") != self.fingerprint:
            raise InputError(f"{path}: checkpoint of another configuration or other data; "
                             "remove it or run without --resume")
        self.shape_net.load_state_dict(state["shape_net"])
        self.rotation_net.load_state_dict(state["rotation_net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.bank.load_state_dict(state["bank"])
        self.rng.bit_generator.state = json.loads(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        self.history = json.loads(state["history"])
        self.candidate = int(state.get("candidate", 0))
        self.screening = json.loads(state.get("screening", "[]"))
        self.epochs_done = self.resumed_from = int(state["epoch"])
        self.checkpoint_path = path

    def save(self) -> None:
        if self.checkpoint_path is not None:
            checkpoint.save(self.checkpoint_path, self._state())

    # ------------------------------------------------------------------------------------------ one step
    def _networks(self, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.shape_net(W)[0], self.rotation_net(W)

    def _contrast(self, index: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The contrastive loss of batch frames `index (B,)` with unit representations `h (B, d)` against the
        batch itself and the memory bank."""
        data = self.data
        bank_h, bank_index = self.bank.filled()
        keys = torch.cat([h, bank_h])
        key_index = torch.cat([index, bank_index])
        if data.table is not None:
            label = data.table[index][:, key_index]
            positive, negative = label == 1, label == -1
        else:
            va, vb = (None, None) if data.complete else (data.visible[index], data.visible[key_index])
            ratio, defined = msr(data.W[index], data.W[key_index], va, vb)
            positive = defined & (ratio < self.config.tau)
            negative = defined & (ratio > self.config.xi)
        other = index[:, None] != key_index[None, :]
        positive, negative = positive & other, negative & other
        return contrastive_loss(h, keys, positive, negative, self.config.temperature)

    def _new_cameras(self, M: torch.Tensor) -> torch.Tensor:
        """(B, 2, 3) cameras to re-view the batch's shapes with: a permutation of `M`, or random rotations."""
        if self.config.consistency == "permute":
            return M[torch.as_tensor(self.rng.permutation(M.shape[0]), device=M.device)]
        R = cameras_from_rotations(random_rotations(M.shape[0], self.rng))
        return torch.as_tensor(R, dtype=M.dtype, device=M.device)

    def _step(self, index: torch.Tensor, contrast_on: bool, consist_on: bool) -> dict:
        W, visible = self.data.W[index], self.data.visible[index]
        S, h = self.shape_net(W)
        M = self.rotation_net(W)
        h = torch.nn.functional.normalize(h, dim=1)
        terms = {"reproj": reprojection_loss(W, visible, S, M)}
        total = terms["reproj"]
        rows = 0
        if contrast_on:
            terms["contrast"], rows = self._contrast(index, h)
            total = total + self.config.lambda_contrast * terms["contrast"]
        if consist_on:
            terms["consist"] = consistency_loss(S, M, visible, self._new_cameras(M), self._networks,
                                                detach=self.config.consistency_detach)
            total = total + self.config.lambda_consist * terms["consist"]
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.bank.push(h, index)
        return {**{k: float(v.detach()) for k, v in terms.items()}, "total": float(total.detach()), "rows": rows}

    # ------------------------------------------------------------------------------------------ the loop
    def _epoch(self, epoch: int) -> dict:
        config = self.config
        lr = config.lr_at(epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        contrast_on, consist_on = config.active_losses(epoch)
        order = torch.as_tensor(self.rng.permutation(self.data.W.shape[0]), device=self.device)
        sums: dict[str, float] = {}
        started = time.perf_counter()
        for start in range(0, order.shape[0], config.batch_size):
            index = order[start:start + config.batch_size]
            for key, value in self._step(index, contrast_on, consist_on).items():
                weight = 1 if key == "rows" else index.shape[0]
                sums[key] = sums.get(key, 0.0) + value * weight
        frames = order.shape[0]
        record = {"epoch": epoch + 1, "lr": lr, "seconds": round(time.perf_counter() - started, 4)}
        record.update({k: v / frames for k, v in sums.items() if k != "rows"})
        if contrast_on:
            record["contrast_frames"] = sums["rows"] / frames  # share of frames with a positive and a negative
        return record

    def train_until(self, epochs: int, bar, on_epoch_end: Callable[[int], None] | None = None) -> None:
        """Train from `epochs_done` to `epochs`, checkpointing every CHECKPOINT_SECONDS and after the last epoch
        of the run (when this trainer has a checkpoint path)."""
        self.shape_net.train()
        self.rotation_net.train()
        last_save = time.monotonic()
        for epoch in range(self.epochs_done, epochs):
            record = self._epoch(epoch)
            self.history.append(record)
            self.epochs_done = epoch + 1
            bar.update(1)
            bar.set_postfix({k: f"{record[k]:.4g}" for k in ("reproj", "contrast", "consist") if k in record})
            if self.epochs_done == self.config.epochs or time.monotonic() - last_save >= CHECKPOINT_SECONDS:
                self.save()
                last_save = time.monotonic()
            if on_epoch_end is not None:
                on_epoch_end(self.epochs_done)

    def result(self) -> TrainedModel:
        # the dropped candidates' screening epochs were trained in this process unless it resumed after them
        screened_by_others = 0 if self.resumed_from is not None else (
            (self.config.restarts - 1) * self.config.screen_epochs)
        self.shape_net.to("cpu").eval()
        self.rotation_net.to("cpu").eval()
        info = {
            "device": self.device.type,
            "parameters": {"shape_network": parameter_count(self.shape_net),
                           "rotation_network": parameter_count(self.rotation_net)},
            "epochs_run": self.config.epochs - (self.resumed_from or 0) + screened_by_others,
            "resumed_from_epoch": self.resumed_from,
            "input_scale": self.data.scale,
        }
        if self.screening:
            info["restarts"] = {"chosen": self.candidate, "candidates": self.screening}
        return TrainedModel(self.shape_net, self.rotation_net, self.data.scale, self.history, info)


def _choose_candidate(config: TrainConfig, data: _TrainingData, device: torch.device, fingerprint: str, bar,
                      on_epoch_end: Callable[[int], None] | None) -> _Trainer:
    """Train `config.restarts` candidates for `config.screen_epochs` epochs each and keep the one whose training
    loss (the weighted total the optimiser minimises) was lowest in its last screening epoch; the others are
    dropped. With one candidate, return it untrained."""
    if config.restarts == 1:
        return _Trainer(config, data, device, fingerprint)
    best, screening = None, []
    for candidate in range(config.restarts):
        trainer = _Trainer(dataclasses.replace(config, seed=config.candidate_seed(candidate)), data, device,
                           fingerprint, candidate)
        trainer.train_until(config.screen_epochs, bar, on_epoch_end)
        loss = trainer.history[-1]["total"] if trainer.history else 0.0
        screening.append({"candidate": candidate, "seed": trainer.config.seed, "loss": loss})
        if best is None or loss < screening[best.candidate]["loss"]:
            best = trainer
    best.screening = screening
    return best


def train(config: TrainConfig, W: np.ndarray, visible: np.ndarray, *, context: RunContext = RunContext(),
          fingerprint: str = "", on_epoch_end: Callable[[int], None] | None = None) -> TrainedModel:
    """Train PR-RRN (or a variant, per `config`) on F frames.

    With `config.restarts` > 1, that many initialisations are screened first (`_choose_candidate`). A checkpoint
    is written once a candidate is chosen and then as training goes on; an interrupted screening starts over.

    Args:
        config: the resolved configuration.
        W: (F, P, 2) observations (centred here over visible points); visible: (F, P) bool.
        context: device, progress bar, checkpoint folder and whether to resume from it.
        fingerprint: identifies configuration and data; a checkpoint with another one is not resumed.
        on_epoch_end: called with a trainer's number of finished epochs after each of its epochs (tests use it to
            interrupt).
    Returns:
        The trained networks and the training history (of the chosen candidate, screening included).
    """
    from tqdm.auto import tqdm

    device = resolve_device(context.device)
    data = _TrainingData.prepare(config, W, visible, device)
    path = Path(context.workdir) / checkpoint.FILENAME if context.workdir is not None else None
    screening_epochs = (config.restarts - 1) * config.screen_epochs
    bar = tqdm(total=config.epochs + screening_epochs, unit="epoch", file=sys.stderr,
               disable=not context.progress, desc=f"pr_rrn ({device.type})", leave=False)
    try:
        if path is not None and context.resume and path.exists():
            trainer = _Trainer(config, data, device, fingerprint)
            trainer.restore(path)
            bar.update(screening_epochs + trainer.epochs_done)
        else:
            trainer = _choose_candidate(config, data, device, fingerprint, bar, on_epoch_end)
            trainer.checkpoint_path = path
            if trainer.epochs_done:
                trainer.save()
        trainer.train_until(config.epochs, bar, on_epoch_end)
    finally:
        bar.close()
    return trainer.result()


@torch.no_grad()
def predict(model: TrainedModel, W: np.ndarray, visible: np.ndarray, chunk: int = 4096,
            device: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Run the trained networks on any frames.

    Args:
        W: (F, P, 2); visible: (F, P) bool.
    Returns:
        S: (F, P, 3) float64 shapes in the units of W; M: (F, 2, 3) float64 cameras.
    """
    target = resolve_device(device)
    shape_net, rotation_net = model.shape_net.to(target), model.rotation_net.to(target)
    Wc = center_masked(np.asarray(W, np.float64), visible) / model.scale
    S_parts, M_parts = [], []
    for start in range(0, Wc.shape[0], chunk):
        batch = torch.as_tensor(Wc[start:start + chunk], dtype=torch.float32, device=target)
        S_parts.append(shape_net(batch)[0].double().cpu().numpy())
        M_parts.append(rotation_net(batch).double().cpu().numpy())
    shape_net.to("cpu")
    rotation_net.to("cpu")
    return np.concatenate(S_parts) * model.scale, np.concatenate(M_parts)
