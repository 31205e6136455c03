"""Read errors at each inference, defined once (docs/fault-model.md) and built into hardware:
the documented known answers, the macro's flip logic against the definition, `gen --read-errors`
+ `sim --read-ber` bit-exact on both simulators (MLP and conv, with write errors and stalls),
and the refusals."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli, run_cli_err, snapshot
from nets import bayesian, random_net
from test_faults import _documented_hash as _doc_hash

DOC = Path(__file__).resolve().parents[1] / "docs" / "fault-model.md"


def test_known_answers_in_docs():
    """Each row of the docs' table from the docs' formula alone, and from the model."""
    from bnnmram.models.faults.read_errors import read_flips
    text = DOC.read_text()
    section = text[text.index("## Read errors at each inference"):text.index("## Resistive cells")]
    key = int(re.search(r"hash\(seed \^ (0x[0-9A-Fa-f]{8})", section).group(1), 16)
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) \| (0x\w+) \| (\d+) \| ([01]) \|$",
                      section, re.M)
    assert len(rows) >= 6
    for seed, layer, neuron, index, n, ber, h, t, flip in rows:
        seed, layer, neuron, index, n = map(int, (seed, layer, neuron, index, n))
        got_h = _doc_hash(seed ^ key, layer, neuron, index, n % 2**24)
        assert got_h == int(h, 16) and round(float(ber) * 2**32) == int(t) and int(got_h < int(t)) == int(flip)
        model = read_flips((neuron + 1, index + 1), layer, seed, float(ber), n)
        assert int(model[neuron, index]) == int(flip)


def test_flip_logic_equals_the_definition():
    """hdl.sampler.read_flip (Amaranth simulator) against models.faults.read_errors."""
    from amaranth.hdl import Module, Signal
    from amaranth.sim import Simulator
    from bnnmram.hdl.sampler import read_flip
    from bnnmram.models.faults.read_errors import read_flips
    m = Module()
    seed, t, j, i, r = Signal(32), Signal(33), Signal(16), Signal(16), Signal(24)
    flip = Signal()
    m.d.comb += flip.eq(read_flip(m, "x", seed, t, 6, j, i, r))
    rng = np.random.default_rng(3)
    cases = [(int(s), float(b), int(jj), int(ii), int(n)) for s, b, jj, ii, n in
             zip(rng.integers(0, 2**32, 60), rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], 60),
                 rng.integers(0, 300, 60), rng.integers(0, 300, 60), rng.integers(0, 2**24, 60))]
    got = []

    async def tb(ctx):
        for s, b, jj, ii, n in cases:
            for port, v in ((seed, s), (t, round(b * 2**32)), (j, jj), (i, ii), (r, n)):
                ctx.set(port, v)
            await ctx.delay(1e-9)
            got.append(ctx.get(flip))
    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    want = [int(read_flips((jj + 1, ii + 1), 6, s, b, n)[jj, ii]) for s, b, jj, ii, n in cases]
    assert got == want and 0 < sum(got) < len(got)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """(net, rtl) of a 64-32-10 MLP trained on the digits, generated with read errors."""
    out = tmp_path_factory.mktemp("readerr")
    assert run_cli(["train", "--dataset", "digits", "--arch", "64-32-10", "--epochs", "4", "--out", out / "net"]) == 0
    net = out / "net" / "net.json"
    assert run_cli(["gen", "--net", net, "--fold", "0:4:16", "--fold", "1:2:8", "--read-errors",
                    "--out", out / "rtl"]) == 0
    return net, out / "rtl"


def _sim(rtl, net, out, *args):
    code = run_cli(["sim", "--rtl", rtl, "--net", net, "--dataset", "digits", "--out", out] + list(args))
    return code, json.loads((out / "sim.json").read_text())


def test_manifest_of_a_design_with_read_errors(mlp):
    _, rtl = mlp
    man = json.loads((rtl / "manifest.json").read_text())
    assert man["mram"]["read_errors"] is True and man["read_errors"]["threshold_port"] == "fault__t_read"
    assert {"name": "fault__t_read", "width": 33} in [{k: p[k] for k in ("name", "width")} for p in man["ports"]]
    assert man["fault_ports"]["t_read"] == "fault__t_read"
    assert "fault__t_read" in (rtl / "bnn_accel.v").read_text()


@pytest.mark.parametrize("simulator,extra", [
    ("verilator", ["--images", "60", "--read-ber", "0.05", "--ber", "0.01", "--seed", "4", "--stalls"]),
    ("icarus", ["--images", "6", "--read-ber", "0.08", "--seed", "2", "--stalls"]),
], ids=["verilator-stalls", "icarus-stalls"])
def test_mlp_read_errors_bit_exact(mlp, tmp_path, simulator, extra):
    net, rtl = mlp
    code, r = _sim(rtl, net, tmp_path / "sim", "--sim", simulator, *extra)
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["accuracy"] == r["golden_accuracy"]
    # the read errors changed the expected scores: the hardware matched them, not the clean net
    k = extra.index("--read-ber")
    without_reads = [a for a in extra[:k] + extra[k + 2:] if a != "--stalls"]
    code0, r0 = _sim(rtl, net, tmp_path / "sim0", "--sim", "verilator", *without_reads)
    assert code0 == 0 and r0["mismatches"] == 0
    with_errors, without = np.load(tmp_path / "sim" / "vectors.npz"), np.load(tmp_path / "sim0" / "vectors.npz")
    assert (with_errors["scores"] != without["scores"]).any(1).mean() > 0.5
    assert int(with_errors["fault"][list(with_errors["fault_names"]).index("t_read")]) == \
        round(float(extra[extra.index("--read-ber") + 1]) * 2**32)


def test_conv_read_errors_bit_exact(tmp_path):
    """A conv net reads each weight at every output position: one flip per image, every position."""
    assert run_cli(["train", "--dataset", "digits", "--arch", "conv8k3-pool2-conv16k2-dense16-dense10",
                    "--epochs", "2", "--out", tmp_path / "net"]) == 0
    net = tmp_path / "net" / "net.json"
    assert run_cli(["gen", "--net", net, "--read-errors", "--out", tmp_path / "rtl"]) == 0
    code, r = _sim(tmp_path / "rtl", net, tmp_path / "sim", "--images", "12", "--read-ber", "0.05",
                   "--ber", "0.02", "--stalls")
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["accuracy"] == r["golden_accuracy"]


def _refused(capsys, tmp_path, argv, sub, expect):
    before = snapshot(tmp_path)
    code, err = run_cli_err(capsys, argv)
    assert_one_line_error(code, err, sub, expect)
    assert snapshot(tmp_path) == before


def test_refusals(capsys, tmp_path, mlp):
    from bnnmram.models.net import netfile
    net, rtl = mlp
    det = tmp_path / "det.json"
    netfile.save(random_net([64, 16, 10], seed=1), det)
    bayes = tmp_path / "bayes.json"
    netfile.save(bayesian(random_net([64, 16, 10], seed=1)), bayes)
    _refused(capsys, tmp_path, ["gen", "--net", det, "--read-errors", "--memory", "rram", "--out", tmp_path / "r"],
             "gen", "not --memory rram")
    _refused(capsys, tmp_path, ["gen", "--net", bayes, "--read-errors", "--out", tmp_path / "r"],
             "gen", "not a Bayesian net")
    _refused(capsys, tmp_path, ["sim", "--rtl", rtl, "--net", net, "--dataset", "digits", "--read-ber", "1.5",
                                "--out", tmp_path / "s"], "sim", "1.5")
    plain = tmp_path / "plain"
    assert run_cli(["gen", "--net", det, "--out", plain]) == 0
    _refused(capsys, tmp_path, ["sim", "--rtl", plain, "--net", det, "--dataset", "digits", "--read-ber", "0.01",
                                "--out", tmp_path / "s"], "sim", "--read-ber needs RTL built with read errors")
