"""A QONNX BNN as a net file (docs/qonnx.md, "Import"): Brevitas's export (BipolarQuant weight and
activation quantisers, Gemm/MatMul/Conv, BatchNormalization, MaxPool, NCHW) or its streamlined
form (MultiThreshold), a chain from `global_in` to the class scores.

Each weighted layer's output is affine in its integer dot product: y_j = alpha_j * dot_j + beta_j
(the +-1 weights' scale, the input's two levels or pixel scaling, the bias folded in); the
element-wise chain after it (models.interop.onnx_chain) maps y to two levels, so a binary search
over the integer dots (float32, as qonnx executes) gives each neuron's threshold and direction.
Everything bnnmram cannot build is refused in one line naming the node."""
from dataclasses import dataclass

import numpy as np

from ..errors import BnnMramError
from ..net.netfile import MAX_LAYERS, MAX_WIDTH, PIXEL_MAX, Layer, Net
from . import onnx_chain
from .onnx_chain import ELEMENTWISE, node_text

WEIGHTED = {"Gemm", "MatMul", "Conv"}
STRUCTURAL = {"MaxPool", "Flatten", "Reshape", "Transpose"}
PASS = {"Identity", "Dropout"}
CONST_FOLD = {"BipolarQuant", "Mul", "Div", "Add", "Sub", "Identity", "Transpose", "Reshape", "Sign"}


def load_model(path):
    """The model, cleaned up by qonnx (shapes inferred, names unique), or one line."""
    import onnx
    from google.protobuf.message import DecodeError
    try:
        proto = onnx.load(str(path))
    except FileNotFoundError:
        raise BnnMramError(f"{path} does not exist") from None
    except (DecodeError, ValueError, RuntimeError, OSError) as e:
        raise BnnMramError(f"{path} is not an ONNX model (the protobuf does not parse: "
                           f"{str(e).splitlines()[0][:80] if str(e) else type(e).__name__})") from None
    if not proto.graph.node:
        raise BnnMramError(f"{path} is not an ONNX model with a graph (no nodes)")
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.util.cleanup import cleanup_model
        return cleanup_model(ModelWrapper(proto))
    except Exception as e:   # qonnx's own checks of a malformed graph
        raise BnnMramError(f"{path}: qonnx cannot clean up this graph ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:100] if str(e) else ''})") from None


def _attr(node, name, default=None):
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _fold_constants(model) -> tuple[dict, list]:
    """(initializer and constant-node values by name, the nodes that depend on the input)."""
    from onnx import numpy_helper
    consts = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    dynamic = []
    for node in model.graph.node:
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(_attr(node, "value")).astype(np.float64)
        elif all((not n) or n in consts for n in node.input):
            if node.op_type not in CONST_FOLD:
                raise BnnMramError(f"{node_text(node)}: an {_quant_text(node, consts)} on constant weights; bnnmram "
                                   "builds binary (+-1) weights only")
            x = consts[node.input[0]]
            if node.op_type == "Transpose":
                consts[node.output[0]] = np.transpose(x, _attr(node, "perm"))
            elif node.op_type == "Reshape":
                consts[node.output[0]] = x.reshape(consts[node.input[1]].astype(np.int64))
            else:
                consts[node.output[0]] = onnx_chain.apply(node, x.astype(np.float32), consts, "flat").astype(np.float64)
        else:
            dynamic.append(node)
    return consts, dynamic


def _quant_text(node, consts) -> str:
    if node.op_type in ("Quant", "IntQuant"):
        bits = consts.get(node.input[3]) if len(node.input) > 3 else None
        return f"integer quantiser of {int(bits) if bits is not None and np.size(bits) == 1 else '?'} bits"
    return f"unfoldable {node.op_type} operator"


def _chain(model, dynamic) -> list:
    """The dynamic nodes in order from the graph input, one consumer each (no branches)."""
    start = model.graph.input[0].name
    consumers = {}
    for node in dynamic:
        for n in node.input:
            consumers.setdefault(n, []).append(node)
    order, x = [], start
    while x != model.graph.output[0].name:
        users = consumers.get(x, [])
        if len(users) != 1:
            if not users:
                raise BnnMramError(f"tensor {x} leads nowhere: the graph is not a chain to its output")
            raise BnnMramError(f"{node_text(users[1])}: tensor {x} feeds {len(users)} nodes (a branch or residual "
                               "add); bnnmram builds a chain of layers")
        node = users[0]
        dyn_inputs = [n for n in node.input if n and any(n in d.output for d in dynamic) or n == start]
        if len(dyn_inputs) != 1:
            raise BnnMramError(f"{node_text(node)}: {len(dyn_inputs)} computed inputs (a residual add or "
                               "concatenation); bnnmram builds a chain of layers")
        order.append(node)
        x = node.output[0]
    if len(order) != len(dynamic):
        extra = next(d for d in dynamic if d not in order)
        raise BnnMramError(f"{node_text(extra)}: not on the chain from the input to the output")
    return order


