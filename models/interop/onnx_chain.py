"""The element-wise ONNX operators between a BNN's layers, evaluated in float32 NumPy as qonnx's
executor does (docs/qonnx.md, "Import"): what a chain of them does to one value per channel
decides a layer's integer thresholds. Anything else is not element-wise here."""
import numpy as np

from ..errors import BnnMramError

ELEMENTWISE = {"Mul", "Div", "Add", "Sub", "BatchNormalization", "BipolarQuant", "Sign", "MultiThreshold",
               "Identity", "Dropout"}


def node_text(node) -> str:
    return f"node {node.name or '?'} ({node.op_type})"


def _attr(node, name, default=None):
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def apply(node, x: np.ndarray, consts: dict, layout: str) -> np.ndarray:
    """One element-wise node on x: [B, C] (layout "flat") or [B, C, 1, 1] ("nchw"); consts:
    initializer name -> array (its other inputs)."""
    op = node.op_type
    args = [consts[n] for n in node.input[1:] if n]
    if op in ("Identity", "Dropout"):
        return x
    if op in ("Mul", "Div", "Add", "Sub"):
        c = np.asarray(args[0], np.float32)
        fn = {"Mul": np.multiply, "Div": np.divide, "Add": np.add, "Sub": np.subtract}[op]
        try:
            return fn(x, c).astype(np.float32) if node.input[0] not in consts else fn(c, x).astype(np.float32)
        except ValueError:
            raise BnnMramError(f"{node_text(node)}: its constant of shape {list(c.shape)} does not broadcast "
                               f"over one value per channel") from None
    if op == "BatchNormalization":
        scale, bias, mean, var = (np.asarray(a, np.float32) for a in args)
        eps = np.float32(_attr(node, "epsilon", 1e-5))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        r = lambda a: a.reshape(shape)
        return ((x - r(mean)) / np.sqrt(r(var) + eps) * r(scale) + r(bias)).astype(np.float32)
    if op == "BipolarQuant":
        return (np.where(x >= 0, np.float32(1), np.float32(-1)) * np.asarray(args[0], np.float32)).astype(np.float32)
    if op == "Sign":
        return np.sign(x).astype(np.float32)
    if op == "MultiThreshold":
        from qonnx.custom_op.general.multithreshold import multithreshold
        layout_attr = _attr(node, "data_layout", b"NCHW")
        layout_attr = layout_attr.decode() if isinstance(layout_attr, bytes) else layout_attr
        return multithreshold(x, np.asarray(args[0], np.float32), _attr(node, "out_scale", 1.0),
                              _attr(node, "out_bias", 0.0), channels_last=layout_attr == "NHWC").astype(np.float32)
    raise BnnMramError(f"{node_text(node)}: not an operator bnnmram can build between layers "
                       f"(element-wise: {', '.join(sorted(ELEMENTWISE))})")


def run(chain: list, x: np.ndarray, consts: dict, layout: str) -> np.ndarray:
    for node in chain:
        x = apply(node, x, consts, layout)
    return x
