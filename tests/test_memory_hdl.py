"""Resistive-memory macros in hardware: the 1T1R and 2T2R macros against the device model in
the Amaranth simulator (several hash-lane counts, re-programming), whole accelerators in cocotb
on both simulators with stalls and lint-clean RTL, and the command line's refusals."""
import json

import numpy as np
import pytest

from cli_helpers import run_cli
from bnnmram.hdl.folding import check_fold, pack_words, unpack_words
from bnnmram.hdl.memory.macro import MramMacro
from bnnmram.models.faults.model import stored_bits
from bnnmram.models.memory import technology
from sim_helpers import program_and_dump as _program


@pytest.mark.parametrize("memory,lanes,rounds,stages", [("rram", 6, 1, 0), ("rram", 1, 2, 0), ("rram2t2r", 3, 1, 0),
                                                        ("rram2t2r", 2, 2, 0), ("rram", 3, 2, 4), ("rram2t2r", 2, 1, 2)])
def test_resistive_macro_matches_device_model(memory, lanes, rounds, stages):
    tech = technology(memory)
    cfg = tech.fault_config(tech.condition(compliance_ua=5, reset_v=0.65), 13)
    f = check_fold(1, 24, 6, pe=3, simd=6)
    w = np.random.default_rng(2).integers(0, 2, (6, 24), dtype=np.uint8)
    macro = MramMacro(layer=1, pe=3, simd=6, sf=f.sf, depth=f.words, hash_lanes=lanes, write_cycles=2,
                      memory=memory, hash_stages=stages)
    got = unpack_words(_program(macro, pack_words(w, f), cfg, rounds), f)
    want = stored_bits(w, 1, cfg, write=rounds - 1)
    assert np.array_equal(got, want)
    assert (got != w).any()


@pytest.fixture(scope="module", params=["rram", "rram2t2r"])
def resistive_rtl(request, small_net, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"rtl_{request.param}")
    assert run_cli(["gen", "--net", str(small_net[2]), "--fold", "0:8:16", "--memory", request.param,
                    "--out", str(out)]) == 0
    return request.param, out


def _sim(rtl, net, out, *args):
    code = run_cli(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "digits", "--out", str(out), *args])
    return code, json.loads((out / "sim.json").read_text())


COND = {"rram": ["--compliance-ua", "6", "--reset-v", "0.7"], "rram2t2r": ["--compliance-ua", "5", "--reset-v", "0.65"]}


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_resistive_accelerator_bit_exact(resistive_rtl, small_net, tmp_path, simulator):
    memory, rtl = resistive_rtl
    man = json.loads((rtl / "manifest.json").read_text())
    assert man["memory"]["technology"] == memory
    assert [p["name"] for p in man["memory"]["fault_ports"]][:3] == ["seed", "set_mu", "set_sigma"]
    runs = [COND[memory] + ["--images", "20", "--stalls", "--seed", "3"], ["--images", "12", "--ber", "0.02"],
            ["--images", "6", "--ber", "0"]]
    for k, extra in enumerate(runs):
        code, r = _sim(rtl, small_net[2], tmp_path / f"s{k}", "--sim", simulator, *extra)
        assert code == 0 and r["passed"], r.get("mismatch_details")
        assert r["mismatches"] == 0 and r["readback_mismatches"] == []
        assert (r["weights_flipped"] > 0) == ("0" not in extra)
        if "--stalls" not in extra:
            assert r["cycles_per_image"] == man["cycles_per_image"]


