"""BinaryNet-style convolutional BNN in PyTorch, in the order the hardware computes:
conv -> batch norm -> sign -> (max-pool) ... -> flatten -> dense -> ... -> dense (scores).

Architecture spec (`bnnmram train --arch`): dash-separated layers, e.g.
`conv64k3-conv64k3-pool2-conv128k3-pool2-dense256-dense10`: `convCkK` (C output channels,
K x K kernel, stride 1, no padding), `poolP` (P x P max-pool, stride P, after the sign, so it
is an OR of bits), `denseN` (N neurons; the last one gives the class scores). The input shape
[H, W, C] comes from the dataset. Weights are binary (sign, +1 for 0) with a straight-through
estimator, latent weights clipped to [-1, 1], batch norm folded to integer thresholds per
output channel at export (the same exact search as the MLP's, models.net.bnn).
"""
import math
import re

import numpy as np
import torch
from torch import nn

from ..errors import BnnMramError
from .binary import sign
from .bnn import BinaryNet, export_net, export_thresholds
from . import kinds
from .netfile import Layer, Net, dot_peak


def is_spec(text: str) -> bool:
    """An --arch with layer names (conv/pool/dense) rather than the MLP's 784-256-10."""
    return re.search(r"conv|pool|dense", str(text)) is not None


def parse_spec(text: str) -> list[tuple]:
    """[("conv", C, K) | ("pool", P) | ("dense", N), ...], checked for form only (each token
    by its layer kind, models.net.kinds)."""
    layers = []
    for tok in str(text).split("-"):
        found = kinds.by_token(tok)
        if found is None:
            raise BnnMramError(f"architecture {text!r}: {tok!r} is not convCkK, poolP or denseN "
                               "(e.g. conv64k3-pool2-dense256-dense10)")
        kind, spec = found
        problem = kind.spec_problem(spec)
        if problem:
            raise BnnMramError(f"architecture {text!r}: {tok!r} {problem}")
        layers.append(spec)
    if not kinds.TOKENS[layers[-1][0]].may_be_last:
        raise BnnMramError(f"architecture {text!r} must end in a dense layer (the class scores)")
    return layers


def spec_text(arch) -> str:
    """The --arch text of MLP sizes or of a parsed conv spec."""
    if arch and isinstance(arch[0], tuple):
        return "-".join(kinds.TOKENS[l[0]].spec_text(l) for l in arch)
    return "-".join(map(str, arch))


def spec_shapes(spec: list[tuple], input_shape: tuple) -> list[tuple]:
    """The activation shape after each layer; one line naming the layer that does not fit."""
    shape, shapes = tuple(input_shape), []
    for i, layer in enumerate(spec):
        kind = kinds.TOKENS[layer[0]]
        where = f"architecture layer {i} ({layer[0]})"
        if kind.spatial_input and len(shape) != 3:
            raise BnnMramError(f"{where}: a {layer[0]} layer cannot follow a dense layer")
        shape = kind.spec_out_shape(layer, shape, where, i)
        shapes.append(shape)
    return shapes


class ConvBNN(BinaryNet):
    def __init__(self, spec: list[tuple], input_shape: tuple, binarize_input: bool = False,
                 sc_samples: int = 0, sc_seed: int = 0):
        super().__init__()
        self.spec, self.input_shape = list(spec), tuple(input_shape)
        self.set_input(binarize_input, sc_samples, sc_seed)
        self.shapes = spec_shapes(self.spec, self.input_shape)
        self.kinds = [kinds.TOKENS[layer[0]] for layer in self.spec]
        self.weighted = nn.ModuleList()   # conv and dense layers, in order
        self.bns = nn.ModuleList()        # one per thresholded (hidden) layer, in order
        for i, (kind, layer) in enumerate(zip(self.kinds, self.spec)):
            in_shape = self.shapes[i - 1] if i else self.input_shape
            weighted, bn = kind.torch_layers(layer, in_shape, last=i == len(self.spec) - 1)
            self.weighted.extend([weighted] if weighted is not None else [])
            self.bns.extend([bn] if bn is not None else [])
        for m in self.weighted:
            nn.init.uniform_(m.weight, -1, 1)
            m.weight.data.mul_(0.1)
        self.log_scale = nn.Parameter(torch.tensor(-0.5 * math.log(self.weighted[-1].in_features)))

    @property
    def fcs(self):
        """The weight-bearing layers (conv and dense), as the MLP calls them."""
        return self.weighted

    def prepare_input(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels [B, H*W*C] channel-last -> float [B, C, H, W]."""
        h, w, c = self.input_shape
        return self.input_values(pixels).reshape(-1, h, w, c).permute(0, 3, 1, 2)

    def bn_eval(self, i: int, a: torch.Tensor) -> torch.Tensor:
        """Inference batch norm of thresholded layer i on dots a [..., C] (channels last),
        float32, in the one order the threshold export reproduces."""
        bn = self.bns[i]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return (a - bn.running_mean) * scale + bn.bias

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Float class scores (logits)."""
        x = self.prepare_input(pixels)
        w_i = bn_i = 0
        for i, (kind, layer) in enumerate(zip(self.kinds, self.spec)):
            if not kind.has_weights:
                x = kind.torch_forward(layer, None, x)
                continue
            a = kind.torch_forward(layer, self.weighted[w_i], x)
            w_i += 1
            if i == len(self.spec) - 1:
                return a * self.log_scale.exp() if self.training else a
            if self.training:
                y = self.bns[bn_i](a)
            else:  # exact integer dots (a conv algorithm may round), then the exported order
                a = a.round()
                y = self.bn_eval(bn_i, a.movedim(1, -1)).movedim(-1, 1) if a.dim() == 4 else self.bn_eval(bn_i, a)
            bn_i += 1
            x = sign(y)

    def predict(self, pixels: torch.Tensor, batch: int = 500) -> np.ndarray:
        return super().predict(pixels, batch)


def export_conv(model: ConvBNN, meta: dict | None = None) -> Net:
    """The trained net as integer layers (net file version 2)."""
    model.eval()
    kind0 = model.input_kind
    layers, shape, w_i, bn_i = [], model.input_shape, 0, 0
    for i, (kind, spec) in enumerate(zip(model.kinds, model.spec)):
        inputs = kind0 if i == 0 else "bits"
        samples = model.sc_samples if i == 0 else 0
        geometry = kind.export_fields(spec, shape)
        if not kind.has_weights:
            layers.append(Layer(np.zeros((0, 0), np.uint8), inputs, **geometry))
        else:
            m = model.weighted[w_i]
            bits, levels = kind.weight_bits(m), kind.weight_levels(m)
            t = f = None
            if i < len(model.spec) - 1:
                t, f = export_thresholds(model, bn_i, dot_peak(bits.shape[1], inputs, samples))
                bn_i += 1
            layers.append(Layer(bits, inputs, t, f, samples=samples, levels=levels, **geometry))
        w_i += kind.has_weights
        shape = model.shapes[i]
    return export_net(model, layers, meta)
