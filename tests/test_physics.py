"""MRAM physics and energy models: the formula, monotonicity, the inverse."""
import math

import pytest

from bnnmram.models.mram import energy, physics as phy


def test_wer_matches_hand_computed_formula():
    p = phy.MTJ_PARAMS
    i, t = 2.0, 10.0
    omega0 = 1.760859e11 * p.mu0_hk_t
    a = math.pi ** 2 * p.delta / 4 * (i - 1)
    want = 1 - math.exp(-a / (i * math.exp(2 * (i - 1) * p.alpha * omega0 * t * 1e-9) - 1))
    assert phy.wer(i * p.ic0_ua, t) == pytest.approx(want, rel=1e-12)
    # long-time slope: WER ~ exp(-2(i-1) alpha omega0 t)
    w1, w2 = phy.wer(100, 40), phy.wer(100, 50)
    assert math.log(w1 / w2) == pytest.approx(2 * (100 / p.ic0_ua - 1) * p.alpha * omega0 * 10e-9, rel=1e-3)
    assert phy.wer(p.ic0_ua, 100) == 1.0


def test_wer_monotonic_in_current_and_pulse():
    currents = [60, 80, 100, 150, 200, 300]
    pulses = [2, 5, 10, 20, 50]
    for t in pulses:
        w = [phy.wer(i, t) for i in currents]
        assert all(a > b for a, b in zip(w, w[1:]))
    for i in currents:
        w = [phy.wer(i, t) for t in pulses]
        assert all(a > b for a, b in zip(w, w[1:]))


@pytest.mark.parametrize("target", [1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 4e-2, 0.2])
def test_inverse_hits_target_within_one_percent(target):
    c = phy.least_energy(target)
    assert abs(c.wer - target) <= 0.01 * target
    assert phy.MTJ_PARAMS.t_min_ns <= c.t_ns <= phy.MTJ_PARAMS.t_max_ns and c.i_ua <= phy.MTJ_PARAMS.i_max_ua
    assert c.energy_pj == pytest.approx(phy.write_energy_pj(c.i_ua, c.t_ns))


def test_weaker_programming_is_cheaper_and_smaller():
    a, d = phy.least_energy(1e-6), phy.least_energy(1e-2)
    assert d.energy_pj < a.energy_pj and d.cell_area_um2 < a.cell_area_um2


def test_options_table_is_consistent():
    opts = energy.options(100_000, 1e-2, 0.9, 0.89, 5000)
    a, b, c, d = opts
    assert b.memory_bits == 112_500 and a.memory_bits == d.memory_bits == 100_000
    assert b.effective_ber == pytest.approx(1e-6, rel=1e-3) and b.raw_ber > a.raw_ber
    assert c.effective_ber <= 1e-6 * (1 + 1e-9)
    assert d.load_energy_nj < a.load_energy_nj and d.load_energy_nj < b.load_energy_nj
