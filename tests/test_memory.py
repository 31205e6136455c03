"""Memory technologies in software: the device-level fault model of resistive cells against a
docs-only evaluator, the quantile table, exact error rates against counts and the continuous
model, the campaign engines against the golden model, and the physics' monotonic trends."""
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults import device
from bnnmram.models.faults.campaign import Campaign
from bnnmram.models.faults.conv_campaign import ConvCampaign
from bnnmram.models.faults.model import FaultConfig, faulty_net, fault_hash
from bnnmram.models.faults.ztable import Z
from bnnmram.models.memory import technology
from bnnmram.models.memory import rram_physics as rp
from bnnmram.models.net import golden
from nets import random_conv_net

DOC = Path(__file__).resolve().parents[1] / "docs" / "fault-model.md"
RRAM = technology("rram")
RRAM2 = technology("rram2t2r")


def docs_read(h, bit, cell, p, h1=None):
    """One device-level read, from docs/fault-model.md 'Resistive cells' alone (plain ints)."""
    def z(h):
        g = h if h < 2**31 else 2**32 - 1 - h
        n = g.bit_length()
        m = ((g << 4) >> (n - 1)) & 15 if n else 0
        return Z[16 * n + m] if h < 2**31 else -Z[16 * n + m]

    def lnr(h, state_set):
        mu, s = (p["set_mu"], p["set_sigma"]) if state_set else (p["reset_mu"], p["reset_sigma"])
        return mu + ((s * z(h)) >> 10)
    if cell == "1t1r":
        return int(lnr(h, bit) < p["ref"])
    return int(lnr(h, bit) < lnr(h1, not bit))


def test_quantile_table_regenerates_from_scipy():
    for n in range(32):
        for m in range(16):
            lo, hi = device.ztable_bin(n, m)
            want = round(1024 * ndtri((lo + hi) / 2 / 2**32)) if hi > lo else 0
            assert Z[16 * n + m] == want, (n, m)
    z, c = device.bin_masses()
    assert c.sum() == 2**32


@pytest.mark.parametrize("tech,cond", [(RRAM, dict(compliance_ua=6, reset_v=0.7)),
                                       (RRAM2, dict(compliance_ua=5, reset_v=0.65))])
def test_device_failures_equal_docs_evaluator(tech, cond):
    cfg = tech.fault_config(tech.condition(**cond), seed=11)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (12, 40), dtype=np.uint8)
    fail = device.device_failures(bits, 3, cfg.seed, cfg.device)
    p = cfg.device.ports()
    for j in range(12):
        for i in range(40):
            h0 = int(fault_hash(11, 3, j, i))
            h1 = int(fault_hash(11 ^ 0x6A09E667, 3, j, i))
            read = docs_read(h0, int(bits[j, i]), cfg.device.cell, p, h1)
            assert fail[j, i] == (read != bits[j, i]), (j, i)
    assert 0 < fail.sum() < fail.size


def test_known_answers_in_docs():
    """docs/fault-model.md's known-answer table, row by row."""
    rows = re.findall(r"^\| (1t1r|2t2r) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (0x\w+) \| ([-\d]+) \| ([-\d]+) "
                      r"\| ([-\d]+) \| (\d) \| (\d) \|$", DOC.read_text(), re.M)
    assert len(rows) >= 4
    for cell, seed, layer, neuron, index, h, z0, lnr0, z1_doc, bit, read in rows:
        tech = RRAM if cell == "1t1r" else RRAM2
        dev = tech.device(tech.condition(compliance_ua=6, reset_v=0.7))
        h0 = fault_hash(int(seed), int(layer), int(neuron), int(index))
        assert int(h0) == int(h, 16)
        assert int(device.z_code(h0)) == int(z0)
        st = int(bit) == 1
        assert int(device.log_resistance(device.z_code(h0), dev.set_mu if st else dev.reset_mu,
                                         dev.set_sigma if st else dev.reset_sigma)) == int(lnr0)
        bits = np.array([[int(bit)]], np.uint8)
        h = np.array([[h0]], np.uint32)
        z1 = device.z_code(fault_hash(int(seed) ^ device.DEVICE_KEY[1], int(layer), int(neuron), int(index)))
        assert int(z1) == int(z1_doc)
        assert int(device.sensed(bits, device.z_code(h), np.array([[int(z1)]]), dev)[0, 0]) == int(read)


@pytest.mark.parametrize("tech", [RRAM, RRAM2])
def test_exact_rates_match_counts_and_continuous_model(tech):
    cond = tech.condition(compliance_ua=6, reset_v=0.7)
    cfg = tech.fault_config(cond, 5)
    r1, r0 = cfg.realised_rates
    bits = np.zeros((256, 1024), np.uint8)
    bits[::2] = 1
    fail = device.device_failures(bits, 1, 5, cfg.device)
    for b, r in ((1, r1), (0, r0)):
        n = (bits == b).sum()
        got = fail[bits == b].mean()
        assert abs(got - r) < 4 * math.sqrt(r * (1 - r) / n), (b, got, r)
    # the quantised model is the continuous log-normal one to within its 1/256-neper codes
    r_l, s_l = rp.lrs(cond)
    r_h, s_h = rp.hrs(cond)
    d = math.log(r_h) - math.log(r_l)
    want = ndtr(-d / (s_l + s_h)) if tech.sense == "1t1r" else ndtr(-d / math.hypot(s_l, s_h))
    assert abs((r1 + r0) / 2 - want) < 0.05 * want


