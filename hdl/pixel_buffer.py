"""Ping-pong image buffer in front of the first layer: one bank fills from the pixel stream
while the layer re-reads the other for every neuron fold."""
from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .widths import index_shape


class PixelBuffer(wiring.Component):
    """`words` words (SF) of `width` bits (SIMD pixels x 8) per image, two images.

    inp: stream of words. Read side: `avail` (an image is complete), `rd_addr` (0..words-1),
    `rd_data` (1 cycle later), `release` (pulse: done with this image).
    """

    def __init__(self, *, width, words):
        self.width, self.words = width, words
        super().__init__({
            "inp": In(stream.Signature(width)),
            "avail": Out(1),
            "rd_addr": In(index_shape(words)),
            "rd_data": Out(width),
            "release": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=self.width, depth=2 * self.words, init=[])
        full = Signal(2)
        wbank, rbank = Signal(), Signal()
        waddr = Signal(index_shape(self.words))

        wr = mem.write_port()
        m.d.comb += [self.inp.ready.eq(~full.bit_select(wbank, 1)),
                     wr.addr.eq(Mux(wbank, self.words + waddr, waddr)),
                     wr.data.eq(self.inp.payload),
                     wr.en.eq(self.inp.valid & self.inp.ready)]
        set_full = Signal(2)
        clr_full = Signal(2)
        with m.If(self.inp.valid & self.inp.ready):
            m.d.sync += waddr.eq(Mux(waddr == self.words - 1, 0, waddr + 1))
            with m.If(waddr == self.words - 1):
                m.d.comb += set_full.eq(Mux(wbank, 0b10, 0b01))
                m.d.sync += wbank.eq(~wbank)

        rd = mem.read_port()
        m.d.comb += [self.avail.eq(full.bit_select(rbank, 1)),
                     rd.addr.eq(Mux(rbank, self.words + self.rd_addr, self.rd_addr)),
                     self.rd_data.eq(rd.data)]
        with m.If(self.release):
            m.d.comb += clr_full.eq(Mux(rbank, 0b10, 0b01))
            m.d.sync += rbank.eq(~rbank)
        m.d.sync += full.eq((full | set_full) & ~clr_full)
        return m
