"""Flatten: a stream of C-bit pixels (channel-last, row-major) in, one word of all
H*W*C activation bits per image out, in the same order (bit (y*W + x)*C + c), as the first
dense layer after the conv layers takes it.

Pixels shift into a collect register; the last pixel of an image moves the whole vector to
the output register, which the dense layer holds until it has read every synapse fold. The
next image collects meanwhile (the two registers are the double buffer).
"""
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .widths import index_shape


class Flatten(wiring.Component):
    def __init__(self, *, pixels: int, channels: int):
        self.pixels, self.channels = pixels, channels
        super().__init__({"inp": In(stream.Signature(channels)),
                          "out": Out(stream.Signature(pixels * channels))})

    def elaborate(self, platform):
        m = Module()
        n, c = self.pixels, self.channels
        k = Signal(index_shape(n))          # pixel index within the image
        last = k == n - 1
        accept = Signal()
        m.d.comb += [self.inp.ready.eq(~last | ~self.out.valid | self.out.ready),
                     accept.eq(self.inp.valid & self.inp.ready)]
        if n > 1:
            collect = Signal((n - 1) * c)   # pixels 0..k-1, the newest in the top bits
            shifted = Cat(collect[c:], self.inp.payload) if n > 2 else self.inp.payload
            with m.If(accept):
                m.d.sync += collect.eq(shifted)
            vector = Cat(collect, self.inp.payload)
        else:
            vector = self.inp.payload
        with m.If(accept):
            m.d.sync += k.eq(Mux(last, 0, k + 1))
        with m.If(accept & last):
            m.d.sync += [self.out.payload.eq(vector), self.out.valid.eq(1)]
        with m.Elif(self.out.ready):
            m.d.sync += self.out.valid.eq(0)
        return m