def test_2t2r_more_reliable_than_1t1r_and_weaker_is_worse():
    for c in (dict(compliance_ua=10, reset_v=0.8), dict(compliance_ua=20, reset_v=0.9)):
        assert RRAM2.ber(RRAM2.condition(**c)) < RRAM.ber(RRAM.condition(**c)) / 10
    bers = [RRAM.ber(RRAM.condition(compliance_ua=i, reset_v=v)) for i, v in ((5, 0.7), (10, 0.8), (20, 0.9))]
    assert bers[0] > bers[1] > bers[2]
    e = [RRAM.program_energy_pj(RRAM.condition(compliance_ua=i)) for i in (5, 50)]
    assert e[0] < e[1]
    assert RRAM.endurance_cycles(RRAM.condition(compliance_ua=10, reset_v=0.8)) > \
        RRAM.endurance_cycles(RRAM.condition(compliance_ua=200, reset_v=1.5))


@pytest.mark.parametrize("tech", [RRAM, RRAM2])
def test_condition_for_ber_reaches_the_rate(tech):
    for b in (1e-5, 1e-3, 1e-1):
        got = tech.ber(tech.condition_for_ber(b))
        assert b / 1.2 < got <= b


def test_stmram_technology_keeps_the_rate_model():
    t = technology("stmram")
    assert t.faults_at_ber(1e-3, 4) == FaultConfig(seed=4, ber=1e-3)
    assert t.faults_at_ber(0, 4).is_zero


def test_bad_device_configurations_are_refused():
    dev = RRAM.device(RRAM.condition())
    with pytest.raises(BnnMramError, match="come from its devices"):
        FaultConfig(ber=0.1, device=dev)
    with pytest.raises(BnnMramError, match="resistive cell must be"):
        device.DeviceFaults("3t3r", 1, 1, 1, 1)
    with pytest.raises(BnnMramError, match="set_sigma must be an integer"):
        device.DeviceFaults("1t1r", 1, 1 << 12, 1, 1)
    with pytest.raises(BnnMramError, match="unknown memory technology"):
        technology("pcm")
    with pytest.raises(BnnMramError, match="outside the RRAM 1T1R model's range"):
        RRAM.condition(compliance_ua=1000)


@pytest.mark.parametrize("tech", [RRAM, RRAM2])
def test_mlp_engine_equals_golden_under_device_errors(small_net, digits, tech):
    _, net, _ = small_net
    camp = Campaign(net, digits.test_x, digits.test_y)
    for seed, c in [(1, dict(compliance_ua=6, reset_v=0.7)), (2, dict(compliance_ua=10, reset_v=0.8))]:
        cfg = tech.fault_config(tech.condition(**c), seed)
        fnet = faulty_net(net, cfg)
        assert any((a.weights != b.weights).any() for a, b in zip(net.layers, fnet.layers))
        assert np.array_equal(camp.predict(cfg).numpy(), golden.run(fnet, digits.test_x).pred)


def test_conv_engine_equals_golden_under_device_errors():
    net = random_conv_net(seed=3)
    x = np.random.default_rng(0).integers(0, 256, (40, 128), dtype=np.uint8)
    y = np.zeros(40, np.int64)
    camp = ConvCampaign(net, x, y)
    cfg = RRAM2.fault_config(RRAM2.condition(compliance_ua=5, reset_v=0.65), 7)
    assert np.array_equal(camp.predict(cfg).numpy(), golden.run(faulty_net(net, cfg), x).pred)


@pytest.mark.parametrize("cell", ["1t1r", "2t2r"])
def test_error_free_codes_never_fail(cell):
    assert device.error_rates(device.error_free(cell)) == (0.0, 0.0)
    tech = RRAM if cell == "1t1r" else RRAM2
    cfg = tech.faults_at_ber(0, 3)
    assert cfg.device == device.error_free(cell) and set(cfg.ports()) >= {"seed", "set_mu"}


def test_endurance_report_counts_words_written_more_often_than_they_survive():
    from bnnmram.gen.conditions import endurance_report
    e = endurance_report(3.0, {"1": 10, "5": 2, "3": 4})
    assert e["words"] == 16 and e["writes_per_word_max"] == 5
    assert e["words_beyond_endurance"] == 2 and e["endurance_used"] == pytest.approx(5 / 3)
    unjudged = endurance_report(None, {"1": 7})
    assert unjudged["writes_per_word_max"] == 1 and "words_beyond_endurance" not in unjudged
