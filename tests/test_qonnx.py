"""QONNX in and out (docs/qonnx.md): bnnmram -> QONNX executed by qonnx equals the golden model;
QONNX -> bnnmram gives back the same net; Brevitas-trained BNNs (and Brevitas's own TFC/SFC/CNV
topologies) import with predictions equal to qonnx's executor and run bit-exact in RTL; hostile
ONNX files get one line each."""
import json
import warnings

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_cli_err, snapshot
from bnnmram.models.interop.qonnx_export import execute as qonnx_run
from nets import random_conv_net, random_net

warnings.filterwarnings("ignore", module="brevitas|torch.onnx|onnxscript|qonnx")


def _images(net, n=200, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, net.layers[0].in_size), dtype=np.uint8)


NETS = {"mlp-pixel": lambda: random_net([64, 32, 16, 10], seed=1),
        "mlp-binarized": lambda: random_net([64, 32, 10], seed=2, kind="binarized"),
        "conv": lambda: random_conv_net(seed=3),
        "conv-binarized": lambda: random_conv_net(seed=4, kind="binarized", shape=(10, 10, 3))}


@pytest.mark.parametrize("name", NETS)
def test_export_executes_with_the_golden_scores_and_imports_back(tmp_path, name):
    from bnnmram.models.interop.qonnx_export import model_input
    from bnnmram.models.net import golden, netfile
    net = NETS[name]()
    netfile.save(net, tmp_path / "net.json")
    assert run_cli(["export", "--net", tmp_path / "net.json", "--format", "qonnx", "--out", tmp_path / "m.onnx"]) == 0
    x = _images(net)
    scores = qonnx_run(tmp_path / "m.onnx", model_input(net, x))
    assert np.array_equal(scores.astype(np.int64), golden.run(net, x).scores)   # every score of every image
    assert run_cli(["import", tmp_path / "m.onnx", "--out", tmp_path / "back"]) == 0
    back = netfile.load(tmp_path / "back" / "net.json")
    assert back.binarize_threshold == net.binarize_threshold and back.arch == net.arch
    for a, b in zip(net.layers, back.layers):
        assert a.kind == b.kind and a.input == b.input and np.array_equal(a.weights, b.weights)
        if a.thresholds is not None:
            # thresholds beyond the reachable dots are equivalent; compare where they decide
            same = np.array_equal(a.flip, b.flip) and np.array_equal(
                np.clip(a.thresholds, -a.dot_peak - 1, a.dot_peak + 1), b.thresholds)
            assert same or np.array_equal(golden.run(net, x).pred, golden.run(back, x).pred)


def test_export_of_a_trained_net_and_its_refusals(tmp_path, capsys):
    from bnnmram.models.interop.qonnx_export import model_input
    from bnnmram.models.data import datasets
    from bnnmram.models.net import golden, netfile
    from nets import bayesian
    assert run_cli(["train", "--dataset", "digits", "--arch", "64-32-10", "--epochs", "3", "--out", tmp_path / "n"]) == 0
    assert run_cli(["export", "--net", tmp_path / "n" / "net.json", "--out", tmp_path / "m.onnx"]) == 0
    net, ds = netfile.load(tmp_path / "n" / "net.json"), datasets.load("digits")
    scores = qonnx_run(tmp_path / "m.onnx", model_input(net, ds.test_x))
    assert np.array_equal(scores.astype(np.int64), golden.run(net, ds.test_x).scores)
    netfile.save(bayesian(random_net([64, 16, 10])), tmp_path / "b.json")
    netfile.save(random_net([64, 16, 10], kind="sc", samples=4), tmp_path / "sc.json")
    (tmp_path / "other.onnx").write_bytes(b"not ours")
    for argv, expect in [
        (["--net", tmp_path / "b.json", "--out", tmp_path / "x.onnx"], "Bayesian net"),
        (["--net", tmp_path / "sc.json", "--out", tmp_path / "x.onnx"], "sc net"),
        (["--net", tmp_path / "n" / "net.json", "--out", tmp_path / "x.json"], "must end in .onnx"),
        (["--net", tmp_path / "n" / "net.json", "--out", tmp_path / "other.onnx"], "is not a `bnnmram export` result"),
    ]:
        before = snapshot(tmp_path)
        code, err = run_cli_err(capsys, ["export"] + argv)
        assert_one_line_error(code, err, "export", expect)
        assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- Brevitas-trained BNNs