@dataclass
class _Input:
    """What the next weighted layer reads: kind, its two levels (lo, lo + d) for bits, or the
    pixels' affine map (a * pixel + b), and the layout of the tensor."""
    kind: str              # "pixel", "binarized" or "bits"
    lo: float
    d: float
    layout: str            # "flat" or "nchw"
    shape: tuple           # (n,) or (C, H, W)
    nchw_map: tuple | None = None   # flat tensors from a plain NCHW Flatten: its (C, H, W) map (values in NCHW order)


def _shape(model, name) -> list:
    s = model.get_tensor_shape(name)
    if s is None:
        raise BnnMramError(f"tensor {name} has no inferred shape")
    return [int(v) for v in s]


def _two_levels(values: np.ndarray, node, what: str) -> tuple[float, float]:
    levels = np.unique(values)
    if len(levels) > 2:
        raise BnnMramError(f"{node_text(node)}: {what} takes {len(levels)} values ({', '.join(f'{v:g}' for v in levels[:4])}"
                           f"{', ...' if len(levels) > 4 else ''}), not two: bnnmram builds binary activations")
    if len(levels) == 1:
        return float(levels[0]), float(levels[0]) + 1.0
    return float(levels[0]), float(levels[1])


def _pixel_input(chain, consts, scale: float, shape, layout) -> tuple[_Input, int | None]:
    """Layer 0's input after the element-wise nodes on the image: pixels (affine) or binarized."""
    c = shape[0]
    p = np.arange(PIXEL_MAX + 1, dtype=np.float32)
    x = (np.repeat((p * np.float32(scale))[:, None], c, 1)).astype(np.float32)
    if layout == "nchw":
        x = x[:, :, None, None]
    v = onnx_chain.run(chain, x, consts, layout).reshape(len(p), -1)
    if not np.all(v == v[:, :1]):
        raise BnnMramError(f"{node_text(chain[-1])}: the input's channels are scaled differently; bnnmram "
                           "reads every pixel alike")
    v = v[:, 0].astype(np.float64)
    if any(n.op_type in ("BipolarQuant", "Sign", "MultiThreshold") for n in chain):
        lo, hi = _two_levels(v, chain[-1], "the input quantiser")
        ones = v == hi
        t = int(np.argmax(ones)) if ones.any() else PIXEL_MAX + 1
        if not ones.any() or not np.all(ones[t:]) or np.any(ones[:t]) or t == 0:
            raise BnnMramError(f"{node_text(chain[-1])}: the input quantiser is not 'pixel >= threshold' for a "
                               "threshold in 1..255; bnnmram binarizes pixels that way")
        return _Input("binarized", lo, hi - lo, layout, shape), t
    a, b = (v[-1] - v[0]) / PIXEL_MAX, v[0]
    if a <= 0 or not np.allclose(v, a * np.arange(PIXEL_MAX + 1) + b, rtol=1e-5, atol=1e-6 * abs(a)):
        raise BnnMramError(f"{node_text(chain[-1]) if chain else 'the input'}: the pixels are not scaled by a "
                           "positive factor and offset before layer 0")
    return _Input("pixel", b, a, layout, shape), None


