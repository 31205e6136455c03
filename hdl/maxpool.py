"""Bit max-pool unit: P x P windows, stride P, on a channel-last stream of C-bit pixels.

A max of +-1 values is the OR of their bits (models.net.conv.maxpool_bits). Pixels arrive in
row-major order, one per transfer; the unit ORs each pool row segment in a register and keeps
the partial ORs of the W/P windows of the current window row in a small memory (its own line
buffer), and emits the (H/P)*(W/P) pooled pixels in row-major order, one per P*P inputs.
"""
from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .widths import index_shape, memory


class MaxPool(wiring.Component):
    def __init__(self, *, height: int, width: int, channels: int, pool: int):
        if height % pool or width % pool:
            raise ValueError(f"pool {pool} does not divide a {height} x {width} input")
        self.height, self.width, self.channels, self.pool = height, width, channels, pool
        super().__init__({"inp": In(stream.Signature(channels)), "out": Out(stream.Signature(channels))})

    def elaborate(self, platform):
        m = Module()
        w, c, p = self.width, self.channels, self.pool
        ow = w // p
        px = Signal(index_shape(p))    # x % P
        py = Signal(index_shape(p))    # y % P
        ox = Signal(index_shape(ow))   # x // P
        run = Signal(c)                # OR of the pixels so far in this row segment

        m.submodules.rows = rows = memory(shape=c, depth=ow, init=[])
        rd = rows.read_port(domain="comb")
        wr = rows.write_port()
        seg = Mux(px == 0, 0, run) | self.inp.payload           # this row's OR so far
        window = Mux(py == 0, 0, rd.data) | seg                  # the window's OR so far
        emit = (px == p - 1) & (py == p - 1)
        accept = Signal()
        m.d.comb += [self.inp.ready.eq(~emit | ~self.out.valid | self.out.ready),
                     accept.eq(self.inp.valid & self.inp.ready),
                     rd.addr.eq(ox), wr.addr.eq(ox), wr.data.eq(window),
                     wr.en.eq(accept & (px == p - 1) & (py != p - 1))]
        with m.If(accept):
            m.d.sync += [run.eq(seg), px.eq(Mux(px == p - 1, 0, px + 1))]
            with m.If(px == p - 1):
                m.d.sync += ox.eq(Mux(ox == ow - 1, 0, ox + 1))
                with m.If(ox == ow - 1):
                    m.d.sync += py.eq(Mux(py == p - 1, 0, py + 1))  # H % P == 0: wraps per image
        with m.If(accept & emit):
            m.d.sync += [self.out.payload.eq(window), self.out.valid.eq(1)]
        with m.Elif(self.out.ready):
            m.d.sync += self.out.valid.eq(0)
        return m
