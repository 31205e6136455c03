"""SECDED encoder and decoder generators (layout: models/ecc/secded.py), combinational."""
from functools import reduce
from operator import xor

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from bnnmram.models.ecc.secded import layout


def _xor(bits):
    bits = list(bits)
    return reduce(xor, bits) if bits else Const(0, 1)


class SecdedEncoder(wiring.Component):
    """data: In(k) -> code: Out(n)."""

    def __init__(self, k: int):
        self.k = k
        self.n, self.r, self.data_pos = layout(k)
        super().__init__({"data": In(k), "code": Out(self.n)})

    def elaborate(self, platform):
        m = Module()
        pos = [Const(0, 1)] * self.n
        for i, p in enumerate(self.data_pos):
            pos[p] = self.data[i]
        for j in range(self.r):
            pos[1 << j] = _xor(pos[p] for p in range(1, self.n) if p >> j & 1 and p != 1 << j)
        body = Signal(self.n - 1)
        m.d.comb += body.eq(Cat(*pos[1:]))
        m.d.comb += self.code.eq(Cat(_xor(body[i] for i in range(self.n - 1)), body))
        return m


class SecdedDecoder(wiring.Component):
    """code: In(n) -> data: Out(k), single (corrected), double (detected, uncorrectable)."""

    def __init__(self, k: int):
        self.k = k
        self.n, self.r, self.data_pos = layout(k)
        super().__init__({"code": In(self.n), "data": Out(k), "single": Out(1), "double": Out(1)})

    def elaborate(self, platform):
        m = Module()
        c = self.code
        syndrome = Signal(self.r)
        for j in range(self.r):
            m.d.comb += syndrome[j].eq(_xor(c[p] for p in range(1, self.n) if p >> j & 1))
        parity = Signal()
        m.d.comb += parity.eq(_xor(c[i] for i in range(self.n)))
        m.d.comb += [self.single.eq(parity), self.double.eq(~parity & (syndrome != 0))]
        for i, p in enumerate(self.data_pos):
            m.d.comb += self.data[i].eq(c[p] ^ (parity & (syndrome == p)))
        return m


class SecdedPair(wiring.Component):
    """An encoder and a decoder side by side: the unit whose area the energy table costs."""

    def __init__(self, k: int):
        self.enc, self.dec = SecdedEncoder(k), SecdedDecoder(k)
        super().__init__({"data_in": In(k), "code_out": Out(self.enc.n), "code_in": In(self.enc.n),
                          "data_out": Out(k), "single": Out(1), "double": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.enc, m.submodules.dec = self.enc, self.dec
        m.d.comb += [self.enc.data.eq(self.data_in), self.code_out.eq(self.enc.code),
                     self.dec.code.eq(self.code_in), self.data_out.eq(self.dec.data),
                     self.single.eq(self.dec.single), self.double.eq(self.dec.double)]
        return m
