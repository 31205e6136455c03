"""Stochastic-computing input encoder: 8-bit pixels -> counts c of N stochastic samples.

Per pixel it evaluates the definition of models.net.stochastic in logic: one SC hash of the
pixel's index (the shared ARX rounds, seed a constant), an (8 - log2 N)-bit comparator and an
increment: c = (p >> (8 - log2 N)) + ((p mod S) > hash mod S), equal to the number of N
comparators p > r(i, k) that fire. Counts are log2(N) + 1 bits, so the layer after it stores
and adds small counts instead of 8-bit pixels.

A word of `elems` pixels takes elems / lanes cycles (`lanes` pixels converted per cycle, one
hash each); the pixel index runs over `pixels` per image, in stream order.
"""
from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from bnnmram.models.net import stochastic
from bnnmram.models.arx import mix
from .fault_hash import AmaranthOps
from .mvtu import PIXEL_BITS
from .widths import index_shape


class ScEncoder(wiring.Component):
    """inp: words of `elems` 8-bit pixels (pixel k in bits [8k, 8k+8)); out: words of `elems`
    counts of log2(N) + 1 bits (count k in bits [kB, kB+B)), same order."""

    def __init__(self, *, elems: int, lanes: int, pixels: int, samples: int, seed: int):
        if elems % lanes or pixels % lanes:
            raise ValueError(f"{lanes} lanes must divide the {elems} pixels of a word and the {pixels} of an image")
        self.elems, self.lanes, self.pixels = elems, lanes, pixels
        self.samples, self.seed = stochastic.check_samples(samples), seed
        self.count_bits = stochastic.count_bits(samples)
        super().__init__({
            "inp": In(stream.Signature(elems * PIXEL_BITS)),
            "out": Out(stream.Signature(elems * self.count_bits)),
        })

    def count(self, m, pixel, index, name):
        """c of one pixel (8-bit Value) at pixel index `index` (Value)."""
        idx = Signal(32, name=f"{name}_index")
        m.d.comb += idx.eq(index)
        u = mix(C(stochastic.SC_TAG, 32), idx, C(self.seed, 32), AmaranthOps(m, f"{name}_hash"))
        c = Signal(self.count_bits, name=f"{name}_count")   # the model's own expression, on Values
        m.d.comb += c.eq(stochastic.counts_from_dither(pixel, u & (stochastic.stratum(self.samples) - 1),
                                                       self.samples))
        return c

    def elaborate(self, platform):
        m = Module()
        steps = self.elems // self.lanes
        step = Signal(index_shape(steps))
        index = Signal(index_shape(self.pixels))     # pixel index of lane 0 this cycle
        last_step = step == steps - 1
        out_valid = Signal()
        out_data = Signal(self.elems * self.count_bits)
        group_bits = self.lanes * self.count_bits
        collect = Signal(max(1, (steps - 1) * group_bits))   # groups 0..steps-2 of this word

        group = Cat(*[self.count(m, self.inp.payload.word_select(step * self.lanes + l, PIXEL_BITS),
                                 index + l, f"lane{l}") for l in range(self.lanes)])
        room = ~out_valid | self.out.ready
        advance = Signal()
        m.d.comb += [advance.eq(self.inp.valid & (~last_step | room)),
                     self.inp.ready.eq(last_step & room),
                     self.out.valid.eq(out_valid), self.out.payload.eq(out_data)]
        with m.If(self.out.ready):
            m.d.sync += out_valid.eq(0)
        with m.If(advance):
            m.d.sync += [step.eq(Mux(last_step, 0, step + 1)),
                         index.eq(Mux(index == self.pixels - self.lanes, 0, index + self.lanes))]
            with m.If(last_step):
                m.d.sync += [out_valid.eq(1),
                             out_data.eq(Cat(collect[:(steps - 1) * group_bits], group) if steps > 1 else group)]
            if steps > 1:
                with m.Else():
                    m.d.sync += collect.word_select(step, group_bits).eq(group)
        return m
