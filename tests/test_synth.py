"""`bnnmram synth` on a small design (Yosys from PyPI) and its error reporting."""
import json

import pytest

from bnnmram.gen.cli import main
from bnnmram.gen.yosys import synthesize
from bnnmram.models.errors import BnnMramError


def _gen(net_path, out):
    with pytest.raises(SystemExit):
        main(["gen", "--net", str(net_path), "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def rtl(small_net, tmp_path_factory):
    """The pixel-input 64-64-32-10 net's RTL."""
    return _gen(small_net[2], tmp_path_factory.mktemp("rtl_synth"))


@pytest.fixture(scope="module")
def bit_rtl(binarized_net, tmp_path_factory):
    """The binarized 64-32-10 net's RTL: no pixel adders, so the LUT targets map it in half the time."""
    return _gen(binarized_net[2], tmp_path_factory.mktemp("rtl_synth_bits"))


@pytest.mark.parametrize("target,key,design", [("generic", "transistors", "rtl"), ("ice40", "lut4", "bit_rtl"),
                                               ("xilinx", "lut", "bit_rtl")])
def test_synth_targets_black_box_the_mram(request, tmp_path, target, key, design):
    rtl = request.getfixturevalue(design)
    out = tmp_path / target
    with pytest.raises(SystemExit) as e:
        main(["synth", "--rtl", str(rtl), "--target", target, "--out", str(out)])
    assert e.value.code == 0
    r = json.loads((out / "synth.json").read_text())
    man = json.loads((rtl / "manifest.json").read_text())
    assert r[key] > 100 and r["flip_flops"] > 10
    assert r["mram_bits"] == man["mram_bits"] == sum(a * b for a, b in zip(man["arch"], man["arch"][1:]))
    assert set(r["black_boxes"]) == {l["mram_module"] for l in man["layers"]}
    if target == "generic":  # per-module breakdown, macros left as cells of their own
        assert any(name.endswith("layer0") for name in r["modules"])
        assert all(r["cells_by_type"].get(b) == 1 for b in r["black_boxes"])


def test_yosys_failure_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_text("module broken(input a, output b);\n  assign b = a +;\nendmodule\n")
    with pytest.raises(BnnMramError, match=r"Yosys failed \(exit code 1\): bad.v:2: ERROR: syntax error, unexpected ';' \(log"):
        synthesize(bad, "broken", tmp_path / "out", "generic", [])


def test_energy_table(small_net, rtl, tmp_path):
    sweep = tmp_path / "sweep"
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--net", str(small_net[2]), "--dataset", "digits", "--trials", "3",
              "--ber", "1e-6,1e-4,1e-3,1e-2,3e-2,1e-1", "--out", str(sweep)])
    assert e.value.code == 0
    out = tmp_path / "energy"
    with pytest.raises(SystemExit) as e:
        main(["energy", "--net", str(small_net[2]), "--rtl", str(rtl), "--sweep", str(sweep / "sweep.json"),
              "--out", str(out)])
    assert e.value.code == 0
    doc = json.loads((out / "energy.json").read_text())
    tol = json.loads((sweep / "sweep.json").read_text())["nets"][0]["tolerated_ber"]
    a, b, c, d = doc["options"]
    assert d["raw_ber"] == doc["tolerated_ber"] == tol
    assert b["memory_bits"] == a["memory_bits"] * 72 // 64 and b["ecc_logic_transistors"] > 1000
    if tol > 1e-6:
        assert doc["saving"]["programming_d_over_a"] > 1 and d["cell_area_um2"] < a["cell_area_um2"]
    assert (out / "energy.md").read_text().count("|") > 40 and (out / "energy_vs_ber.png").stat().st_size > 10_000


def test_xnor_in_memory_moves_the_xnor_gates_into_the_macro(binarized_net, tmp_path):
    """2T2R with --xnor-in-memory: the bit layers' MVTUs lose their XNOR gates (macros black-boxed)."""
    cells = {}
    for name, extra in (("plain", []), ("xnor", ["--xnor-in-memory"])):
        rtl, out = tmp_path / f"rtl_{name}", tmp_path / f"synth_{name}"
        with pytest.raises(SystemExit) as e:
            main(["gen", "--net", str(binarized_net[2]), "--memory", "rram2t2r", *extra, "--out", str(rtl)])
        assert e.value.code == 0
        with pytest.raises(SystemExit) as e:
            main(["synth", "--rtl", str(rtl), "--target", "generic", "--out", str(out)])
        assert e.value.code == 0
        r = json.loads((out / "synth.json").read_text())
        cells[name] = r
    plain, xnor = cells["plain"], cells["xnor"]
    assert xnor["transistors"] < plain["transistors"]
    assert xnor["mram_bits"] == plain["mram_bits"]
    assert xnor["flip_flops"] <= plain["flip_flops"]
