"""SECDED: every single error corrected, every double detected (Amaranth simulator)."""
import itertools
import random

import pytest
from amaranth.sim import Simulator

from bnnmram.hdl.secded import SecdedDecoder, SecdedEncoder
from bnnmram.models.ecc import secded as ecc


def _run(dut, cases, k):
    """cases: (data, flip positions); returns decoder outputs per case."""
    enc, dec = dut
    from amaranth.hdl import Module
    m = Module()
    m.submodules.enc, m.submodules.dec = enc, dec
    out = []

    async def tb(ctx):
        for data, flips in cases:
            ctx.set(enc.data, data)
            await ctx.delay(1e-9)
            code = ctx.get(enc.code)
            assert code == ecc.encode(data, k)
            for f in flips:
                code ^= 1 << f
            ctx.set(dec.code, code)
            await ctx.delay(1e-9)
            out.append((ctx.get(dec.data), ctx.get(dec.single), ctx.get(dec.double)))
    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    return out


def test_layouts():
    assert ecc.layout(64)[0] == 72 and ecc.layout(32)[0] == 39 and ecc.layout(4)[0] == 8


def test_exhaustive_small_code():
    k = 4
    n = ecc.layout(k)[0]
    cases = [(d, ()) for d in range(16)]
    cases += [(d, (i,)) for d in range(16) for i in range(n)]
    cases += [(d, pair) for d in range(16) for pair in itertools.combinations(range(n), 2)]
    got = _run((SecdedEncoder(k), SecdedDecoder(k)), cases, k)
    for (data, flips), (d, single, double) in zip(cases, got):
        if len(flips) <= 1:
            assert d == data and single == len(flips) and double == 0
        else:
            assert double == 1 and single == 0
        assert ecc.decode(ecc.encode(data, k) ^ sum(1 << f for f in flips), k) == (d, bool(single), bool(double))


def test_random_72_64():
    k, n = 64, 72
    rng = random.Random(1)
    cases = []
    for _ in range(300):
        d = rng.getrandbits(64)
        cases += [(d, ()), (d, (rng.randrange(n),)), (d, tuple(rng.sample(range(n), 2)))]
    got = _run((SecdedEncoder(k), SecdedDecoder(k)), cases, k)
    for (data, flips), (d, single, double) in zip(cases, got):
        if len(flips) <= 1:
            assert (d, single, double) == (data, len(flips), 0)
        else:
            assert (single, double) == (0, 1)


def test_effective_ber_exact():
    # word failure: 1 - P(0 errors) - P(1 error), against a direct sum
    p, n = 1e-3, 72
    direct = sum(__import__("math").comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(2, n + 1))
    assert ecc.word_failure_probability(p, n) == pytest.approx(direct, rel=1e-9)
    raw = ecc.raw_ber_for(1e-6, 64)
    assert ecc.effective_ber(raw, 64) == pytest.approx(1e-6, rel=1e-3)
    assert raw > 1e-4  # SECDED lets the raw rate be far higher than the target
