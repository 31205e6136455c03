"""From cycles to silicon on a small net: `synth --target asic` (OSU 0.18 um cells, OpenSTA) and
`pnr --target ecp5` (nextpnr) run, their reports parse, and timing is met at the reported Fmax."""
import json
import re

import pytest

from cli_helpers import run_cli
from nets import save_random_net


@pytest.fixture(scope="module")
def small_rtl(tmp_path_factory):
    out = tmp_path_factory.mktemp("silicon")
    net = save_random_net(out / "net.json", [16, 8, 4], seed=3)
    assert run_cli(["gen", "--net", net, "--fold", "0:2:8", "--fold", "1:2:4", "--mram-hash-lanes", "1", "--out", out / "rtl"]) == 0
    return out / "rtl"


def test_asic_flow(small_rtl, tmp_path):
    assert run_cli(["synth", "--rtl", small_rtl, "--target", "asic", "--out", tmp_path / "asic"]) == 0
    r = json.loads((tmp_path / "asic" / "synth.json").read_text())
    man = json.loads((small_rtl / "manifest.json").read_text())
    assert r["cells"] > 100 and r["logic_area_um2"] > 0 and r["memory_area_um2"] > 0
    assert r["die_area_um2"] == pytest.approx(r["logic_area_um2"] + r["memory_area_um2"], abs=0.2)
    assert r["timing_met"] and r["slack_at_fmax_ns"] >= 0
    assert r["fmax_mhz"] == pytest.approx(1000 / r["clock_period_ns"], rel=1e-3)
    assert r["clock_period_ns"] >= max(r["critical_path_ns"], r["memory_access_ns"])
    assert r["images_per_second"] == pytest.approx(r["fmax_mhz"] * 1e6 / man["cycles_per_image"], rel=1e-3)
    assert r["power_w"]["total"] > r["power_w"]["leakage"] > 0
    sta = (tmp_path / "asic" / "sta_fmax.txt").read_text()
    assert "slack (MET)" in sta and "VIOLATED" not in sta
    mapped = (tmp_path / "asic" / "mapped.v").read_text()
    cells = set(re.findall(r"^  (\w+) _", mapped, re.M)) - {"wire"}
    assert cells and cells <= set(re.findall(r"cell \((\w+)\)", open("/usr/share/qflow/tech/osu018/osu018_stdcells.lib").read()))


def test_fanout_buffering_keeps_every_load():
    """buffer_fanout: a flip-flop driving 20 loads drives them through buffers of <= 8 loads each."""
    from bnnmram.gen.asic import buffer_fanout
    loads = "".join(f"  INVX1 _i{k}_ (\n    .A(q),\n    .Y(y{k})\n  );\n" for k in range(20))
    text = ("module t(clk, d);\n  input clk;\n  input d;\n  wire q;\n"
            "  DFFPOSX1 _ff_ (\n    .CLK(clk),\n    .D(d),\n    .Q(q)\n  );\n" + loads + "endmodule\n")
    out, n = buffer_fanout(text)
    assert n == 3
    nets = re.findall(r"\.A\((\S+)\)", out)
    fanout = {net: nets.count(net) for net in set(nets)}
    assert fanout["q"] == 3 and all(v <= 8 for v in fanout.values())
    assert sum(v for k, v in fanout.items() if k != "q") == 20


def test_ecp5_place_and_route(small_rtl, tmp_path):
    ecp5_pnr = tmp_path / "pnr"
    assert run_cli(["pnr", "--rtl", small_rtl, "--target", "ecp5", "--device", "25k", "--freq", "12", "--out", ecp5_pnr]) == 0
    r = json.loads((ecp5_pnr / "pnr.json").read_text())
    man = json.loads((small_rtl / "manifest.json").read_text())
    assert r["timing_met"] and r["fmax_mhz"] >= r["constraint_mhz"] > 0
    assert r["utilization"]["TRELLIS_COMB"]["used"] > 0
    assert r["images_per_second"] == pytest.approx(min(r["fmax_mhz"], r["constraint_mhz"]) * 1e6 / man["cycles_per_image"], rel=1e-3)
    report = json.loads((ecp5_pnr / "report.json").read_text())
    assert min(v["achieved"] for v in report["fmax"].values()) == pytest.approx(r["fmax_mhz"], abs=0.01)
    path = r["critical_path"]   # the worst path's delay is the clock period nextpnr reports
    assert 1000 / path["delay_ns"] == pytest.approx(r["fmax_mhz"], rel=0.02)
    assert path["logic_ns"] > 0 and path["routing_ns"] > 0 and path["logic_steps"] > 0
    assert path["from"] and path["to"]


