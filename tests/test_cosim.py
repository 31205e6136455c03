"""cocotb co-simulation on both simulators: bit-exact vs golden, with and without injected
errors, with stalls; measured throughput and latency vs the manifest's analytic figures."""
import json

import pytest

from bnnmram.gen.cli import main


@pytest.fixture(scope="module")
def rtl(small_net, tmp_path_factory):
    out = tmp_path_factory.mktemp("rtl")
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(small_net[2]), "--fold", "0:8:16", "--out", str(out)])
    assert e.value.code == 0
    return out


@pytest.fixture(scope="module")
def rtl_switch(small_net, tmp_path_factory):
    out = tmp_path_factory.mktemp("rtl_switch")
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(small_net[2]), "--mram-init", "1", "--mram-read-latency", "2",
              "--mram-hash-stages", "4", "--datapath-stage", "--mram-shared-readback", "--out", str(out)])
    assert e.value.code == 0
    return out


def _sim(rtl, net, tmp_path, *args):
    out = tmp_path / "sim"
    with pytest.raises(SystemExit) as e:
        main(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "digits", "--out", str(out)]
             + list(args))
    result = json.loads((out / "sim.json").read_text())
    return e.value.code, result


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("extra", [
    ["--images", "60"],
    ["--images", "60", "--ber", "0.02", "--seed", "9"],
    ["--images", "40", "--ber", "0.05", "--seed", "3", "--stalls"],
], ids=["ber0", "ber0.02", "ber0.05-stalls"])
def test_bit_exact_against_golden(rtl, small_net, tmp_path, simulator, extra):
    code, r = _sim(rtl, small_net[2], tmp_path, "--sim", simulator, *extra)
    assert code == 0 and r["passed"]
    assert r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["accuracy"] == r["golden_accuracy"]
    assert ("--ber" in extra) == (r["weights_flipped"] > 0)
    man = json.loads((rtl / "manifest.json").read_text())
    # the write counters read back: every word of every weight layer written exactly once
    assert r["write_counts"] == {"1": sum(l.get("mram_words", 0) for l in man["layers"])}
    assert r["endurance"]["writes_per_word_max"] == 1
    if "--stalls" not in extra:
        assert abs(r["cycles_per_image"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
        assert r["first_result_cycle"] == man["input"]["words_per_image"] - 1 + man["latency_cycles"]


def test_stall_rates_are_parameters_of_the_bench(rtl, small_net, tmp_path):
    """--gap-rate/--stall-rate set the pause generators: 0 and 0 leave the analytic pace, heavy
    gaps slow the stream, and every result stays bit-exact (the RTL's build is shared)."""
    man = json.loads((rtl / "manifest.json").read_text())
    runs = {}
    for name, rates in (("off", ["0", "0"]), ("heavy", ["200", "128"])):
        code, r = _sim(rtl, small_net[2], tmp_path / name, "--sim", "verilator", "--images", "30", "--stalls",
                       "--gap-rate", rates[0], "--stall-rate", rates[1])
        assert code == 0 and r["mismatches"] == 0
        assert [r["gap_per256"], r["stall_per256"]] == [int(v) for v in rates]
        runs[name] = r["cycles_per_image"]
    assert abs(runs["off"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
    assert runs["heavy"] > 1.5 * runs["off"]


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_failure_to_switch_mode(rtl_switch, small_net, tmp_path, simulator):
    """Switch-mode errors through the write-error hash pipelined over 4 cycles (gen
    --mram-hash-stages 4), in a datapath with one more register per layer (--datapath-stage), read
    back through the write path's port (--mram-shared-readback; the FPGA emulation's options): the
    stored words read back as the fault model's, bit-exact inference; each write's pulse is 4
    cycles longer; rate and latency as the manifest states."""
    man = json.loads((rtl_switch / "manifest.json").read_text())
    assert man["mram"]["hash_stages"] == 4 and man["mram"]["datapath_stage"] == 1
    assert man["mram"]["shared_readback"] and "shares read-back" in man["interface"]["read_back"]
    for layer in man["layers"]:
        assert layer["mram_pulse_cycles"] == max(4, layer["pe"] * layer["simd"] // layer["mram_hash_lanes"] + 4)
    code, r = _sim(rtl_switch, small_net[2], tmp_path, "--sim", simulator, "--images", "30",
                   "--fault-mode", "switch", "--rate01", "0.0", "--rate10", "0.1", "--init-state", "1",
                   "--seed", "4")
    assert code == 0 and r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["weights_flipped"] > 0
    assert abs(r["cycles_per_image"] - man["cycles_per_image"]) <= 0.05 * man["cycles_per_image"]
    assert r["first_result_cycle"] == man["input"]["words_per_image"] - 1 + man["latency_cycles"]


def test_injected_hardware_difference_is_caught(rtl, small_net, tmp_path, monkeypatch):
    """The scoreboard fails when the fault model and the hardware disagree: predict errors for
    another seed than the hardware uses."""
    import bnnmram.cosim.vectors as vectors
    real = vectors.write

    def wrong_seed(path, net, images, labels, cfg, *more):
        out = real(path, net, images, labels, cfg, *more)
        import numpy as np
        d = dict(np.load(out))
        d["fault"][0] += 1  # hardware gets seed+1, expectations are for seed
        np.savez(out, **d)
        return out
    monkeypatch.setattr(vectors, "write", wrong_seed)
    code, r = _sim(rtl, small_net[2], tmp_path, "--sim", "verilator", "--images", "20",
                   "--ber", "0.05")
    assert code == 1 and not r["passed"]
    assert r["readback_mismatches"] and r["readback_mismatches"][0]["bits"] > 0


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_binarized_input_net(binarized_net, tmp_path, simulator):
    rtl = tmp_path / "rtl"
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(binarized_net[2]), "--out", str(rtl)])
    assert e.value.code == 0
    code, r = _sim(rtl, binarized_net[2], tmp_path, "--sim", simulator, "--images", "30",
                   "--ber", "0.03", "--seed", "2", "--stalls")
    assert code == 0 and r["mismatches"] == 0 and r["readback_mismatches"] == [] and r["weights_flipped"] > 0


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_one_word_per_layer_folding(small_net, tmp_path, simulator):
    """The shapes that used to make 0-bit wires stay bit-exact: a one-word pixel buffer (layer
    0, SF=1), one synapse fold (layer 1, SF=1) and a one-word layer (layer 2: one MRAM word,
    one threshold row, NF=SF=1)."""
    rtl = tmp_path / "rtl"
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(small_net[2]), "--fold", "0:4:64", "--fold", "1:1:64",
              "--fold", "2:10:32", "--out", str(rtl)])
    assert e.value.code == 0
    code, r = _sim(rtl, small_net[2], tmp_path, "--sim", simulator, "--images", "12",
                   "--ber", "0.03", "--seed", "5", "--stalls")
    assert code == 0 and r["mismatches"] == 0 and r["readback_mismatches"] == [] and r["weights_flipped"] > 0

