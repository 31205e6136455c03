"""The conv layer: C_out channels of a K x K kernel, stride 1, no padding, on a channel-last
[H, W, C] input; weight row j is output channel j over the patch bit (ky*K + kx)*C + c
(models.net.conv); output [(H-K+1), (W-K+1), C_out]."""
import re

from torch import nn

from ...errors import BnnMramError
from .. import inputs
from ..binary import BinaryConv2d
from ..conv import patches
from ..fields import MAX_WIDTH, is_int, need
from .base import SHARED_FIELDS, WeightedKind, windows


class Conv(WeightedKind):
    name = "conv"
    token_name = "conv"
    token = re.compile(r"conv(\d+)k(\d+)")
    fields = frozenset(SHARED_FIELDS | {"kernel", "n_in", "n_out", "weights", "thresholds", "flip", "levels"})
    spatial_input = spatial_output = True

    def spec_problem(self, spec):
        if spec[1] < 1:
            return "needs at least 1 channel"
        return "needs a kernel of at least 1" if spec[2] < 1 else None

    def spec_text(self, spec):
        return f"conv{spec[1]}k{spec[2]}"

    def spec_out_shape(self, spec, shape, where, index):
        _, c, k = spec
        h, w, cin = shape
        if k > min(h, w):
            raise BnnMramError(f"{where}: kernel {k} does not fit its {h} x {w} input")
        if k * k * cin > MAX_WIDTH or c > MAX_WIDTH:
            raise BnnMramError(f"{where}: {k}x{k}x{cin} patches or {c} channels exceed the fault "
                               f"model's {MAX_WIDTH} inputs or neurons")
        return (h - k + 1, w - k + 1, c)

    def read_geometry(self, d, ctx):
        kernel = d.get("kernel")
        h, w, c = ctx.shape
        need(is_int(kernel) and 1 <= kernel <= min(h, w),
             f"{ctx.where}: kernel must be an integer in [1, {min(h, w)}] for its {h} x {w} input, not {kernel!r}")
        return {"kernel": kernel, "in_shape": ctx.shape}

    def n_in_problem(self, n_in, ctx, geometry):
        k, c = geometry["kernel"], ctx.shape[2]
        return None if n_in == k * k * c else f"n_in={n_in} is not kernel*kernel*channels = {k * k * c}"

    def write(self, layer):
        return {"kernel": layer.kernel, **super().write(layer)}

    def out_shape(self, layer):
        h, w, _ = layer.in_shape
        return (h - layer.kernel + 1, w - layer.kernel + 1, layer.n_out)

    def arch_token(self, layer):
        return f"conv{layer.n_out}k{layer.kernel}"

    def taps(self, layer, in_shape):
        h, w, _ = in_shape
        return windows(h, w, layer.kernel, 1)

    def dots(self, net, i, x, weights=None):
        layer = net.layers[i]
        rows = patches(x, layer.in_shape, layer.kernel)
        return inputs.dots(layer, rows, net.binarize_threshold, weights).reshape(x.shape[0], -1)

    def spec_n_in(self, spec, in_shape):
        return spec[2] * spec[2] * in_shape[2]

    def torch_layers(self, spec, in_shape, last):
        return BinaryConv2d(in_shape[2], spec[1], spec[2]), nn.BatchNorm2d(spec[1])

    def torch_forward(self, spec, layer, x):
        return layer(x)

    def rows(self, a):
        """[C_out, C_in, K, K] -> rows over the patch bit (ky*K + kx)*C_in + c."""
        return a.transpose(0, 2, 3, 1).reshape(a.shape[0], -1)

    def export_fields(self, spec, in_shape):
        return {"kind": "conv", "kernel": spec[2], "in_shape": tuple(in_shape)}


CONV = Conv()