def _weights(node, consts, inp: _Input):
    """(bits [n_out, n_in] in the file's order, scale per neuron, bias per neuron) of a layer node."""
    w = consts.get(node.input[1])
    if w is None:
        raise BnnMramError(f"{node_text(node)}: its weights are computed, not constant")
    if node.op_type == "MatMul":
        w = w.T
    elif node.op_type == "Gemm":
        if _attr(node, "transA", 0):
            raise BnnMramError(f"{node_text(node)}: transA=1 is not a layer on the activations")
        w = (w if _attr(node, "transB", 0) else w.T) * _attr(node, "alpha", 1.0)
    n_out = w.shape[0]
    flat = w.reshape(n_out, -1)
    mag = np.abs(flat)
    if not np.all(mag > 0) or not np.all(mag == mag[:, :1]):
        kinds_ = len(np.unique(flat))
        raise BnnMramError(f"{node_text(node)}: weights are not binary (+-s per neuron; {kinds_} distinct values): "
                           "bnnmram builds binary layers only")
    bias = np.zeros(n_out)
    if node.op_type in ("Gemm", "Conv") and len(node.input) > 2 and node.input[2]:
        bias = np.broadcast_to(consts[node.input[2]] * (_attr(node, "beta", 1.0) if node.op_type == "Gemm" else 1),
                               (n_out,)).astype(np.float64)
    if node.op_type == "Conv":
        bits = (w > 0).transpose(0, 2, 3, 1).reshape(n_out, -1)        # [C_out, C_in, K, K] -> (ky*K + kx)*C_in + c
    else:
        bits = flat > 0
    return bits.astype(np.uint8), mag[:, 0], bias


