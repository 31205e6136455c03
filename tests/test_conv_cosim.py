"""cocotb co-simulation of conv accelerators on both simulators: bit-exact vs the golden model
at BER 0 and with write errors (both fault modes), with input gaps and output stalls,
read-back equal to the fault model, measured cycles per image vs the manifest."""
import json

import pytest

from bnnmram.gen.cli import main


def _gen(net, out, *args):
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(net), "--out", str(out)] + list(args))
    assert e.value.code == 0
    return out


@pytest.fixture(scope="module")
def conv_net(tmp_path_factory):
    """A conv BNN trained on the 8x8 digits: conv, max-pool, conv, flatten, two dense layers."""
    out = tmp_path_factory.mktemp("convnet")
    with pytest.raises(SystemExit) as e:
        main(["train", "--dataset", "digits", "--arch", "conv8k3-pool2-conv16k2-dense16-dense10",
              "--epochs", "6", "--out", str(out)])
    assert e.value.code == 0
    return out / "net.json"


@pytest.fixture(scope="module")
def conv_rtl(conv_net, tmp_path_factory):
    return _gen(conv_net, tmp_path_factory.mktemp("convrtl"))


def _sim(rtl, net, tmp_path, *args):
    out = tmp_path / "sim"
    with pytest.raises(SystemExit) as e:
        main(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "digits", "--out", str(out)]
             + list(args))
    return e.value.code, json.loads((out / "sim.json").read_text())


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("extra", [
    ["--images", "40"],
    ["--images", "40", "--ber", "0.03", "--seed", "9"],
    ["--images", "30", "--ber", "0.05", "--seed", "3", "--stalls"],
    ["--images", "20", "--fault-mode", "switch", "--rate01", "0.1", "--rate10", "0.05", "--seed", "4",
     "--stalls"],
], ids=["ber0", "ber0.03", "ber0.05-stalls", "switch-stalls"])
def test_conv_bit_exact_against_golden(conv_rtl, conv_net, tmp_path, simulator, extra):
    code, r = _sim(conv_rtl, conv_net, tmp_path, "--sim", simulator, *extra)
    assert code == 0 and r["passed"]
    assert r["mismatches"] == 0 and r["readback_mismatches"] == [] and not r["prog_error"]
    assert r["accuracy"] == r["golden_accuracy"]
    assert ("--ber" in extra or "switch" in extra) == (r["weights_flipped"] > 0)
    if "--stalls" not in extra:
        man = json.loads((conv_rtl / "manifest.json").read_text())
        assert abs(r["cycles_per_image"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
        assert man["latency_cycles"] is None
        assert r["first_result_cycle"] <= man["input"]["words_per_image"] - 1 + man["latency_cycles_max"]
        # the bound is recomputable from the manifest alone (README, latency_cycles)
        assert man["latency_cycles_max"] == man["sc_encoder_cycles"] + sum(
            l["cycles"] + l["pipeline_stages"] for l in man["layers"])


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_conv_binarized_input_and_other_folding(tmp_path, simulator):
    """Binarized input (the window stores bits), a folding where a later conv layer is the
    slowest, MRAM read latency 2: bit-exact with errors and stalls, cycles as analysed."""
    net_dir = tmp_path / "net"
    with pytest.raises(SystemExit) as e:
        main(["train", "--dataset", "digits", "--arch", "conv8k3-conv8k2-dense10", "--binarize-input",
              "--epochs", "3", "--out", str(net_dir)])
    assert e.value.code == 0
    net = net_dir / "net.json"
    rtl = _gen(net, tmp_path / "rtl", "--fold", "0:8:9", "--fold", "1:2:8", "--mram-read-latency", "2")
    man = json.loads((rtl / "manifest.json").read_text())
    slowest = max(range(len(man["layers"])), key=lambda i: man["layers"][i]["cycles"])
    assert slowest == 1 and man["layers"][1]["kind"] == "conv"
    code, r = _sim(rtl, net, tmp_path, "--sim", simulator, "--images", "20", "--ber", "0.04", "--seed", "6")
    assert code == 0 and r["passed"] and r["weights_flipped"] > 0
    assert abs(r["cycles_per_image"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
    code, r = _sim(rtl, net, tmp_path, "--sim", simulator, "--images", "15", "--ber", "0.04", "--seed", "6",
                   "--stalls")
    assert code == 0 and r["passed"]


def test_plain_cpp_harness_agrees_and_catches_a_difference(conv_rtl, conv_net, tmp_path):
    """The plain C++ Verilator harness (the speed reference) runs the same vectors bit-exactly,
    at the analytic cycles per image, and reports mismatches when the expectations are wrong."""
    import numpy as np
    from bnnmram.cosim import plain
    code, r = _sim(conv_rtl, conv_net, tmp_path, "--sim", "verilator", "--images", "12", "--ber", "0.03")
    assert code == 0
    vec = tmp_path / "sim" / "vectors.npz"
    p = plain.run(conv_rtl, vec, tmp_path / "plain")
    man = json.loads((conv_rtl / "manifest.json").read_text())
    assert p["mismatches"] == 0 and p["prog_error"] == 0 and p["images"] == 12
    assert p["cycles_per_image"] == man["cycles_per_image"]
    d = dict(np.load(vec))
    d["scores"] = d["scores"].copy()
    d["scores"][3, 0] += 1
    np.savez(tmp_path / "wrong.npz", **d)
    assert plain.run(conv_rtl, tmp_path / "wrong.npz", tmp_path / "plain2")["mismatches"] == 1


def test_energy_reads_a_conv_manifest(conv_rtl, conv_net, tmp_path):
    """`bnnmram energy --rtl` on conv RTL: one SECDED decoder per MRAM word of the weight layers
    (max-pool layers have none), no error."""
    with pytest.raises(SystemExit) as e:
        main(["energy", "--net", str(conv_net), "--rtl", str(conv_rtl), "--dataset", "digits",
              "--trials", "1", "--out", str(tmp_path / "e")])
    assert e.value.code == 0
    doc = json.loads((tmp_path / "e" / "energy.json").read_text())
    assert doc["weight_bits"] == sum(l["n_in"] * l["n_out"] for l in
                                     json.loads((conv_rtl / "manifest.json").read_text())["layers"]
                                     if l["kind"] != "maxpool")
