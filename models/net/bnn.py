"""BinaryNet-style fully connected BNN in PyTorch and its export to integer thresholds
(the training loop: models.net.training).

Binary weights sign(w) (+1 for 0), binary activations with a straight-through estimator
(hard-tanh gradient), latent weights clipped to [-1, 1], batch-norm after each hidden layer,
Adam. The first layer sees raw 8-bit pixels (0..255), so its dot products are integers; its
batch-norm absorbs the scale. The output layer's integer dot products are the class scores
(a learned positive scalar scales them for the loss only, so argmax is unchanged).
"""
import math

import numpy as np
import torch
from torch import nn

from ..errors import BnnMramError
from . import stochastic
from .binary import BinaryLinear, exported_bits, exported_levels, sign
from .netfile import Layer, Net, dot_peak

BINARIZE_THRESHOLD = 128  # binarized-input option: pixel >= 128 is +1


def parse_arch(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in str(text).split("-")]
    except ValueError:
        raise BnnMramError(f"architecture {text!r} must look like 784-256-256-10") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise BnnMramError(f"architecture {text!r} needs at least an input and an output size, all positive")
    return sizes


class BinaryNet(nn.Module):
    """What the MLP and the conv BNN (models.net.cnn) share: the error-aware training switch,
    the input pixels, latent-weight clipping and prediction. `fcs`: the weighted layers."""

    @property
    def train_ber(self) -> float:
        """Error-aware training: flip each binary weight with this probability per minibatch."""
        return self.fcs[0].train_ber

    @train_ber.setter
    def train_ber(self, ber: float):
        for fc in self.fcs:
            fc.train_ber = float(ber)

    def set_input(self, binarize_input: bool = False, sc_samples: int = 0, sc_seed: int = 0):
        """The first layer's input: 8-bit pixels, binarized pixels, or N = sc_samples stochastic
        samples per pixel (models.net.stochastic; fresh samples every training minibatch, the
        seeded ones in evaluation and export)."""
        if binarize_input and sc_samples:
            raise BnnMramError("choose binarized or stochastic (sc) input, not both")
        self.binarize_input = bool(binarize_input)
        self.sc_samples = stochastic.check_samples(sc_samples) if sc_samples else 0
        self.sc_seed = int(sc_seed)
        if not 0 <= self.sc_seed <= 0xFFFFFFFF:
            raise BnnMramError(f"sc seed must be in [0, 2**32 - 1], not {sc_seed}")

    @property
    def input_kind(self) -> str:
        return "sc" if self.sc_samples else "binarized" if self.binarize_input else "pixel"

    def input_values(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels as the first layer's float inputs (0..255, +-1 when binarized, the
        sample counts' 2c - N for sc inputs)."""
        if self.sc_samples:
            if self.training:
                return stochastic.random_values(pixels, self.sc_samples)
            v = stochastic.values(pixels.numpy(), self.sc_seed, self.sc_samples)
            return torch.from_numpy(v).to(torch.float32)
        x = pixels.to(torch.float32)
        if self.binarize_input:
            x = torch.where(x >= BINARIZE_THRESHOLD, 1.0, -1.0)
        return x

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, batch: int = 2000) -> np.ndarray:
        self.eval()
        return torch.cat([self(pixels[s:s + batch]).argmax(1) for s in range(0, len(pixels), batch)]).numpy()

    def clip_(self):
        for fc in self.fcs:
            fc.clip_()

    @property
    def bayesian(self) -> bool:
        """Bayesian binary weights (models.net.binary): a Bernoulli posterior per weight."""
        return self.fcs[0].bayesian

    def make_bayesian(self, init: float = 1.0):
        """Switch every weighted layer to Bayesian weights (models.net.binary), latent weights
        drawn uniform in [-init, init] (logits up to init * THETA_MAX: a nearly deterministic
        random net to start from)."""
        for fc in self.fcs:
            fc.bayesian = True
            nn.init.uniform_(fc.weight, -init, init)

    def kl(self) -> torch.Tensor:
        """The ELBO's KL term of every Bayesian weight (nats)."""
        return sum(fc.kl() for fc in self.fcs)