def test_ice40_place_and_route_behind_the_scan_wrapper(small_rtl, tmp_path, capsys):
    """iCE40 behind the scan wrapper; then a re-run with another seed and router into the same
    folder skips Yosys and keeps the netlist (its key: the Verilog, the script, Yosys's version)."""
    from bnnmram.gen.steps.pnr import netlist_key
    out = tmp_path / "pnr"
    assert run_cli(["pnr", "--rtl", small_rtl, "--target", "ice40", "--device", "hx8k", "--freq", "12",
                    "--out", out]) == 0
    r = json.loads((out / "pnr.json").read_text())
    man = json.loads((small_rtl / "manifest.json").read_text())
    assert r["device"] == "iCE40HX8K-CT256" and not r["out_of_context"]
    assert r["timing_met"] and r["fmax_mhz"] >= r["constraint_mhz"] > 0
    assert r["utilization"]["SB_IO"]["used"] == 4 and r["utilization"]["ICESTORM_LC"]["used"] > 0
    ins = sum(p["width"] for p in man["ports"] if p["direction"] == "input" and p["name"] != man["clock"])
    outs = sum(p["width"] for p in man["ports"] if p["direction"] == "output")
    assert r["scan_wrapper"] == {"input_bits": ins, "output_bits": outs}
    assert "module scan_wrap" in (out / "scan_wrap.v").read_text()
    report = json.loads((out / "report.json").read_text())
    assert min(v["achieved"] for v in report["fmax"].values()) == pytest.approx(r["fmax_mhz"], abs=0.01)
    netlist, key = (out / "netlist.json").read_bytes(), (out / "netlist.sha256").read_text().strip()
    assert "Yosys skipped" not in capsys.readouterr().out
    assert run_cli(["pnr", "--rtl", small_rtl, "--target", "ice40", "--freq", "12", "--seed", "2",
                    "--router", "router1", "--out", out]) == 0
    assert "Yosys skipped" in capsys.readouterr().out
    r = json.loads((out / "pnr.json").read_text())
    assert (r["seed"], r["router"]) == (2, "router1") and r["timing_met"]
    assert (out / "netlist.json").read_bytes() == netlist and (out / "netlist.sha256").read_text().strip() == key
    (tmp_path / "a.v").write_text("module a; endmodule\n")
    k1 = netlist_key(tmp_path, ["a.v"], "synth_ecp5\n")
    assert k1 != netlist_key(tmp_path, ["a.v"], "synth_ice40\n")
    (tmp_path / "a.v").write_text("module a; wire w; endmodule\n")
    assert k1 != netlist_key(tmp_path, ["a.v"], "synth_ecp5\n")


def test_scan_wrapper_reaches_every_port_bit(tmp_path):
    """Icarus: bits shifted in LSB first land on the core's inputs (packed from bit 0 in port
    order); one capture cycle loads the outputs, which shift out LSB first."""
    import subprocess
    from bnnmram.gen.scan_wrapper import scan_wrapper
    man = {"top": "toy", "clock": "clk", "ports": [
        {"name": "clk", "direction": "input", "width": 1}, {"name": "a", "direction": "input", "width": 3},
        {"name": "y", "direction": "output", "width": 6}, {"name": "b", "direction": "input", "width": 5},
        {"name": "z", "direction": "output", "width": 1}]}
    text, bits = scan_wrapper(man)
    assert bits == {"input_bits": 8, "output_bits": 7}
    toy = ("module toy(input clk, input [2:0] a, input [4:0] b, output [5:0] y, output z);\n"
           "  assign y = a * b; assign z = a[0] ^ b[4];\nendmodule\n")
    a, b = 5, 19
    word = a | (b << 3)
    tb = f"""module tb; reg clk = 0, en = 1, si = 0; wire so; integer i; reg [6:0] got;
  scan_wrap w(.clk(clk), .scan_en(en), .scan_in(si), .scan_out(so));
  task tick; begin #1 clk = 1; #1 clk = 0; end endtask
  initial begin
    for (i = 0; i < 8; i = i + 1) begin si = ({word} >> i) & 1; tick; end
    en = 0; tick; en = 1;
    for (i = 0; i < 7; i = i + 1) begin got[i] = so; tick; end
    $display("GOT %0d", got); $finish;
  end
endmodule
"""
    (tmp_path / "w.v").write_text(text + toy + tb)
    subprocess.run(["iverilog", "-o", str(tmp_path / "w.vvp"), str(tmp_path / "w.v")], check=True)
    out = subprocess.run(["vvp", "-n", str(tmp_path / "w.vvp")], capture_output=True, text=True, check=True).stdout
    y, z = (a * b) & 63, (a & 1) ^ (b >> 4)
    assert f"GOT {y | (z << 6)}" in out


def test_shared_readback_puts_each_macro_array_in_one_block_ram_copy(tmp_path):
    """`gen --mram-shared-readback`: pnr's Yosys script maps a macro of 2048 words of 24 bits to
    the DP16KD blocks its geometry needs (2048 x 9 bits per block: 3 for the weights, 3 for the
    24-bit write counters), not a copy per read port; its read-back still reads what was written
    (test_hdl's shared cases)."""
    from amaranth.back import verilog
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from bnnmram.gen.bram_fold import macro_blocks
    from bnnmram.gen.steps.pnr import synth_script
    from bnnmram.gen.yosys import _run_yosys
    from bnnmram.hdl.memory.macro import MramMacro

    class Layer(wiring.Component):   # the macro as a submodule `mram`, as in the accelerator
        def __init__(self):
            self.mram = MramMacro(layer=0, pe=1, simd=24, sf=4, depth=2048, hash_lanes=1, hash_stages=4,
                                  shared_readback=True)
            super().__init__(self.mram.signature)

        def elaborate(self, platform):
            m = Module()
            m.submodules.mram = self.mram
            wiring.connect(m, wiring.flipped(self), self.mram)
            return m

    (tmp_path / "layer.v").write_text(verilog.convert(Layer(), name="layer"))
    _run_yosys(tmp_path, synth_script("ecp5", ["layer.v"], "layer", shared_readback=True))
    stat = (tmp_path / "stat.txt").read_text()
    assert int(re.search(r"(\d+)\s+DP16KD", stat).group(1)) == 3 + 3 == macro_blocks(2048, 24)   # gen.bram_fold's estimate
