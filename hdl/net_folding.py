"""The folding of a whole net (hdl.folding holds one layer's): per-layer PE and SIMD from
overrides, global values or a default that balances every layer to the first layer's pace,
each layer's stream geometry as its kind says (hdl.kinds)."""
from bnnmram.models.errors import BnnMramError
from bnnmram.models.net.netfile import Net
from . import kinds
from .folding import MAX_PE, MAX_SIMD, divisors, default_fold


def layer_stream(net: Net, i: int) -> tuple[int, int, tuple]:
    """(positions, in_pixels, (K, W, OH)) of layer i, as its kind says (hdl.kinds): input
    vectors per image; the pixels its input stream carries per image when that stream is one
    pixel per cycle (conv and max-pool layers, the dense layer that flattens a conv output, and
    an MLP's sc first layer behind its ScEncoder; 0 for the other dense layers of MLPs); and a
    conv layer's kernel, input width and output rows (zeros otherwise)."""
    return kinds.of(net.layers[i]).stream(net, i)


def fold_net(net: Net, pe: int | None = None, simd: int | None = None,
             overrides: dict | None = None, budget: int | None = None) -> list:
    """Per-layer folding, one entry per net layer (PoolFold for max-pool layers): per-layer
    overrides {i: (pe, simd)}, else the global PE/SIMD, else a default that balances every
    layer to the first layer's cycles per image (first layer: PE and SIMD up to 16)."""
    overrides = dict(overrides or {})
    n = len(net.layers)
    bad = [i for i in overrides if not 0 <= i < n]
    if bad:
        raise BnnMramError(f"folding override for layer {bad[0]}, but the net has layers 0..{n - 1}")
    pools = [i for i in overrides if not net.layers[i].has_weights]
    if pools:
        raise BnnMramError(f"folding override for layer {pools[0]}, a max-pool layer: it has no "
                           "weights to fold (override the conv and dense layers)")
    l0 = net.layers[0]
    pos0, pix0, _ = layer_stream(net, 0)
    p0, s0 = overrides.get(0, (pe or max(divisors(l0.n_out, 16)), simd or max(divisors(l0.n_in, 16))))
    if budget is None:   # the first layer's pace, or the slowest layer's fastest default if slower
        budget = max([pos0 * -(-l0.n_in // max(s0, 1)) * -(-l0.n_out // max(p0, 1)), pix0] +
                     [layer_stream(net, i)[0] * (l.n_in // max(divisors(l.n_in, MAX_SIMD))) *
                      (l.n_out // max(divisors(l.n_out, MAX_PE)))
                      for i, l in enumerate(net.layers) if l.has_weights and i not in overrides])
    folds = []
    for i, l in enumerate(net.layers):
        stream = layer_stream(net, i)
        if not l.has_weights:
            folds.append(kinds.of(l).fold(i, l, 0, 0, stream))
            continue
        vector_budget = max(1, budget // stream[0])
        if i in overrides:
            p, s = overrides[i]
        elif i == 0:
            p, s = p0, s0
        elif pe is not None or simd is not None:
            dp, ds = default_fold(l.n_in, l.n_out, vector_budget)
            p, s = pe or dp, simd or ds
        else:
            p, s = default_fold(l.n_in, l.n_out, vector_budget)
        folds.append(kinds.of(l).fold(i, l, p, s, stream))
    return folds
