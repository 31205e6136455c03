"""The dense (fully connected) layer: n_out neurons over all n_in inputs; after a conv or
max-pool layer it reads that layer's [H, W, C] output flat, index (y*W + x)*C + c."""
import re

import numpy as np
from torch import nn

from ...errors import BnnMramError
from .. import inputs
from ..binary import BinaryLinear
from ..fields import MAX_WIDTH
from .base import SHARED_FIELDS, WeightedKind


class Dense(WeightedKind):
    name = "dense"
    token_name = "dense"
    token = re.compile(r"dense(\d+)")
    fields = frozenset(SHARED_FIELDS | {"n_in", "n_out", "weights", "thresholds", "flip", "levels"})
    may_be_last = True

    def spec_problem(self, spec):
        return "needs at least 1 neuron" if spec[1] < 1 else None

    def spec_text(self, spec):
        return f"dense{spec[1]}"

    def spec_out_shape(self, spec, shape, where, index):
        n_in = int(np.prod(shape))
        if n_in > MAX_WIDTH or spec[1] > MAX_WIDTH:
            raise BnnMramError(f"{where}: {n_in} inputs or {spec[1]} neurons exceed the fault model's {MAX_WIDTH}")
        return (spec[1],)

    def n_in_problem(self, n_in, ctx, geometry):
        size = int(np.prod(ctx.shape))
        if n_in == size:
            return None
        if ctx.index == 0 or ctx.version >= 2:
            prev = "the input" if ctx.index == 0 else f"layer {ctx.index - 1}'s output"
            return f"n_in={n_in} does not match {prev} ({size} values)"
        return f"n_in={n_in} does not match layer {ctx.index - 1} n_out={size}"

    def out_shape(self, layer):
        return (layer.n_out,)

    def arch_token(self, layer):
        return f"dense{layer.n_out}"

    def taps(self, layer, in_shape):
        h, w, _ = in_shape if len(in_shape) == 3 else (1, 1, in_shape[0])
        return np.arange(h * w, dtype=np.int64)[None, :]   # one position reads every pixel

    def dots(self, net, i, x, weights=None):
        return inputs.dots(net.layers[i], x, net.binarize_threshold, weights)

    def spec_n_in(self, spec, in_shape):
        return int(np.prod(in_shape))

    def torch_layers(self, spec, in_shape, last):
        return BinaryLinear(self.spec_n_in(spec, in_shape), spec[1]), None if last else nn.BatchNorm1d(spec[1])

    def torch_forward(self, spec, layer, x):
        if x.dim() == 4:   # a [B, C, H, W] map, flattened channel-last: the file's order
            x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return layer(x)

    def export_fields(self, spec, in_shape):
        return {}


DENSE = Dense()