def test_resistive_cli_refusals(resistive_rtl, small_net, tmp_path, capsys):
    memory, rtl = resistive_rtl
    net = str(small_net[2])
    cases = [
        (["sim", "--rtl", str(rtl), "--net", net, "--dataset", "digits", "--memory", "stmram", "--out", str(tmp_path / "a")],
         f"generated for --memory {memory}, not stmram"),
        (["sim", "--rtl", str(rtl), "--net", net, "--dataset", "digits", "--write-ua", "100", "--out", str(tmp_path / "b")],
         "--write-ua is not a programming condition"),
        (["infer", "--net", net, "--dataset", "digits", "--memory", memory, "--fault-mode", "switch",
          "--out", str(tmp_path / "c.npz")], "ST-MRAM's"),
        (["infer", "--net", net, "--dataset", "digits", "--memory", memory, "--ber", "0.1", "--compliance-ua", "9",
          "--out", str(tmp_path / "d.npz")], "not both"),
        (["infer", "--net", net, "--dataset", "digits", "--memory", memory, "--reset-v", "5",
          "--out", str(tmp_path / "e.npz")], "outside the"),
        (["infer", "--net", net, "--dataset", "digits", "--memory", memory, "--reset-v", "-1",
          "--out", str(tmp_path / "f.npz")], "must be a positive number"),
        (["infer", "--net", net, "--dataset", "digits", "--memory", "pcm", "--out", str(tmp_path / "g.npz")],
         "invalid choice: 'pcm'"),
        (["sweep", "--net", net, "--dataset", "digits", "--memory", memory, "--read-errors", "--out", str(tmp_path / "h")],
         "--read-errors is modelled for ST-MRAM only"),
        (["sweep", "--net", net, "--dataset", "digits", "--memory", memory, "--compliance-ua", "5,,7",
          "--out", str(tmp_path / "i")], "comma list of positive numbers"),
    ]
    for argv, words in cases:
        code = run_cli(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code in (1, 2) and len(err) == 1 and words in err[0], (argv, err)


def test_condition_sweep_reports_energy(small_net, tmp_path):
    out = tmp_path / "sw"
    assert run_cli(["sweep", "--net", str(small_net[2]), "--dataset", "digits", "--memory", "rram2t2r",
                    "--compliance-ua", "5,10", "--reset-v", "0.65,0.8", "--trials", "2", "--out", str(out)]) == 0
    doc = json.loads((out / "sweep.json").read_text())
    rows = doc["nets"][0]["per_ber"]
    assert doc["memory"] == "rram2t2r" and len(rows) == 4
    assert [r["ber"] for r in rows] == sorted(r["ber"] for r in rows)
    assert all(r["energy_pj_per_bit"] > 0 for r in rows)
    assert rows[0]["mean"] >= rows[-1]["mean"]
    assert "energy_pj_per_bit" in (out / "sweep.csv").read_text().splitlines()[0]


@pytest.fixture(scope="module")
def xnor_rtl(binarized_net, tmp_path_factory):
    """2T2R RTL of the binarized net with XNOR in the sense amplifier, read latency 2."""
    out = tmp_path_factory.mktemp("rtl_xnor")
    assert run_cli(["gen", "--net", str(binarized_net[2]), "--fold", "0:4:16", "--memory", "rram2t2r",
                    "--xnor-in-memory", "--mram-read-latency", "2", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_xnor_in_memory_bit_exact(xnor_rtl, binarized_net, tmp_path, simulator):
    man = json.loads((xnor_rtl / "manifest.json").read_text())
    assert man["mram"]["xnor_in_memory"] and all(l["mram_xnor_in_memory"] for l in man["layers"])
    for k, extra in enumerate([COND["rram2t2r"] + ["--images", "25", "--stalls", "--seed", "5"],
                               ["--images", "15", "--ber", "0.03"]]):
        code, r = _sim(xnor_rtl, binarized_net[2], tmp_path / f"s{k}", "--sim", simulator, *extra)
        assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["readback_mismatches"] == []
        assert r["weights_flipped"] > 0
        if "--stalls" not in extra:
            assert r["cycles_per_image"] == man["cycles_per_image"]


def test_xnor_in_memory_only_where_it_means_something(small_net, tmp_path, capsys):
    """The pixel layer keeps its +-pixel datapath; the bit layers sense XNOR; 1T1R refuses."""
    out = tmp_path / "rtl"
    assert run_cli(["gen", "--net", str(small_net[2]), "--memory", "rram2t2r", "--xnor-in-memory",
                    "--out", str(out)]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert [l["mram_xnor_in_memory"] for l in man["layers"]] == [False, True, True]
    # Icarus: no C++ build for this one-off design (test_xnor_in_memory_bit_exact runs both simulators)
    code, r = _sim(out, small_net[2], tmp_path / "s", "--sim", "icarus", "--images", "12", "--ber", "0.05")
    assert code == 0 and r["mismatches"] == 0 and r["weights_flipped"] > 0
    capsys.readouterr()
    assert run_cli(["gen", "--net", str(small_net[2]), "--memory", "rram", "--xnor-in-memory",
                    "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--xnor-in-memory needs the differential 2T2R cell" in err[0]
    assert not (tmp_path / "bad").exists()
