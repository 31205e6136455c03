"""A net file as a QONNX model (docs/qonnx.md, "Export"): the golden model's integer arithmetic
in float32 ONNX, exact for every image.

Input `global_in`: the image as float pixel values 0..255, [N, n_in] for an MLP or NCHW
[N, C, H, W] for a conv net. Weights are +-1 initializers through `BipolarQuant` (scale 1), the
layers `Gemm` (transB = 1) and `Conv` (stride 1, no padding), a hidden layer's threshold rule
`Mul(m) -> Add(c) -> BipolarQuant` with m = +1, c = -threshold (bit = dot >= t) or m = -1,
c = +threshold (flip: bit = dot <= t), so its output is the +-1 activation; max-pool `MaxPool`
(P x P, stride P); a dense layer after a map reads it channel-last (`Transpose` NCHW -> NHWC,
then `Flatten`). Output `global_out`: the class scores [N, classes], the integer dot products.
"""
import numpy as np

from ..errors import BnnMramError
from ..net import kinds
from ..net.netfile import Net

QONNX_DOMAIN = "qonnx.custom_op.general"
OPSET = 13


class GraphBuilder:
    """The nodes and initializers of the graph being written; `x` the current tensor."""

    def __init__(self):
        import onnx
        self.onnx = onnx
        self.nodes, self.inits, self.count = [], [], 0
        self.x = "global_in"

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, value) -> str:
        name = self.name(stem)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(self, op: str, inputs: list, domain: str = "", out: str | None = None, **attrs) -> str:
        out = out or self.name(op)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=self.name(op + "_node"),
                                                     domain=domain, **attrs))
        return out

    def bipolar(self, x: str) -> str:
        return self.node("BipolarQuant", [x, self.const("unit_scale", 1.0)], domain=QONNX_DOMAIN)


def _weights(g: GraphBuilder, bits: np.ndarray, shape) -> str:
    """+-1 weights as a float initializer through BipolarQuant."""
    return g.bipolar(g.const("weights", (2.0 * bits - 1.0).reshape(shape)))


def _first_input(g: GraphBuilder, net: Net, layer) -> None:
    """Layer 0's input: pixels as they are, or binarized (pixel - threshold >= 0 is +1)."""
    if layer.input == "binarized":
        g.x = g.bipolar(g.node("Add", [g.x, g.const("binarize", -float(net.binarize_threshold))]))


def _threshold(g: GraphBuilder, layer, shape) -> None:
    """bit = dot >= t (flip false) or dot <= t (flip true) as Mul, Add, BipolarQuant."""
    if layer.thresholds is None:
        return
    m = np.where(layer.flip, -1.0, 1.0)
    c = np.where(layer.flip, 1.0, -1.0) * np.asarray(layer.thresholds, np.float64)
    g.x = g.bipolar(g.node("Add", [g.node("Mul", [g.x, g.const("sign", m.reshape(shape))]),
                                   g.const("threshold", c.reshape(shape))]))


def _dense(g: GraphBuilder, net: Net, i: int, layer, layout: str) -> str:
    if layout == "nchw":   # the file's flat order is channel-last
        g.x = g.node("Flatten", [g.node("Transpose", [g.x], perm=[0, 2, 3, 1])], axis=1)
    g.x = g.node("Gemm", [g.x, _weights(g, layer.weights, layer.weights.shape)], transB=1)
    _threshold(g, layer, (layer.n_out,))
    return "flat"


def _conv(g: GraphBuilder, net: Net, i: int, layer, layout: str) -> str:
    k, c_in = layer.kernel, layer.in_shape[2]
    # file bit (ky*K + kx)*C_in + c  ->  ONNX [C_out, C_in, K, K]
    w = layer.weights.reshape(layer.n_out, k, k, c_in).transpose(0, 3, 1, 2)
    g.x = g.node("Conv", [g.x, _weights(g, w, w.shape)], kernel_shape=[k, k], strides=[1, 1],
                 pads=[0, 0, 0, 0])
    _threshold(g, layer, (1, layer.n_out, 1, 1))
    return "nchw"


def _maxpool(g: GraphBuilder, net: Net, i: int, layer, layout: str) -> str:
    g.x = g.node("MaxPool", [g.x], kernel_shape=[layer.pool] * 2, strides=[layer.pool] * 2)
    return "nchw"


EXPORT = {kinds.DENSE: _dense, kinds.CONV: _conv, kinds.MAXPOOL: _maxpool}


def check_exportable(net: Net) -> None:
    """One line for the nets that have no QONNX form here."""
    if net.is_bayesian:
        raise BnnMramError("a Bayesian net (version 3) samples its weights at every read; QONNX has no "
                           "such operator: export a deterministic net")
    if net.sc is not None:
        raise BnnMramError("an sc net's stochastic input layer (docs/netfile.md) has no QONNX operator: "
                           "export a net with pixel or binarized input")


def to_qonnx(net: Net):
    """The net as an onnx.ModelProto in the QONNX dialect (docs/qonnx.md, "Export")."""
    import onnx
    from onnx import TensorProto, helper
    check_exportable(net)
    g = GraphBuilder()
    first = net.layers[0]
    spatial = kinds.of(first).spatial_input
    in_shape = [1, first.in_shape[2], first.in_shape[0], first.in_shape[1]] if spatial else [1, first.n_in]
    _first_input(g, net, first)
    layout = "nchw" if spatial else "flat"
    for i, layer in enumerate(net.layers):
        layout = EXPORT[kinds.of(layer)](g, net, i, layer, layout)
    g.nodes.append(helper.make_node("Identity", [g.x], ["global_out"], name="scores"))
    graph = helper.make_graph(
        g.nodes, "bnnmram", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, net.layers[-1].n_out])], g.inits)
    model = helper.make_model(graph, producer_name="bnnmram",
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(QONNX_DOMAIN, 1)])
    model.metadata_props.append(onnx.StringStringEntryProto(key="bnnmram_arch", value=str(net.arch)))
    return _annotated(model)


def _annotated(model):
    """qonnx data-type annotations FINN reads: the input UINT8 pixels, every BipolarQuant output
    (weights and activations) BIPOLAR."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    w = ModelWrapper(model)
    w.set_tensor_datatype("global_in", DataType["UINT8"])
    for node in w.graph.node:
        if node.op_type == "BipolarQuant":
            w.set_tensor_datatype(node.output[0], DataType["BIPOLAR"])
    return w.model


def model_input(net: Net, images: np.ndarray) -> np.ndarray:
    """The exported model's input for uint8 images [B, pixels] (channel-last): float32 pixel values,
    [B, n_in] or NCHW."""
    x = np.asarray(images, np.float32)
    if kinds.of(net.layers[0]).spatial_input:
        h, w, c = net.layers[0].in_shape
        x = x.reshape(len(x), h, w, c).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x)


def execute(path, x: np.ndarray) -> np.ndarray:
    """qonnx's own executor (qonnx.core.onnx_exec) on a batch of inputs x: the model's batch
    size changed to len(x) first (qonnx executes fixed shapes)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.util.cleanup import cleanup_model
    m = cleanup_model(ModelWrapper(str(path)).transform(ChangeBatchSize(len(x))))
    return execute_onnx(m, {m.graph.input[0].name: x})[m.graph.output[0].name]
