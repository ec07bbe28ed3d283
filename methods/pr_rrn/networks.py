"""PR-RRN's networks: the residual-recursive shape autoencoder F (and its Vanilla twin) and the rotation net G.

Shapes (B frames, P points): input `W (B, P, 2)`; F gives `S (B, P, 3)` and the representation `h (B, 8)`;
G gives `M (B, 2, 3)` with orthonormal rows. Every choice the paper leaves open is listed in docs/pr_rrn.md.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nrsfm_bench.geometry import camera_from_6d
from nrsfm_bench.methods.pr_rrn.profiles import BIAS_INITS, RESIDUALS

ACTIVATIONS = {
    "relu": nn.functional.relu,
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.2),
    "elu": nn.functional.elu,
    "tanh": torch.tanh,
}
ENCODER_CHANNELS = (128, 64, 32, 16, 8)
WIDTH = 2  # the x and y columns of W, carried through F as the width of a (channels × width) feature


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> nn.Parameter:
    """U(−1/√fan_in, 1/√fan_in) drawn from `generator` (PyTorch's Linear default for weights and biases)."""
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter((torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1) * bound)


class _Init:
    """Draws the parameters of one network: weights uniform, biases zero (default) or uniform."""

    def __init__(self, bias_init: str, generator: torch.Generator | None):
        if bias_init not in BIAS_INITS:
            raise ValueError(f"bias_init must be one of {', '.join(BIAS_INITS)}, got {bias_init!r}")
        self.bias_init = bias_init
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)

    def weight(self, fan_out: int, fan_in: int) -> nn.Parameter:
        return _uniform((fan_out, fan_in), fan_in, self.generator)

    def bias(self, size: int, fan_in: int) -> nn.Parameter:
        """Zero biases (the default) let the narrow layers learn far faster; see docs/pr_rrn.md."""
        if self.bias_init == "zero":
            return nn.Parameter(torch.zeros(size))
        return _uniform((size,), fan_in, self.generator)