@pytest.fixture(scope="module")
def digits():
    from bnnmram.models.data import datasets
    return datasets.load("digits")


def _brevitas(kind, digits, path, scaled=False):
    import brevitas_nets as bn
    model, shape = {"mlp": (lambda: bn.BrevitasMLP(unit_scale=not scaled), (64,)),
                    "mlp-binarized": (lambda: bn.BrevitasMLP(binarized=True), (64,)),
                    "cnv": (lambda: bn.BrevitasCNV(), (1, 8, 8))}[kind]
    m = bn.train(model(), digits.train_x, digits.train_y, shape, epochs=12)
    return bn.export(m, shape, path), shape


@pytest.mark.parametrize("kind", ["mlp", "mlp-binarized", "cnv"])
def test_brevitas_bnn_imports_with_qonnx_predictions(tmp_path, digits, kind):
    from bnnmram.models.net import golden, netfile
    path, shape = _brevitas(kind, digits, tmp_path / "b.onnx")
    assert run_cli(["import", path, "--out", tmp_path / "imp"]) == 0
    net = netfile.load(tmp_path / "imp" / "net.json")
    x = np.asarray(digits.test_x, np.float32).reshape((-1,) + shape)
    want = qonnx_run(path, x)
    g = golden.run(net, digits.test_x)
    assert np.array_equal(want.argmax(1), g.pred)   # every test image
    assert (g.pred == digits.test_y).mean() > 0.6
    report = json.loads((tmp_path / "imp" / "import.json").read_text())
    assert report["net_sha256"] == netfile.digest(net) and report["input"] == ("binarized" if "bin" in kind else "pixel")


def test_scaled_weights_import_up_to_float_ties(tmp_path, digits):
    """Brevitas's default binary weights are +-0.1: qonnx's float scores are 0.1 x the integer dots
    with rounding noise, so where integer scores tie, its argmax may pick another of the tied classes."""
    from bnnmram.models.net import golden, netfile
    path, shape = _brevitas("mlp", digits, tmp_path / "b.onnx", scaled=True)
    assert run_cli(["import", path, "--out", tmp_path / "imp"]) == 0
    net = netfile.load(tmp_path / "imp" / "net.json")
    want = qonnx_run(path, np.asarray(digits.test_x, np.float32)).argmax(1)
    g = golden.run(net, digits.test_x)
    top = g.scores == g.scores.max(1, keepdims=True)
    assert top[np.arange(len(want)), want].all()
    unique = top.sum(1) == 1
    assert np.array_equal(want[unique], g.pred[unique]) and unique.mean() > 0.8


@pytest.mark.parametrize("kind", ["mlp", "cnv"])
def test_brevitas_to_rtl_bit_exact(tmp_path, digits, kind):
    """Brevitas -> QONNX -> bnnmram -> RTL -> co-simulation, bit-exact (Verilator; Icarus for the MLP)."""
    path, _ = _brevitas(kind, digits, tmp_path / "b.onnx")
    assert run_cli(["import", path, "--out", tmp_path / "imp"]) == 0
    net = tmp_path / "imp" / "net.json"
    assert run_cli(["gen", "--net", net, "--out", tmp_path / "rtl"]) == 0
    for sim, images in (("verilator", "40"),) + ((("icarus", "6"),) if kind == "mlp" else ()):
        out = tmp_path / f"sim-{sim}"
        assert run_cli(["sim", "--rtl", tmp_path / "rtl", "--net", net, "--dataset", "digits", "--sim", sim,
                        "--images", images, "--ber", "0.02", "--stalls", "--out", out]) == 0
        r = json.loads((out / "sim.json").read_text())
        assert r["mismatches"] == 0 and r["readback_mismatches"] == [] and r["accuracy"] == r["golden_accuracy"]


def _reference(name, in_bits=None):
    import torch
    from brevitas_examples.bnn_pynq.models import get_model_cfg, model_impl
    cfg = get_model_cfg(name)
    if in_bits is not None:
        cfg.set("QUANT", "IN_BIT_WIDTH", str(in_bits))
    torch.manual_seed(0)
    return model_impl[cfg.get("MODEL", "ARCH")](cfg).eval()


