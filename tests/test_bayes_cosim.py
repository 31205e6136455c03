"""Bayesian nets in hardware: a sampled RRAM macro (4-bit levels, every read drawn with the
sampling hash), T passes per image; every pass of every image bit-exact against the golden model
on that pass's weight sample, on both simulators, with and without stalls."""
import json

import numpy as np
import pytest

from cli_helpers import run_cli as _run


@pytest.fixture(scope="module")
def bayes_mlp(tmp_path_factory):
    """(net, rtl) of a Bayesian 64-32-10 MLP trained on the digits, folded to 64 samplers per read."""
    out = tmp_path_factory.mktemp("bayesmlp")
    assert _run(["train", "--dataset", "digits", "--arch", "64-32-10", "--bayesian", "--lr", "0.02",
                 "--epochs", "8", "--out", str(out / "net")]) == 0
    net = out / "net" / "net.json"
    assert _run(["gen", "--net", str(net), "--fold", "0:4:16", "--fold", "1:2:8", "--out", str(out / "rtl")]) == 0
    return net, out / "rtl"


def _sim(rtl, net, tmp_path, *args):
    out = tmp_path / "sim"
    code = _run(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "digits", "--out", str(out)] + list(args))
    return code, json.loads((out / "sim.json").read_text())


def test_read_sampler_equals_the_definition():
    """The sampler logic (Amaranth simulator) against models.bayes.sampling on random coordinates."""
    from bnnmram.hdl.sampler import ReadSampler
    from bnnmram.models.bayes import sampling
    from amaranth.sim import Simulator
    rng = np.random.default_rng(1)
    cases = [(int(s), int(j), int(i), int(r), int(q)) for s, j, i, r, q in
             zip(rng.integers(0, 2**32, 60), rng.integers(0, 2**16, 60), rng.integers(0, 2**16, 60),
                 rng.integers(0, 2**24, 60), rng.integers(0, 16, 60))]
    dut, got = ReadSampler(layer=5), []

    async def tb(ctx):
        for seed, j, i, r, q in cases:
            for port, v in ((dut.seed, seed), (dut.neuron, j), (dut.index, i), (dut.r, r), (dut.level, q)):
                ctx.set(port, v)
            await ctx.delay(1e-9)
            got.append(ctx.get(dut.bit))
    sim = Simulator(dut)   # combinational: no clock
    sim.add_testbench(tb)
    sim.run()
    want = []
    for seed, j, i, r, q in cases:
        h = int(sampling.fault_hash((seed ^ sampling.SAMPLE_KEY) & 0xFFFFFFFF, 5, j, i, r))
        want.append(int(h < int(sampling.levels.read_thresholds()[q])))
    assert got == want and 0 < sum(got) < len(got)


def test_manifest_of_a_sampled_design(bayes_mlp):
    _, rtl = bayes_mlp
    man = json.loads((rtl / "manifest.json").read_text())
    assert man["mram"]["sampled"] is True and man["memory"]["technology"] == "rram"
    assert man["sampling"]["levels"] == 16 and man["sampling"]["seed_port"] == "fault__seed"
    for l in man["layers"]:
        assert l["mram_bits_per_weight"] == 4 and l["mram_word_bits"] == 4 * l["pe"] * l["simd"]
    assert man["prog"]["data_bits"] == max(l["mram_word_bits"] for l in man["layers"])


@pytest.mark.parametrize("simulator,extra", [
    ("verilator", ["--images", "40", "--samples", "4"]),
    ("verilator", ["--images", "30", "--samples", "3", "--sample-seed", "9", "--stalls"]),
    ("icarus", ["--images", "4", "--samples", "3", "--sample-seed", "5", "--stalls"]),
], ids=["verilator", "verilator-stalls", "icarus-stalls"])
def test_bayesian_mlp_every_pass_bit_exact(bayes_mlp, tmp_path, simulator, extra):
    net, rtl = bayes_mlp
    code, r = _sim(rtl, net, tmp_path, "--sim", simulator, *extra)
    t = int(extra[extra.index("--samples") + 1])
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["samples"] == t and r["passes"] == r["images"] * t
    assert r["predictive_accuracy"] == r["golden_predictive_accuracy"]
    vec = np.load(tmp_path / "sim" / "vectors.npz")
    scores = vec["scores"].reshape(r["images"], t, -1)
    assert any(len({scores[n, k].tobytes() for k in range(t)}) > 1 for n in range(r["images"]))  # passes differ
    if "--stalls" not in extra:   # T passes per image, each at the analytic pace
        man = json.loads((rtl / "manifest.json").read_text())
        assert r["cycles_per_pass"] == man["cycles_per_image"]
        assert r["cycles_per_image"] == t * man["cycles_per_image"] == r["cycles_per_image_analytic"]


def test_bayesian_conv_every_pass_bit_exact(tmp_path):
    assert _run(["train", "--dataset", "digits", "--arch", "conv4k3-pool2-dense10", "--bayesian", "--lr", "0.02",
                 "--epochs", "2", "--out", str(tmp_path / "net")]) == 0
    net = tmp_path / "net" / "net.json"
    assert _run(["gen", "--net", str(net), "--out", str(tmp_path / "rtl")]) == 0
    code, r = _sim(tmp_path / "rtl", net, tmp_path, "--sim", "verilator", "--images", "8", "--samples", "3",
                   "--sample-seed", "2", "--stalls")
    assert code == 0 and r["passed"] and r["mismatches"] == 0 and r["readback_mismatches"] == []
    assert r["passes"] == 24


def test_energy_of_sampling(bayes_mlp, tmp_path):
    net, rtl = bayes_mlp
    out = tmp_path / "energy"
    assert _run(["energy", "--net", str(net), "--rtl", str(rtl), "--samples", "8", "--out", str(out)]) == 0
    doc = json.loads((out / "energy.json").read_text())
    man = json.loads((rtl / "manifest.json").read_text())
    assert doc["samplers"] == sum(l["pe"] * l["simd"] for l in man["layers"])
    assert doc["reads_per_pass"] == 64 * 32 + 32 * 10 and doc["cycles_per_pass"] == man["cycles_per_image"]
    assert 0 < doc["comparator_transistors_each"] < doc["sampler_transistors_each"]
    rows = {r["samples"]: r for r in doc["by_samples"]}
    assert sorted(rows) == [1, 2, 4, 8]
    assert rows[8]["read_pj"] == pytest.approx(8 * rows[1]["read_pj"]) == pytest.approx(8 * doc["deterministic"]["read_pj"])
    assert rows[8]["sampler_pj"] == pytest.approx(8 * rows[1]["sampler_pj"]) and rows[1]["sampler_pj"] > 0
    assert (out / "energy_vs_samples.png").stat().st_size > 1000 and "| 8 |" in (out / "energy.md").read_text()