def _conv1x1(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A 1×1 convolution over the width, features stored width-first: `weight (C_out, C_in)`,
    `x (B, 2, C_in)` → `(B, 2, C_out)` (one matrix product for both columns)."""
    return nn.functional.linear(x, weight, bias)


class ShapeNetwork(nn.Module):
    """F: `W (B, P, 2)` → `S (B, P, 3)` and `h (B, code_dim)`, an autoencoder of residual-recursive modules.

    The input is read as P channels × width 2 (the x and y columns), and every layer up to the middle one is a
    1×1 convolution: the same weights act on both columns. Encoder: an input layer P → channels[0], then for
    each C in `channels` an RR module (the C → C recursive layer applied `recursions` times with a residual
    connection, sharing its weights across the steps, then a C → C/2 channel-halving layer). The last module
    leaves (2 × channels[-1]/2) values, flattened (x column first) into the middle layer, a fully-connected
    layer that mixes the two columns and gives `h`. Decoder: the transposed middle layer, then the inverse RR
    modules in reverse order (transposed halving layer C/2 → C, then the transposed recursive layer applied
    `recursions` times with the same residual), all weights tied to the encoder's, biases separate; finally
    the shape layer, fully connected from (channels[0] × 2) to 3P.

    `recursive=False` gives the Vanilla network of the paper's Table 3: the same layers, each applied once,
    without the residual connection (hence exactly the same parameters).
    """

    def __init__(self, points: int, *, channels: tuple[int, ...] = ENCODER_CHANNELS, code_dim: int = 8,
                 recursions: int = 3, residual: str = "step", activation: str = "elu",
                 recursive: bool = True, bias_init: str = "zero", generator: torch.Generator | None = None):
        super().__init__()
        if residual not in RESIDUALS:
            raise ValueError(f"residual must be one of {', '.join(RESIDUALS)}, got {residual!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if recursions < 1:
            raise ValueError(f"recursions must be ≥ 1, got {recursions}")
        if any(c % 2 for c in channels):
            raise ValueError(f"channels must be even to be halved, got {channels}")
        init = _Init(bias_init, generator)
        self.points, self.channels, self.code_dim = points, tuple(channels), code_dim
        self.recursions, self.residual, self.recursive = recursions, residual, recursive
        self.activation = activation
        self.act = ACTIVATIONS[activation]

        first, bottleneck = channels[0], channels[-1] // 2 * WIDTH
        self.input_weight = init.weight(first, points)
        self.input_bias = init.bias(first, points)
        self.recursive_weights = nn.ParameterList([init.weight(c, c) for c in channels])
        self.recursive_biases = nn.ParameterList([init.bias(c, c) for c in channels])
        self.halving_weights = nn.ParameterList([init.weight(c // 2, c) for c in channels])
        self.halving_biases = nn.ParameterList([init.bias(c // 2, c) for c in channels])
        self.middle_weight = init.weight(code_dim, bottleneck)
        self.middle_bias = init.bias(code_dim, bottleneck)
        # decoder: tied weights (transposes of the above), separate biases
        self.middle_bias_dec = init.bias(bottleneck, code_dim)
        self.halving_biases_dec = nn.ParameterList([init.bias(c, c // 2) for c in channels])
        self.recursive_biases_dec = nn.ParameterList([init.bias(c, c) for c in channels])
        self.shape_weight = init.weight(3 * points, first * WIDTH)
        self.shape_bias = init.bias(3 * points, first * WIDTH)

    def _recur(self, weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The recursive layer of one RR module: (B, 2, C) → (B, 2, C)."""
        if not self.recursive:
            return self.act(_conv1x1(weight, bias, x))
        y = x
        for _ in range(self.recursions):
            y = self.act(_conv1x1(weight, bias, y)) + (y if self.residual == "step" else x)
        return y

    def encode(self, W: torch.Tensor) -> torch.Tensor:
        """`W (B, P, 2)` → `h (B, code_dim)`."""
        x = self.act(_conv1x1(self.input_weight, self.input_bias, W.transpose(1, 2)))  # (B, 2, C0)
        for k in range(len(self.channels)):
            x = self._recur(self.recursive_weights[k], self.recursive_biases[k], x)
            x = self.act(_conv1x1(self.halving_weights[k], self.halving_biases[k], x))
        return x.flatten(1) @ self.middle_weight.T + self.middle_bias           # (B, code_dim)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """`h (B, code_dim)` → `S (B, P, 3)`."""
        x = self.act(h @ self.middle_weight + self.middle_bias_dec)
        x = x.reshape(h.shape[0], WIDTH, self.channels[-1] // 2)
        for k in reversed(range(len(self.channels))):
            x = self.act(_conv1x1(self.halving_weights[k].T, self.halving_biases_dec[k], x))
            x = self._recur(self.recursive_weights[k].T, self.recursive_biases_dec[k], x)
        S = x.flatten(1) @ self.shape_weight.T + self.shape_bias
        return S.reshape(h.shape[0], self.points, 3)

    def forward(self, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`W (B, P, 2)` → (`S (B, P, 3)` centred over all points, `h (B, code_dim)`)."""
        h = self.encode(W)
        S = self.decode(h)
        return S - S.mean(1, keepdim=True), h


class RotationNetwork(nn.Module):
    """G: `W (B, P, 2)` → `M (B, 2, 3)`: linear layers 2P → 128 → 32 → 8 → 6, then `camera_from_6d`."""

    def __init__(self, points: int, *, sizes: tuple[int, ...] = (128, 32, 8), activation: str = "elu",
                 bias_init: str = "zero", generator: torch.Generator | None = None):
        super().__init__()
        init = _Init(bias_init, generator)
        dims = (WIDTH * points, *sizes, 6)
        self.weights = nn.ParameterList([init.weight(o, i) for i, o in zip(dims[:-1], dims[1:])])
        self.biases = nn.ParameterList([init.bias(o, i) for i, o in zip(dims[:-1], dims[1:])])
        self.act = ACTIVATIONS[activation]

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        x = W.flatten(1)                                                        # (B, 2P), point-major
        for k, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            x = x @ weight.T + bias
            if k < len(self.weights) - 1:
                x = self.act(x)
        return camera_from_6d(x)


def parameter_count(module: nn.Module) -> int:
    """Number of trainable scalars (tied weights counted once)."""
    return sum(p.numel() for p in module.parameters())