class BNN(BinaryNet):
    def __init__(self, arch: list[int], binarize_input: bool = False, sc_samples: int = 0, sc_seed: int = 0):
        super().__init__()
        self.arch = list(arch)
        self.set_input(binarize_input, sc_samples, sc_seed)
        self.fcs = nn.ModuleList(BinaryLinear(a, b) for a, b in zip(arch[:-1], arch[1:]))
        for fc in self.fcs:
            nn.init.uniform_(fc.weight, -1, 1)
            fc.weight.data.mul_(0.1)
        self.bns = nn.ModuleList(nn.BatchNorm1d(n) for n in arch[1:-1])
        self.log_scale = nn.Parameter(torch.tensor(-0.5 * math.log(arch[-2])))

    def prepare_input(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.input_values(pixels)

    def bn_eval(self, i: int, a: torch.Tensor) -> torch.Tensor:
        """Inference batch-norm, float32, in the one order the threshold export reproduces."""
        bn = self.bns[i]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return (a - bn.running_mean) * scale + bn.bias

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Float class scores (logits)."""
        x = self.prepare_input(pixels)
        for i in range(len(self.fcs)):
            a = self.fcs[i](x)
            if i == len(self.fcs) - 1:
                return a * self.log_scale.exp() if self.training else a
            y = self.bns[i](a) if self.training else self.bn_eval(i, a)
            x = sign(y)



@torch.no_grad()
def export_thresholds(model, i: int, dot_max: int):
    """Integer thresholds reproducing sign(bn_eval(a)) >= 0 exactly for every integer a.

    float32 subtraction, multiplication and addition are monotonic, so the output flips once
    over the integers; a vectorised binary search finds where, per neuron."""
    bn = model.bns[i]
    n = bn.num_features
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    flip = (scale < 0).numpy()
    ones = lambda a: (model.bn_eval(i, a.to(torch.float32)[None, :])[0] >= 0).numpy()
    lo = np.full(n, -dot_max - 1, np.int64)
    hi = np.full(n, dot_max + 1, np.int64)
    # Not flipped: find the smallest a in [lo, hi] with output 1 (hi+... means never).
    # Flipped: find the smallest a with output 0; the threshold is that minus one.
    target = np.where(flip, False, True)
    lo_v, hi_v = lo.copy(), hi.copy()
    at_lo = ones(torch.from_numpy(lo_v)) == target
    at_hi = ones(torch.from_numpy(hi_v)) == target
    while np.any(hi_v - lo_v > 1):
        mid = (lo_v + hi_v) // 2
        hit = ones(torch.from_numpy(mid)) == target
        hi_v = np.where(hit, mid, hi_v)
        lo_v = np.where(hit, lo_v, mid)
    first = np.where(at_lo, lo, np.where(at_hi, hi_v, dot_max + 2))
    thresholds = np.where(flip, first - 1, first)
    thresholds = np.clip(thresholds, -dot_max - 1, dot_max + 1)
    return thresholds.astype(np.int64), flip


def export_mlp(model: "BNN", meta: dict | None = None) -> Net:
    """A trained MLP as integer layers (net file version 1)."""
    model.eval()
    layers = []
    for i, fc in enumerate(model.fcs):
        bits, levels = exported_bits(fc), exported_levels(fc)
        kind = model.input_kind if i == 0 else "bits"
        samples = model.sc_samples if i == 0 else 0
        if i == len(model.fcs) - 1:
            layers.append(Layer(bits, kind, samples=samples, levels=levels))
            continue
        dot_max = dot_peak(fc.in_features, kind, samples)
        t, f = export_thresholds(model, i, dot_max)
        layers.append(Layer(bits, kind, t, f, samples=samples, levels=levels))
    return export_net(model, layers, meta)


def export_net(model, layers, meta) -> Net:
    """The Net of exported layers with the model's input settings."""
    return Net(layers, BINARIZE_THRESHOLD if model.binarize_input else None, dict(meta or {}),
               model.sc_seed if model.sc_samples else None,
               float(model.log_scale.detach().exp()) if model.bayesian else None)
