"""What every layer kind answers (models.net.kinds): its net-file fields and their checks, its
output shape, its --arch token, its golden evaluation, and its training half (the torch layers
it trains with and their export to net-file fields). The hardware half of a kind (fold
geometry, build, manifest entry) is hdl.kinds under the same name."""
import re
from dataclasses import dataclass

import numpy as np
import torch

from ...errors import BnnMramError
from .. import binary, fields
from .. import levels as levels_mod
from ..fields import MAX_WIDTH, is_int, need
from ..inputs import dot_peak

SHARED_FIELDS = {"kind", "input", "output", "input_shape"}
BAYES_VERSION = 3   # the net file version of Bayesian nets (per-weight levels)


@dataclass(frozen=True)
class ReadContext:
    """Where layer `index` sits in the file being read."""
    where: str          # "net file PATH, layer I" for messages
    index: int
    last: bool
    shape: tuple        # its input's shape: (H, W, C), or (n,) once flat
    input: str          # its input kind (checked)
    samples: int        # N of an sc layer 0, else 0
    version: int        # of the file


class LayerKind:
    """One kind of layer. Subclasses set the class attributes and override what differs."""

    name = ""                 # the net file's `kind`
    token_name = ""           # its --arch token: convCkK, poolP, denseN
    token = re.compile("")    # the --arch token's pattern (groups: its numbers)
    fields: frozenset = frozenset()   # its own net-file fields, beyond SHARED_FIELDS
    has_weights = True
    spatial_input = False     # needs an [H, W, C] input (conv, maxpool)
    spatial_output = False    # its output is [H, W, C] (conv, maxpool)
    may_be_first = True
    may_be_last = False       # only a dense layer gives the class scores

    # ---------------------------------------------------------------- --arch
    def spec(self, match) -> tuple:
        """The parsed token: (token_name, numbers...)."""
        return (self.token_name, *map(int, match.groups()))

    def spec_problem(self, spec) -> str | None:
        """What is wrong with a token's numbers on their own (None: nothing)."""
        return None

    def spec_text(self, spec) -> str:
        raise NotImplementedError

    def spec_out_shape(self, spec, shape: tuple, where: str, index: int) -> tuple:
        """The output shape of this layer of an --arch spec on an input of `shape`, or one line."""
        raise NotImplementedError

    # ---------------------------------------------------------------- the net file
    def read(self, d: dict, ctx: ReadContext) -> dict:
        """The Layer fields of a checked file entry (weights, thresholds, ...)."""
        raise NotImplementedError

    def write(self, layer) -> dict:
        """The file entry's fields after `kind` (and layer 0's input_shape)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shapes and names
    def out_shape(self, layer) -> tuple:
        raise NotImplementedError

    def describe(self, layer) -> str:
        """Its --arch token, with the weight matrix for weighted layers: conv32k3 (32 x 9)."""
        return f"{self.arch_token(layer)} ({layer.n_out} x {layer.n_in})"

    def arch_token(self, layer) -> str:
        raise NotImplementedError

    def taps(self, layer, in_shape: tuple) -> np.ndarray:
        """int64 [output positions, taps]: the input pixel indices (y*W + x of an [H, W, C] map)
        each output position reads, for engines that work per pixel (models.faults.conv_campaign)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- golden model
    def dots(self, net, i: int, x: torch.Tensor, weights=None) -> torch.Tensor:
        """Integer dot products of layer i for inputs x [B, in_size], channel-last (`weights`:
        per-image weights uint8 [B, n_out, n_in] instead of the layer's)."""
        raise NotImplementedError

    def bits(self, net, i: int, x: torch.Tensor, weights=None) -> torch.Tensor:
        """Output bits [B, out_size] of hidden layer i (`weights`: as for dots)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- training (torch)
    def torch_layers(self, spec, in_shape: tuple, last: bool) -> tuple:
        """(binary-weight layer, batch norm) that train this --arch layer on an input of
        `in_shape`; None for what it has not (a weightless layer has neither, the output layer
        no batch norm)."""
        return None, None

    def torch_forward(self, spec, layer, x: torch.Tensor) -> torch.Tensor:
        """This layer's output on float activations x ([B, C, H, W] maps or [B, n] vectors):
        the dot products of a weighted layer (`layer` from torch_layers), the map otherwise."""
        raise NotImplementedError

    def export_fields(self, spec, in_shape: tuple) -> dict:
        """netfile.Layer keyword arguments of this --arch layer's geometry (kind, kernel, pool,
        in_shape), beyond weights, input, thresholds and flip."""
        raise NotImplementedError


def windows(h: int, w: int, k: int, stride: int) -> np.ndarray:
    """int64 [OH*OW, k*k]: the pixel indices y*W + x of each k x k window at the given stride."""
    oy, ox = np.meshgrid(np.arange((h - k) // stride + 1), np.arange((w - k) // stride + 1), indexing="ij")
    ky, kx = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    return ((oy.reshape(-1, 1) * stride + ky.reshape(1, -1)) * w
            + (ox.reshape(-1, 1) * stride + kx.reshape(1, -1))).astype(np.int64)


class WeightedKind(LayerKind):
    """A layer of binary weights and (hidden) per-neuron thresholds: dense, conv."""

    def n_in_problem(self, n_in: int, ctx: ReadContext, geometry: dict) -> str | None:
        """What is wrong with n_in for this input (None: nothing)."""
        raise NotImplementedError

    def read(self, d: dict, ctx: ReadContext) -> dict:
        where = ctx.where
        for k in ("n_in", "n_out"):
            need(is_int(d.get(k)), f"{where}: {k} missing or not an integer")
            need(1 <= d[k] <= MAX_WIDTH, f"{where}: {k}={d[k]} is outside [1, {MAX_WIDTH}]")
        n_in, n_out = d["n_in"], d["n_out"]
        extra = self.read_geometry(d, ctx)
        problem = self.n_in_problem(n_in, ctx, extra)
        need(problem is None, f"{where}: {problem}")
        rows = d.get("weights")
        need(isinstance(rows, list) and len(rows) == n_out, f"{where}: weights must be a list of n_out={n_out} "
             "hex strings")
        w = fields.hex_rows(rows, n_in, where)
        levels = self.read_levels(d, ctx, w)
        if ctx.last:
            extra_fields = {"thresholds", "flip"} & set(d)
            if extra_fields:
                raise BnnMramError(f"{where}: the output layer has no {sorted(extra_fields)[0]}")
            return {"weights": w, "levels": levels}
        peak = dot_peak(n_in, ctx.input, ctx.samples)
        t = fields.int_list(d.get("thresholds"), n_out, -peak - 1, peak + 1, where, "thresholds")
        f = d.get("flip")
        need(isinstance(f, list) and len(f) == n_out, f"{where}: flip must be a list of n_out={n_out} booleans")
        for j, v in enumerate(f):
            need(isinstance(v, bool), f"{where}: flip[{j}] = {v!r} is not true or false")
        return {"weights": w, "thresholds": t, "flip": np.asarray(f, bool), "levels": levels, **extra}

    @staticmethod
    def read_levels(d: dict, ctx: ReadContext, w: np.ndarray) -> np.ndarray | None:
        """The levels of a Bayesian net's layer (version 3, required there, refused before),
        checked against its weights (the most probable bits)."""
        if ctx.version < BAYES_VERSION:
            need("levels" not in d, f"{ctx.where}: levels is a version {BAYES_VERSION} field (this file says "
                 f"version {ctx.version})")
            return None
        q = fields.level_rows(d.get("levels"), w.shape[1], w.shape[0], ctx.where)
        bad = np.argwhere(levels_mod.map_bits(q) != w)
        if len(bad):
            raise BnnMramError(f"{ctx.where}: weights[{bad[0][0]}] bit {bad[0][1]} is not the most probable "
                               f"value of its level (a level >= {levels_mod.MAP_ONE} is a 1)")
        return q

    def spec_n_in(self, spec, in_shape: tuple) -> int:
        """Inputs per neuron (the weight row's length) of this --arch layer on `in_shape`."""
        raise NotImplementedError

    def rows(self, a: np.ndarray) -> np.ndarray:
        """A per-weight array of a torch layer in the net file's row order [n_out, n_in]."""
        return a

    def weight_bits(self, layer) -> np.ndarray:
        """uint8 [n_out, n_in] weight bits (1 codes +1, sign(0) = +1) of a trained torch layer,
        in the net file's row order (Bayesian: the most probable value)."""
        return self.rows(binary.exported_bits(layer))

    def weight_levels(self, layer) -> np.ndarray | None:
        """uint8 [n_out, n_in] levels of a Bayesian torch layer in the file's row order, else None."""
        levels = binary.exported_levels(layer)
        return None if levels is None else self.rows(levels)

    def read_geometry(self, d: dict, ctx: ReadContext) -> dict:
        """Fields of the kind's geometry (conv: kernel and in_shape), checked."""
        return {}

    def write(self, layer) -> dict:
        d = {"n_in": layer.n_in, "n_out": layer.n_out, "input": layer.input,
             "output": "scores" if layer.is_output else "bits", "weights": fields.row_hex(layer.weights)}
        if layer.levels is not None:
            d["levels"] = fields.level_hex(layer.levels)
        if not layer.is_output:
            d["thresholds"] = [int(t) for t in layer.thresholds]
            d["flip"] = [bool(f) for f in layer.flip]
        return d

    def bits(self, net, i: int, x: torch.Tensor, weights=None) -> torch.Tensor:
        """Neuron j's bit: dot_j >= thresholds[j], or dot_j <= thresholds[j] if flip[j]."""
        layer = net.layers[i]
        dot = self.dots(net, i, x, weights).reshape(x.shape[0], -1, layer.n_out)
        t = torch.from_numpy(np.asarray(layer.thresholds, np.int64))
        f = torch.from_numpy(np.asarray(layer.flip, bool))
        return torch.where(f, dot <= t, dot >= t).to(torch.uint8).reshape(x.shape[0], -1)