@pytest.mark.parametrize("name,shape,in_bits", [("tfc_1w1a", (1, 1, 28, 28), None), ("sfc_1w1a", (1, 1, 28, 28), None),
                                                ("cnv_1w1a", (1, 3, 32, 32), 1)])
def test_brevitas_reference_topologies_import(tmp_path, capsys, name, shape, in_bits):
    """bnn_pynq's TFC and SFC (random weights: no download here) import with qonnx's predictions;
    CNV imports once its first layer reads binarized pixels, and its 8-bit input quantiser is refused."""
    import torch
    from brevitas.export import export_qonnx
    from bnnmram.models.interop.qonnx_export import model_input
    from bnnmram.models.net import golden, netfile
    path = tmp_path / f"{name}.onnx"
    export_qonnx(_reference(name, in_bits), torch.rand(shape), export_path=str(path))
    assert run_cli(["import", path, "--input-scale", "1/255", "--out", tmp_path / "imp"]) == 0
    net = netfile.load(tmp_path / "imp" / "net.json")
    x = _images(net, 40)
    fed = model_input(net, x) if net.input_shape else x.astype(np.float32).reshape((-1,) + shape[1:])
    want = qonnx_run(path, fed / np.float32(255)).argmax(1)
    assert np.array_equal(want, golden.run(net, x).pred)
    if name.startswith("cnv"):
        export_qonnx(_reference(name), torch.rand(shape), export_path=str(tmp_path / "cnv8.onnx"))
        code, err = run_cli_err(capsys, ["import", tmp_path / "cnv8.onnx", "--out", tmp_path / "no"])
        assert_one_line_error(code, err, "import", "an integer quantiser of 8 bits on the activations")


# ---------------------------------------------------------------- hostile ONNX files

