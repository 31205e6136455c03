"""Conv BNNs in software: net file v2, golden model against an independent reading of
docs/netfile.md, training (float = golden), fault coordinates, sweeps."""
import json
import re

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from bnnmram.gen.cli import main
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import ONE, FaultConfig, fault_hash, faulty_net
from bnnmram.models.net import golden, netfile, training
from bnnmram.models.net.cnn import parse_spec
from bnnmram.models.net.netfile import Net
from nets import random_conv_net


def docs_only_eval(doc: dict, images: np.ndarray) -> np.ndarray:
    """Class scores of a v2 net file, written from docs/netfile.md alone (loops, no bnnmram code)."""
    h, w, c = doc["layers"][0]["input_shape"]
    acts = [img.astype(np.int64).reshape(h, w, c) for img in images]
    scores = []
    for li, L in enumerate(doc["layers"]):
        new = []
        for a in acts:
            if L["kind"] == "maxpool":
                p = L["pool"]
                H, W, C = a.shape
                new.append(a.reshape(H // p, p, W // p, p, C).max(axis=(1, 3)))
                continue
            rows = [[(int(r, 16) >> i) & 1 for i in range(L["n_in"])] for r in L["weights"]]
            wpm = 2 * np.array(rows, np.int64) - 1                         # +-1
            if L["input"] == "pixel":
                vec_of = lambda v: v
            elif L["input"] == "binarized":
                vec_of = lambda v: np.where(v >= doc["binarize_threshold"], 1, -1)
            else:
                vec_of = lambda v: 2 * v - 1
            if L["kind"] == "conv":
                k = L["kernel"]
                H, W, C = a.shape
                out = np.zeros((H - k + 1, W - k + 1, L["n_out"]), np.int64)
                for oy in range(H - k + 1):
                    for ox in range(W - k + 1):
                        patch = [a[oy + ky, ox + kx, ch] for ky in range(k) for kx in range(k) for ch in range(C)]
                        out[oy, ox] = wpm @ vec_of(np.array(patch))
                dots = out
            else:
                dots = wpm @ vec_of(a.reshape(-1))
            if L["output"] == "scores":
                new.append(dots)
            else:
                t, f = np.array(L["thresholds"]), np.array(L["flip"])
                new.append(np.where(f, dots <= t, dots >= t).astype(np.int64))
        acts = new
    return np.array(acts)


@pytest.mark.parametrize("kind", ["pixel", "binarized"])
def test_v2_file_evaluated_from_the_docs_alone(tmp_path, kind):
    net = random_conv_net(3, kind)
    path = netfile.save(net, tmp_path / "net.json")
    doc = json.loads(path.read_text())
    assert doc["version"] == 2 and [l["kind"] for l in doc["layers"]] == ["conv", "maxpool", "conv", "dense", "dense"]
    images = np.random.default_rng(1).integers(0, 256, (6, 8 * 8 * 2), dtype=np.uint8)
    g = golden.run(netfile.load(path), images)
    assert np.array_equal(docs_only_eval(doc, images), g.scores)
    assert netfile.describe_arch(netfile.load(path)) == "conv4k3-pool2-conv3k2-dense5-dense3"


def test_conv_dots_match_torch_conv2d():
    """Channel-last patch order against torch's own NCHW convolution."""
    net = random_conv_net(5)
    l0 = net.layers[0]
    x = np.random.default_rng(2).integers(0, 256, (3, 8 * 8 * 2), dtype=np.uint8)
    dots = golden.layer_dot(net, 0, torch.from_numpy(x).to(torch.int64)).numpy().reshape(3, 6, 6, 4)
    w = torch.from_numpy(2.0 * l0.weights.astype(np.float64) - 1).reshape(4, 3, 3, 2).permute(0, 3, 1, 2)
    xt = torch.from_numpy(x.astype(np.float64)).reshape(3, 8, 8, 2).permute(0, 3, 1, 2)
    ref = F.conv2d(xt, w).permute(0, 2, 3, 1).round().to(torch.int64).numpy()
    assert np.array_equal(dots, ref)


@pytest.mark.parametrize("spec,binarize", [("conv16k3-conv16k3-pool2-dense32-dense10", False),
                                           ("conv8k3-pool2-dense10", True)])
def test_trained_conv_net_float_equals_golden(digits, tmp_path, spec, binarize):
    model = training.train(parse_spec(spec), digits.train_x, digits.train_y, epochs=4, seed=1,
                      input_shape=digits.shape, binarize_input=binarize)
    net = netfile.load(netfile.save(training.export(model, {}), tmp_path / "net.json"))
    g = golden.run(net, digits.test_x)
    f = model.predict(torch.from_numpy(digits.test_x))
    assert np.array_equal(g.pred, f)
    assert (g.pred == digits.test_y).mean() > 0.5
    assert netfile.describe_arch(net) == spec


def test_conv_weights_fail_at_their_logical_coordinates():
    """(layer, output channel, patch bit index): what the hash sees for a conv weight."""
    net = random_conv_net(7)
    cfg = FaultConfig(seed=11, ber=0.2)
    f = faulty_net(net, cfg)
    for i in (0, 2):
        w = net.layers[i].weights
        j, k = np.meshgrid(np.arange(w.shape[0]), np.arange(w.shape[1]), indexing="ij")
        fails = fault_hash(11, i, j, k) < np.uint32(cfg.t01)
        assert np.array_equal(f.layers[i].weights, w ^ fails.astype(np.uint8))
    assert f.layers[1].weights.shape == (0, 0)


V2_EDITS = [
    ("unknown kind", lambda d: d["layers"][1].update(kind="avgpool"), "unknown layer kind 'avgpool'"),
    ("pool not dividing", lambda d: d["layers"][1].update(pool=4), "pool 4 does not divide its 6 x 6 input"),
    ("pool of 1", lambda d: d["layers"][1].update(pool=1), "pool must be an integer >= 2"),
    ("kernel too large", lambda d: d["layers"][2].update(kernel=5), "kernel must be an integer in [1, 3]"),
    ("n_in not K*K*C", lambda d: d["layers"][2].update(n_in=15), "n_in=15 is not kernel*kernel*channels = 16"),
    ("shapes do not chain", lambda d: d["layers"][3].update(n_in=7), "n_in=7 does not match layer 2's output (12 values)"),
    ("row one digit short", lambda d: d["layers"][0]["weights"].__setitem__(0, d["layers"][0]["weights"][0][1:]),
     "weights[0] must be exactly 5 hex digits"),
    ("input shape on layer 1", lambda d: d["layers"][1].update(input_shape=[6, 6, 4]), "input_shape belongs to layer 0 only"),
    ("input shape missing", lambda d: d["layers"][0].pop("input_shape"), "input_shape must be [H, W, C]"),
    ("input shape bad", lambda d: d["layers"][0].update(input_shape=[8, 8]), "input_shape must be [H, W, C]"),
    ("maxpool first", lambda d: d.update(layers=d["layers"][1:]), "input_shape"),
    ("conv after dense", lambda d: d["layers"].insert(4, dict(d["layers"][2])), "needs an [H, W, C] input"),
    ("pool with weights", lambda d: d["layers"][1].update(weights=[]), "unknown field 'weights' for a maxpool layer"),
    ("dense with kernel", lambda d: d["layers"][3].update(kernel=3), "unknown field 'kernel' for a dense layer"),
    ("v1 with kind", lambda d: d.update(version=1), "version 2 fields"),
    ("threshold per channel short", lambda d: d["layers"][0]["thresholds"].pop(), "thresholds must be a list of n_out=4"),
    ("arch stale", lambda d: d.update(arch=[128, 144, 36, 12, 5, 4]), "does not match its layers"),
]


@pytest.mark.parametrize("name,edit,expect", V2_EDITS, ids=[e[0] for e in V2_EDITS])
def test_v2_reader_refuses_what_the_page_forbids(tmp_path, name, edit, expect):
    doc = netfile.to_dict(random_conv_net(1))
    edit(doc)
    doc["sha256"] = netfile._checksum(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(BnnMramError, match=re.escape(expect)):
        netfile.load(p)


@pytest.fixture(scope="module")
def conv_digits_net(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv")
    with pytest.raises(SystemExit) as e:
        main(["train", "--dataset", "digits", "--arch", "conv8k3-pool2-dense16-dense10", "--epochs", "3",
              "--out", str(out)])
    assert e.value.code == 0
    rep = json.loads((out / "train.json").read_text())
    assert rep["golden_float_disagreements"] == 0 and rep["arch_spec"] == "conv8k3-pool2-dense16-dense10"
    return out / "net.json"


@pytest.mark.parametrize("extra", [[], ["--layers", "2"], ["--thresholds"], ["--layers", "0,3", "--thresholds"]])
def test_sweep_of_a_conv_net_equals_the_golden_model(conv_digits_net, digits, tmp_path, extra):
    out = tmp_path / "s"
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--net", str(conv_digits_net), "--dataset", "digits", "--ber", "1e-2,5e-2",
              "--trials", "2", "--seed", "4", "--out", str(out)] + extra)
    assert e.value.code == 0
    doc = json.loads((out / "sweep.json").read_text())
    net = netfile.load(conv_digits_net)
    layers = [int(v) for v in extra[extra.index("--layers") + 1].split(",")] if "--layers" in extra else None
    for row in doc["nets"][0]["per_ber"]:
        accs = []
        for t in range(2):
            cfg = FaultConfig(seed=4 + t, ber=row["ber"])
            f = faulty_net(net, cfg, thresholds="--thresholds" in extra)
            if layers is not None:   # errors in the chosen layers only
                keep = [fl if i in layers else l for i, (l, fl) in enumerate(zip(net.layers, f.layers))]
                f = Net(keep, net.binarize_threshold, net.meta)
            accs.append((golden.run(f, digits.test_x).pred == digits.test_y).mean())
        assert row["mean"] == pytest.approx(np.mean(accs), abs=1e-12)


def test_conv_net_commands_that_cannot_take_it_say_so(conv_digits_net, tmp_path, capsys):
    for argv in (["gen", "--net", str(conv_digits_net), "--fold", "1:1:1", "--out", str(tmp_path / "rtl")],
                 ["sweep", "--net", str(conv_digits_net), "--dataset", "digits", "--read-errors",
                  "--out", str(tmp_path / "s")],
                 ["infer", "--net", str(conv_digits_net), "--dataset", "mnist", "--out", str(tmp_path / "i.npz")]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert e.value.code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    with pytest.raises(SystemExit) as e:
        main(["infer", "--net", str(conv_digits_net), "--dataset", "digits", "--ber", "0.01",
              "--out", str(tmp_path / "i.npz")])
    assert e.value.code == 0 and "weights flipped" in capsys.readouterr().out


def test_per_layer_sensitivity_sweep(conv_digits_net, tmp_path, capsys):
    """--per-layer: one curve per weighted layer, each equal to a --layers K sweep."""
    base = ["sweep", "--net", str(conv_digits_net), "--dataset", "digits", "--ber", "1e-2,1e-1", "--trials", "2"]
    with pytest.raises(SystemExit) as e:
        main(base + ["--per-layer", "--out", str(tmp_path / "all")])
    assert e.value.code == 0
    doc = json.loads((tmp_path / "all" / "sweep.json").read_text())
    assert doc["per_layer"] is True and [n["layers"] for n in doc["nets"]] == [[0], [2], [3]]
    assert "one layer at a time" in (tmp_path / "all" / "sweep.md").read_text()
    with pytest.raises(SystemExit) as e:
        main(base + ["--layers", "2", "--out", str(tmp_path / "two")])
    two = json.loads((tmp_path / "two" / "sweep.json").read_text())["nets"][0]["per_ber"]
    assert [r["mean"] for r in doc["nets"][1]["per_ber"]] == [r["mean"] for r in two]
    with pytest.raises(SystemExit) as e:
        main(["energy", "--net", str(conv_digits_net), "--dataset", "digits", "--sweep",
              str(tmp_path / "all" / "sweep.json"), "--out", str(tmp_path / "e")])
    assert e.value.code == 2 and "--per-layer" in capsys.readouterr().err