def _conv_checks(node, inp: _Input, w_shape):
    if inp.layout != "nchw":
        raise BnnMramError(f"{node_text(node)}: a convolution needs an NCHW map")
    k = w_shape[2]
    if w_shape[2] != w_shape[3]:
        raise BnnMramError(f"{node_text(node)}: a {w_shape[2]}x{w_shape[3]} kernel; bnnmram builds square kernels")
    for name, ok in (("pads", lambda v: not any(v)), ("strides", lambda v: all(s == 1 for s in v)),
                     ("dilations", lambda v: all(s == 1 for s in v)), ("group", lambda v: v == 1)):
        v = _attr(node, name, 1 if name == "group" else [0 if name == "pads" else 1])
        if not ok(v):
            raise BnnMramError(f"{node_text(node)}: {name} {v}; bnnmram builds stride-1 convolutions without "
                               "padding, dilation or groups")
    if _attr(node, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        raise BnnMramError(f"{node_text(node)}: auto_pad pads the input; bnnmram builds convolutions without padding")
    return k


def _thresholds(node, chain, consts, alpha, beta, peak, layout) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per neuron (threshold, flip) so that bit = chain(alpha*dot + beta) is the upper level, and
    the chain's two levels: binary search over the integer dots in [-peak-1, peak+1]."""
    n = len(alpha)
    shape = (1, n) if layout == "flat" else (1, n, 1, 1)

    def act(d):
        y = (alpha * d.astype(np.float64) + beta).astype(np.float32).reshape(shape)
        return onnx_chain.run(chain, y, consts, layout).reshape(-1).astype(np.float64)

    lo_d, hi_d = np.full(n, -peak - 1, np.int64), np.full(n, peak + 1, np.int64)
    at_lo, at_hi = act(lo_d), act(hi_d)
    probe = [at_lo, at_hi]
    lo, hi = _two_levels(np.concatenate(probe + [act(np.zeros(n, np.int64))]), chain[-1] if chain else node,
                         "the activation")
    rising = (at_hi == hi) & (at_lo == lo)
    falling = (at_lo == hi) & (at_hi == lo)
    target_hi = ~falling      # rising: search the first dot reading hi; falling: the first reading lo
    a, b = lo_d.copy(), hi_d.copy()
    while np.any(b - a > 1):
        mid = (a + b) // 2
        v = act(mid)
        probe.append(v)
        hit = np.where(target_hi, v == hi, v == lo)
        b = np.where(hit, mid, b)
        a = np.where(hit, a, mid)
    _two_levels(np.concatenate(probe), chain[-1] if chain else node, "the activation")
    t = np.where(rising, b, np.where(falling, b - 1, np.where(at_lo == hi, -peak - 1, peak + 1)))
    return np.clip(t, -peak - 1, peak + 1).astype(np.int64), falling, lo, hi


def _check_scores(node, chain, consts, alpha, beta, peak):
    """The output layer: the chain must keep the argmax of the integer dots (one increasing map)."""
    d = np.unique(np.concatenate([np.linspace(-peak, peak, 4001).round(), np.arange(-64, 65)])).astype(np.int64)
    y = (alpha[None, :] * d[:, None] + beta[None, :]).astype(np.float32)
    v = onnx_chain.run(chain, y, consts, "flat") if chain else y
    if not (np.all(v == v[:, :1]) and np.all(np.diff(v[:, 0]) > 0)):
        where = node_text(chain[-1]) if chain else node_text(node)
        raise BnnMramError(f"{where}: the output layer's per-class scale, bias or normalisation changes the "
                           "argmax of its dot products; bnnmram's scores are the integer dot products")


def from_qonnx(path, input_scale: float = 1.0, meta: dict | None = None) -> Net:
    """The net of a QONNX model file (docs/qonnx.md): model input = input_scale * pixel value."""
    model = load_model(path)
    if len(model.graph.input) != 1 or len(model.graph.output) != 1:
        raise BnnMramError(f"{path}: {len(model.graph.input)} inputs and {len(model.graph.output)} outputs; "
                           "bnnmram imports a model with one image input and one score output")
    consts, dynamic = _fold_constants(model)
    order = _chain(model, dynamic)
    unsupported = [n for n in order if n.op_type not in WEIGHTED | STRUCTURAL | ELEMENTWISE]
    if unsupported:
        more = f" (and {len(unsupported) - 1} more: {', '.join(n.name for n in unsupported[1:4])})" if len(unsupported) > 1 else ""
        first = unsupported[0]
        why = (f"an {_quant_text(first, consts)} on the activations; bnnmram builds binary (bipolar) activations "
               "and its layer 0 reads raw 8-bit pixels" if first.op_type in ("Quant", "IntQuant")
               else "not an operator of a BNN bnnmram can build")
        raise BnnMramError(f"{node_text(first)}: {why}{more}")
    in_dims = _shape(model, model.graph.input[0].name)
    if len(in_dims) == 2:
        inp_layout, inp_shape = "flat", (in_dims[1],)
    elif len(in_dims) == 4:
        inp_layout, inp_shape = "nchw", tuple(in_dims[1:])
    else:
        raise BnnMramError(f"input {model.graph.input[0].name} has shape {in_dims}; bnnmram imports [1, N] or "
                           "NCHW [1, C, H, W] images")
    if in_dims[0] != 1:
        raise BnnMramError(f"input {model.graph.input[0].name} has batch {in_dims[0]}; export with batch 1")
    layers, binarize, pending, inp, open_layer = [], None, [], None, False
    layout, shape, nchw_map = inp_layout, inp_shape, None
    if not any(n.op_type in WEIGHTED for n in order):
        raise BnnMramError(f"{path}: no Gemm, MatMul or Conv node: nothing to build")
    structural_since = None
    for node in order:
        op = node.op_type
        if op in PASS:
            continue
        if op in ELEMENTWISE:
            if structural_since is not None and layers:
                raise BnnMramError(f"{node_text(node)}: element-wise after {node_text(structural_since)}; "
                                   "bnnmram applies a layer's activation before pooling or flattening")
            pending.append(node)
            continue
        if open_layer:   # the layer before ends here: its activation chain is complete
            inp, pending, open_layer = _finish_hidden(layers[-1], pending, consts, layout), [], False
        if op in STRUCTURAL:
            layout, shape, nchw_map = _structural(node, layers, layout, shape, nchw_map, model)
            structural_since = node
            continue
        if not layers:
            inp, binarize = _pixel_input(pending, consts, input_scale, shape if layout == "nchw" else (1,), layout)
            pending = []
        inp.layout, inp.shape, inp.nchw_map = layout, shape, nchw_map
        layer, layout, shape = _layer(node, consts, inp, model)
        layers.append(layer)
        nchw_map, structural_since, inp, open_layer = None, None, None, True
        if len(layers) > MAX_LAYERS:
            raise BnnMramError(f"{path}: more than {MAX_LAYERS} layers")
    last = layers[-1]
    if not open_layer or layout != "flat":
        raise BnnMramError(f"{path}: the last layer must be dense (Gemm or MatMul) giving the class scores")
    last.thresholds = last.flip = None
    _check_scores(last._node, pending, consts, last._alpha, last._beta, last.dot_peak)
    for l in layers:
        for a in ("_alpha", "_beta", "_node"):
            l.__dict__.pop(a, None)
    return Net(layers, binarize, dict(meta or {}))


def _finish_hidden(l, chain, consts, layout) -> _Input:
    """Thresholds of layer l from its activation chain; the next layer's input levels."""
    t, flip, lo, hi = _thresholds(l._node, chain, consts, l._alpha, l._beta, l.dot_peak, layout)
    l.thresholds, l.flip = t, flip
    return _Input("bits", lo, hi - lo, layout, ())


def _structural(node, layers, layout, shape, nchw_map, model):
    """(layout, shape, nchw_map) after a MaxPool, Transpose, Flatten or Reshape node."""
    op = node.op_type
    if op == "MaxPool":
        if layout != "nchw" or not layers:
            raise BnnMramError(f"{node_text(node)}: max-pool needs the NCHW map of a layer's activations")
        k = _attr(node, "kernel_shape")
        s = _attr(node, "strides", [1, 1])
        pads = _attr(node, "pads", [0, 0, 0, 0])
        c, h, w = shape
        if len(set(k)) != 1 or list(s) != list(k) or any(pads) or _attr(node, "ceil_mode", 0) or h % k[0] or w % k[0]:
            raise BnnMramError(f"{node_text(node)}: kernel {list(k)}, strides {list(s)}, pads {list(pads)} on a "
                               f"{h}x{w} map; bnnmram pools P x P windows at stride P that divide the map")
        layers.append(Layer(np.zeros((0, 0), np.uint8), "bits", kind="maxpool", pool=k[0], in_shape=(h, w, c)))
        return "nchw", (c, h // k[0], w // k[0]), nchw_map
    if op == "Transpose":
        perm = list(_attr(node, "perm", []))
        if layout == "nchw" and perm == [0, 2, 3, 1]:
            c, h, w = shape
            return "nhwc", (h, w, c), nchw_map
        raise BnnMramError(f"{node_text(node)}: transpose {perm}; bnnmram reads NCHW maps, or NHWC before a flatten")
    # Flatten / Reshape to [1, n]
    out = _shape(model, node.output[0])
    n = int(np.prod(shape))
    if len(out) != 2 or out[1] != n:
        raise BnnMramError(f"{node_text(node)}: output shape {out}; bnnmram flattens a map to [1, {n}] only")
    if layout == "nchw":
        return "flat", (n,), tuple(shape)
    return "flat", (n,), None


def _layer(node, consts, inp: _Input, model):
    """The netfile Layer of a Gemm/MatMul/Conv node with its affine map (alpha, beta)."""
    w = consts.get(node.input[1])
    if w is None:
        raise BnnMramError(f"{node_text(node)}: its weights are computed, not constant")
    bits, scale, bias = _weights(node, consts, inp)
    n_out = bits.shape[0]
    if node.op_type == "Conv":
        k = _conv_checks(node, inp, w.shape)
        c, h, wd = inp.shape
        if w.shape[1] != c:
            raise BnnMramError(f"{node_text(node)}: weights for {w.shape[1]} input channels, the map has {c}")
        layer = Layer(bits, inp.kind, kind="conv", kernel=k, in_shape=(h, wd, c))
        out = ("nchw", (n_out, h - k + 1, wd - k + 1))
    else:
        if inp.layout not in ("flat",):
            raise BnnMramError(f"{node_text(node)}: a dense layer needs a flat input (Flatten or Reshape first)")
        if inp.nchw_map:   # a plain NCHW flatten: permute the columns to the file's channel-last order
            c, h, wd = inp.nchw_map
            cl = np.arange(c * h * wd).reshape(c, h, wd).transpose(1, 2, 0).reshape(-1)
            bits = bits[:, cl]
        if bits.shape[1] != inp.shape[0]:
            raise BnnMramError(f"{node_text(node)}: weights for {bits.shape[1]} inputs, its input has {inp.shape[0]}")
        layer = Layer(bits, inp.kind)
        out = ("flat", (n_out,))
    if max(layer.n_in, layer.n_out) > MAX_WIDTH:
        raise BnnMramError(f"{node_text(node)}: {layer.n_in} inputs or {n_out} neurons exceed {MAX_WIDTH}")
    # y = sum_i s w_i v_i + bias, v_i = lo + d * b_i: alpha = s*d/2 (bits), s*d (pixels); beta from the row sums
    row = (2.0 * bits.astype(np.float64) - 1).sum(1)
    if inp.kind == "pixel":
        alpha, beta = scale * inp.d, scale * inp.lo * row + bias
    else:
        alpha, beta = scale * inp.d / 2, scale * (inp.lo + inp.d / 2) * row + bias
    layer._alpha, layer._beta, layer._node = alpha, beta, node
    layer.thresholds = np.zeros(n_out, np.int64)   # placeholder until its activation is known
    layer.flip = np.zeros(n_out, bool)
    return layer, out[0], out[1]
