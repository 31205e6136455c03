"""The AXI4-Stream top (`gen --bus axis`): status bits in the Amaranth simulator (programmed,
framing errors), the manifest's AXI4-Stream contract, and cocotbext-axi regressions on both
simulators, bit-exact, with pause generators, at the analytic rate without them."""
import json

import numpy as np
import pytest

from cli_helpers import run_cli
from nets import random_net, save_random_net
from sim_helpers import run_to_end


def test_status_bits_in_the_amaranth_simulator():
    """programmed rises once the tlast burst is written and falls with the next prog word;
    framing_error stays low for well-framed images and sticks once a tlast is misplaced."""
    from bnnmram.hdl.axis import STATUS_BITS, AxisAccelerator
    from bnnmram.hdl.net_folding import fold_net
    from bnnmram.cosim.payloads import prog_words
    from bnnmram.hdl.generate import input_section
    net = random_net([16, 8, 4], seed=2)
    folds = fold_net(net, None, None, {0: (2, 4)})   # 4 words per image
    wpi = input_section(net, folds)["words_per_image"]
    dut = AxisAccelerator(net, folds, words_per_image=wpi)
    man = {"prog": {"layer_bits": dut.core.layer_bits, "addr_bits": dut.core.addr_bits},
           "layers": [{"index": i, "kind": "dense", "n_in": l.n_in, "n_out": l.n_out, "pe": f.pe, "simd": f.simd}
                      for i, (l, f) in enumerate(zip(net.layers, folds))]}
    words = prog_words(man, [l.weights for l in net.layers])
    seen = {}

    def bit(ctx, name):
        return (ctx.get(dut.status) >> STATUS_BITS[name]) & 1

    async def send(ctx, valid, ready, data, last, d, t):
        ctx.set(data, d)
        ctx.set(last, t)
        ctx.set(valid, 1)
        await ctx.tick().until(ready)
        ctx.set(valid, 0)

    async def tb(ctx):
        ctx.set(dut.m_axis_tready, 1)
        for k, w in enumerate(words):
            await send(ctx, dut.s_axis_prog_tvalid, dut.s_axis_prog_tready, dut.s_axis_prog_tdata,
                       dut.s_axis_prog_tlast, w, int(k == len(words) - 1))
        seen["programmed_at_once"] = bit(ctx, "programmed")
        for _ in range(40):
            await ctx.tick()
        seen["programmed"] = bit(ctx, "programmed")
        await send(ctx, dut.s_axis_prog_tvalid, dut.s_axis_prog_tready, dut.s_axis_prog_tdata,
                   dut.s_axis_prog_tlast, words[0], 0)
        seen["programmed_after_next_word"] = bit(ctx, "programmed")
        for _ in range(40):
            await ctx.tick()
        for k in range(wpi):    # a well-framed image
            await send(ctx, dut.s_axis_tvalid, dut.s_axis_tready, dut.s_axis_tdata, dut.s_axis_tlast, 1, int(k == wpi - 1))
        await ctx.tick()
        seen["framing_ok"] = bit(ctx, "framing_error")
        for k in range(wpi):    # tlast one word early
            await send(ctx, dut.s_axis_tvalid, dut.s_axis_tready, dut.s_axis_tdata, dut.s_axis_tlast, 1, int(k == wpi - 2))
        await ctx.tick()
        seen["framing_bad"] = bit(ctx, "framing_error")
    run_to_end(dut, tb)
    assert wpi >= 2
    assert seen == {"programmed_at_once": 0, "programmed": 1, "programmed_after_next_word": 0,
                    "framing_ok": 0, "framing_bad": 1}


@pytest.fixture(scope="module")
def axis_mlp(tmp_path_factory):
    out = tmp_path_factory.mktemp("axis")
    net = save_random_net(out / "net.json", [64, 32, 10], seed=5)
    assert run_cli(["gen", "--net", net, "--bus", "axis", "--fold", "0:4:16", "--fold", "1:2:8", "--out", out / "rtl"]) == 0
    return net, out / "rtl"


def test_manifest_describes_the_axis_ports(axis_mlp):
    _, rtl = axis_mlp
    man = json.loads((rtl / "manifest.json").read_text())
    ports = {p["name"]: p["width"] for p in man["ports"]}
    assert man["bus"] == "axis" and man["streams"]["input"]["last"] == "s_axis_tlast"
    for prefix in ("s_axis", "m_axis", "s_axis_prog"):
        assert ports[f"{prefix}_tdata"] % 8 == 0 and ports[f"{prefix}_tvalid"] == ports[f"{prefix}_tlast"] == 1
    assert ports["status"] == 4 and set(man["axis"]["status"]) == {"prog_error", "prog_busy", "framing_error", "programmed"}
    assert man["input"]["port"] == "s_axis_tdata" and ports["s_axis_tdata"] == 8 * man["input"]["bytes_per_word"]


def _sim(rtl, net, out, dataset, *args):
    code = run_cli(["sim", "--rtl", rtl, "--net", net, "--dataset", dataset, "--out", out] + list(args))
    return code, json.loads((out / "sim.json").read_text())


@pytest.mark.parametrize("simulator,extra", [
    ("verilator", ["--images", "40", "--ber", "0.02", "--seed", "3"]),
    ("verilator", ["--images", "40", "--ber", "0.02", "--seed", "4", "--stalls"]),
    ("icarus", ["--images", "8", "--ber", "0.02", "--seed", "5", "--stalls"]),
], ids=["verilator", "verilator-stalls", "icarus-stalls"])
def test_axis_mlp_bit_exact_with_cocotbext_axi(axis_mlp, tmp_path, simulator, extra):
    net, rtl = axis_mlp
    code, r = _sim(rtl, net, tmp_path / "sim", "digits", "--sim", simulator, *extra)
    assert code == 0 and r["passed"] and r["bus"] == "axis"
    assert r["mismatches"] == 0 and r["readback_mismatches"] == [] and r["weights_flipped"] > 0
    assert r["status_programmed"] == 1 and r["framing_error"] == 0
    if "--stalls" not in extra:   # at the analytic rate
        assert abs(r["cycles_per_image"] - r["cycles_per_image_analytic"]) <= 0.05 * r["cycles_per_image_analytic"]
    vec = np.load(tmp_path / "sim" / "vectors.npz")
    assert len(set(vec["pred"].tolist())) > 1   # the results carry information


def test_axis_conv_bit_exact(tmp_path):
    from nets import random_conv_net
    from bnnmram.models.net import netfile
    net = netfile.save(random_conv_net(seed=6, shape=(8, 8, 1)), tmp_path / "net.json")
    assert run_cli(["gen", "--net", net, "--bus", "axis", "--out", tmp_path / "rtl"]) == 0
    code, r = _sim(tmp_path / "rtl", net, tmp_path / "sim", "digits", "--images", "12", "--ber", "0.03", "--stalls")
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["framing_error"] == 0


def test_axis_refuses_a_bayesian_net(tmp_path, capsys):
    from cli_helpers import assert_one_line_error, run_cli_err, snapshot
    from nets import bayesian
    from bnnmram.models.net import netfile
    netfile.save(bayesian(random_net([64, 16, 10])), tmp_path / "b.json")
    before = snapshot(tmp_path)
    code, err = run_cli_err(capsys, ["gen", "--net", tmp_path / "b.json", "--bus", "axis", "--out", tmp_path / "rtl"])
    assert_one_line_error(code, err, "gen", "--bus axis")
    assert snapshot(tmp_path) == before
