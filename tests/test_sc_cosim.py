"""cocotb co-simulation of sc (stochastic-input) accelerators on both simulators: bit-exact vs
the golden model at BER 0 and with write errors (both fault modes), with gaps and stalls;
cycles per image and latency as the manifest says."""
import json

import pytest

from cli_helpers import run_cli as _run


@pytest.fixture(scope="module")
def sc_mlp(tmp_path_factory):
    """(net, rtl) of a 64-32-10 MLP with 8 stochastic samples per pixel, trained on the digits."""
    out = tmp_path_factory.mktemp("scmlp")
    assert _run(["train", "--dataset", "digits", "--arch", "64-32-10", "--input", "sc", "--sc-samples", "8",
                 "--sc-seed", "77", "--epochs", "8", "--out", str(out / "net")]) == 0
    train = json.loads((out / "net" / "train.json").read_text())
    assert train["input"] == "sc" and train["sc"] == {"samples": 8, "seed": 77}
    assert train["golden_float_disagreements"] == 0
    assert _run(["gen", "--net", str(out / "net" / "net.json"), "--fold", "0:8:16", "--out", str(out / "rtl")]) == 0
    return out / "net" / "net.json", out / "rtl"


def _sim(rtl, net, tmp_path, *args):
    out = tmp_path / "sim"
    code = _run(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "digits", "--out", str(out)] + list(args))
    return code, json.loads((out / "sim.json").read_text())


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("extra", [
    ["--images", "40"],
    ["--images", "30", "--ber", "0.05", "--seed", "3", "--stalls"],
    ["--images", "20", "--fault-mode", "switch", "--rate01", "0.1", "--rate10", "0.05", "--seed", "4"],
], ids=["ber0", "ber0.05-stalls", "switch"])
def test_sc_mlp_bit_exact(sc_mlp, tmp_path, simulator, extra):
    net, rtl = sc_mlp
    code, r = _sim(rtl, net, tmp_path, "--sim", simulator, *extra)
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["accuracy"] == r["golden_accuracy"]
    assert (len(extra) > 2) == (r["weights_flipped"] > 0)
    man = json.loads((rtl / "manifest.json").read_text())
    assert man["input"]["sc"]["samples"] == 8 and man["input"]["sc"]["count_bits"] == 4
    if "--stalls" not in extra:
        assert man["cycles_per_image"] == 64      # the encoder: one pixel a cycle
        assert abs(r["cycles_per_image"] - 64) <= 0.05 * 64
        inp = man["input"]
        assert r["first_result_cycle"] == inp["words_per_image"] * inp["cycles_per_word"] - 1 + man["latency_cycles"]


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_sc_conv_bit_exact_with_errors_and_stalls(tmp_path, simulator):
    assert _run(["train", "--dataset", "digits", "--arch", "conv8k3-pool2-dense10", "--input", "sc",
                 "--sc-samples", "4", "--epochs", "3", "--out", str(tmp_path / "net")]) == 0
    net = tmp_path / "net" / "net.json"
    assert _run(["gen", "--net", str(net), "--out", str(tmp_path / "rtl")]) == 0
    man = json.loads((tmp_path / "rtl" / "manifest.json").read_text())
    code, r = _sim(tmp_path / "rtl", net, tmp_path, "--sim", simulator, "--images", "20", "--ber", "0.04",
                   "--seed", "6", "--stalls")
    assert code == 0 and r["passed"] and r["weights_flipped"] > 0 and r["readback_mismatches"] == []
    code, r = _sim(tmp_path / "rtl", net, tmp_path, "--sim", simulator, "--images", "20")
    assert code == 0 and r["passed"]
    assert abs(r["cycles_per_image"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
    assert r["first_result_cycle"] <= man["input"]["words_per_image"] - 1 + man["latency_cycles_max"]
    # the bound is recomputable from the manifest alone (README, latency_cycles)
    assert man["latency_cycles_max"] == man["sc_encoder_cycles"] + sum(
        l["cycles"] + l["pipeline_stages"] for l in man["layers"])


def test_train_refuses_contradicting_input_options(tmp_path, capsys):
    assert _run(["train", "--dataset", "digits", "--arch", "64-10", "--input", "pixel", "--sc-samples", "4",
                 "--out", str(tmp_path / "a")]) != 0
    assert "--sc-samples needs --input sc" in capsys.readouterr().err
    assert _run(["train", "--dataset", "digits", "--arch", "64-10", "--input", "sc", "--sc-samples", "3",
                 "--out", str(tmp_path / "b")]) != 0
    assert "power of two" in capsys.readouterr().err


def test_infer_sweep_and_energy_take_sc_nets(sc_mlp, tmp_path):
    """Write errors, sweeps and the energy table work for sc nets as for the others."""
    net, rtl = sc_mlp
    assert _run(["infer", "--net", str(net), "--dataset", "digits", "--ber", "0.05", "--seed", "2",
                 "--out", str(tmp_path / "i.npz")]) == 0
    assert _run(["sweep", "--net", str(net), "--dataset", "digits", "--ber", "1e-5,1e-4,...,1e-1", "--trials", "3",
                 "--out", str(tmp_path / "s")]) == 0
    doc = json.loads((tmp_path / "s" / "sweep.json").read_text())
    rows = doc["nets"][0]["per_ber"]
    assert rows[-1]["mean"] < rows[0]["mean"]          # 10 % write errors cost accuracy
    assert _run(["energy", "--net", str(net), "--rtl", str(rtl), "--dataset", "digits", "--sweep",
                 str(tmp_path / "s" / "sweep.json"), "--out", str(tmp_path / "e")]) == 0
    e = json.loads((tmp_path / "e" / "energy.json").read_text())
    assert e["weight_bits"] == 64 * 32 + 32 * 10 and e["tolerated_ber"] == doc["nets"][0]["tolerated_ber"]
