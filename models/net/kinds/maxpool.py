"""The bit max-pool layer: P x P windows, stride P, on an [H, W, C] map of bits (the OR of
each window, the max of +-1 values); no weights. It cannot be first (it pools bits, not
pixels) nor last."""
import re

import numpy as np
from torch.nn import functional as F

from ...errors import BnnMramError
from ..conv import maxpool_bits
from ..fields import is_int, need
from .base import SHARED_FIELDS, LayerKind, windows


class MaxPool(LayerKind):
    name = "maxpool"
    token_name = "pool"
    token = re.compile(r"pool(\d+)")
    fields = frozenset(SHARED_FIELDS | {"pool"})
    has_weights = False
    spatial_input = spatial_output = True
    may_be_first = False

    def spec_problem(self, spec):
        return "needs a window of at least 2" if spec[1] < 2 else None

    def spec_text(self, spec):
        return f"pool{spec[1]}"

    def spec_out_shape(self, spec, shape, where, index):
        p = spec[1]
        h, w, c = shape
        if index == 0:
            raise BnnMramError(f"{where}: the first layer cannot pool (it pools bits, not pixels)")
        if h % p or w % p:
            raise BnnMramError(f"{where}: pool {p} does not divide its {h} x {w} input")
        return (h // p, w // p, c)

    def read(self, d, ctx):
        where = ctx.where
        need(ctx.index > 0, f"{where}: the first layer cannot be a maxpool (it pools bits, not pixels)")
        need(not ctx.last, f"{where}: the last layer must be dense (it gives the class scores)")
        p = d.get("pool")
        need(is_int(p) and p >= 2, f"{where}: pool must be an integer >= 2, not {p!r}")
        h, w, _ = ctx.shape
        need(h % p == 0 and w % p == 0, f"{where}: pool {p} does not divide its {h} x {w} input")
        return {"weights": np.zeros((0, 0), np.uint8), "pool": p, "in_shape": ctx.shape}

    def write(self, layer):
        return {"pool": layer.pool, "input": layer.input, "output": "bits"}

    def out_shape(self, layer):
        h, w, c = layer.in_shape
        return (h // layer.pool, w // layer.pool, c)

    def describe(self, layer):
        return self.arch_token(layer)

    def arch_token(self, layer):
        return f"pool{layer.pool}"

    def taps(self, layer, in_shape):
        h, w, _ = in_shape
        return windows(h, w, layer.pool, layer.pool)

    def bits(self, net, i, x, weights=None):
        layer = net.layers[i]
        return maxpool_bits(x, layer.in_shape, layer.pool)

    def torch_forward(self, spec, layer, x):
        return F.max_pool2d(x, spec[1])

    def export_fields(self, spec, in_shape):
        return {"kind": "maxpool", "pool": spec[1], "in_shape": tuple(in_shape)}


MAXPOOL = MaxPool()