def _graph(tmp_path, name, nodes, inits, in_shape=(1, 4), out_shape=(1, 2)):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    g = helper.make_graph(nodes, "h", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, list(in_shape))],
                          [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, list(out_shape))],
                          [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(m, str(path))
    return path


def _hostile(tmp_path):
    from onnx import helper
    n = helper.make_node
    w = np.where(np.arange(8).reshape(2, 4) % 3, 1.0, -1.0)
    good = dict(W=w, one=1.0)
    files = {
        "non-binary weights": (_graph(tmp_path, "nb", [n("Gemm", ["global_in", "W"], ["global_out"], transB=1)],
                                      {"W": w * np.arange(1, 9).reshape(2, 4)}), "weights are not binary"),
        "4-bit weight quantiser": (_graph(tmp_path, "q4", [
            n("Quant", ["W", "s", "z", "b"], ["Wq"], domain="qonnx.custom_op.general", signed=1, narrow=0, rounding_mode="ROUND"),
            n("Gemm", ["global_in", "Wq"], ["global_out"], transB=1)], {"W": w, "s": 1.0, "z": 0.0, "b": 4.0}),
            "integer quantiser of 4 bits on constant weights"),
        "softmax": (_graph(tmp_path, "sm", [n("Gemm", ["global_in", "W"], ["g"], transB=1),
                                            n("Softmax", ["g"], ["global_out"])], good), "node Softmax"),
        "residual add": (_graph(tmp_path, "res", [
            n("Gemm", ["global_in", "W4"], ["a"], transB=1), n("BipolarQuant", ["a", "one"], ["b"], domain="qonnx.custom_op.general"),
            n("Add", ["b", "global_in"], ["c"]), n("Gemm", ["c", "W"], ["global_out"], transB=1)],
            {"W4": np.where(np.eye(4), 1.0, -1.0), "W": w, "one": 1.0}), "feeds 2 nodes"),
        "3-d input": (_graph(tmp_path, "in3", [n("Gemm", ["global_in", "W"], ["global_out"], transB=1)], good,
                             in_shape=(1, 2, 4)), "input global_in has shape [1, 2, 4]"),
        "padded conv": (_graph(tmp_path, "pad", [
            n("Conv", ["global_in", "K"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            n("Flatten", ["c"], ["f"], axis=1), n("Gemm", ["f", "W16"], ["global_out"], transB=1)],
            {"K": np.ones((1, 1, 3, 3)), "W16": np.ones((2, 16))}, in_shape=(1, 1, 4, 4)), "pads [1, 1, 1, 1]"),
        "strided conv": (_graph(tmp_path, "stride", [
            n("Conv", ["global_in", "K"], ["c"], kernel_shape=[2, 2], strides=[2, 2]),
            n("Flatten", ["c"], ["f"], axis=1), n("Gemm", ["f", "W4"], ["global_out"], transB=1)],
            {"K": np.ones((1, 1, 2, 2)), "W4": np.ones((2, 4))}, in_shape=(1, 1, 4, 4)), "strides [2, 2]"),
        "per-class output scale": (_graph(tmp_path, "cls", [
            n("Gemm", ["global_in", "W"], ["g"], transB=1), n("Mul", ["g", "s"], ["global_out"])],
            {"W": w, "s": [1.0, 2.0]}), "changes the argmax"),
        "three-level activation": (_graph(tmp_path, "tern", [
            n("Gemm", ["global_in", "W4"], ["a"], transB=1),
            n("MultiThreshold", ["a", "T"], ["b"], domain="qonnx.custom_op.general", out_dtype="UINT2"),
            n("Gemm", ["b", "W"], ["global_out"], transB=1)],
            {"W4": np.where(np.eye(4), 1.0, -1.0), "T": np.tile([[-100.0, 100.0]], (4, 1)), "W": w}), "not two"),
    }
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(files["softmax"][0].read_bytes()[:40])
    files["truncated protobuf"] = (trunc, "is not an ONNX model")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    files["empty file"] = (empty, "is not an ONNX model")
    files["missing file"] = (tmp_path / "nope.onnx", "does not exist")
    return files


def test_hostile_onnx_files_get_one_line(tmp_path, capsys):
    files = _hostile(tmp_path)
    for name, (path, expect) in files.items():
        out = tmp_path / f"out-{name.replace(' ', '_')}"
        before = snapshot(tmp_path)
        code, err = run_cli_err(capsys, ["import", path, "--out", out])
        assert_one_line_error(code, err, "import", expect)
        assert snapshot(tmp_path) == before, name


def test_streamlined_form_imports(tmp_path):
    """FINN's streamlined form: plain +-1 weight initializers, each hidden layer's threshold rule as
    a MultiThreshold node (out_scale 2, out_bias -1: bipolar), a negative direction as Mul(-1)
    before it. Built from a net here; importing it gives back that net's predictions."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from bnnmram.models.net import golden
    net = random_net([64, 24, 16, 10], seed=7)
    nodes, inits, x = [], [], "global_in"
    for i, l in enumerate(net.layers):
        inits.append(numpy_helper.from_array((2.0 * l.weights.T - 1).astype(np.float32), f"W{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [f"d{i}"]))
        x = f"d{i}"
        if l.thresholds is not None:
            sign = np.where(l.flip, -1.0, 1.0).astype(np.float32)
            inits.append(numpy_helper.from_array(sign, f"m{i}"))
            # dot >= t  <=>  m*dot >= m*t for m = +1;  dot <= t  <=>  -dot >= -t
            inits.append(numpy_helper.from_array((sign * l.thresholds).astype(np.float32)[:, None], f"T{i}"))
            nodes.append(helper.make_node("Mul", [x, f"m{i}"], [f"s{i}"]))
            nodes.append(helper.make_node("MultiThreshold", [f"s{i}", f"T{i}"], [f"a{i}"], domain="qonnx.custom_op.general",
                                          out_dtype="BIPOLAR", out_scale=2.0, out_bias=-1.0))
            x = f"a{i}"
    nodes[-1].output[0] = "global_out"
    g = helper.make_graph(nodes, "streamlined", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, 64])],
                          [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, 10])], inits)
    path = tmp_path / "s.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                                  helper.make_opsetid("qonnx.custom_op.general", 1)]), str(path))
    assert run_cli(["import", path, "--out", tmp_path / "imp"]) == 0
    from bnnmram.models.net import netfile
    back = netfile.load(tmp_path / "imp" / "net.json")
    x_img = _images(net, 300)
    want = qonnx_run(path, x_img.astype(np.float32))
    assert np.array_equal(want.astype(np.int64), golden.run(back, x_img).scores)
    assert np.array_equal(golden.run(net, x_img).pred, golden.run(back, x_img).pred)
