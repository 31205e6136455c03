"""Sliding-window unit: a channel-last stream of pixels in, K x K patches out (stride 1, no
padding), in the golden model's patch order (models.net.conv).

One input transfer is one pixel: C elements of `elem_bits` (8-bit pixels or 1-bit
activations), channel c in bits [c*elem_bits, (c+1)*elem_bits), pixels in row-major order.
One output transfer is one patch: element (ky*K + kx)*C + c is input (oy+ky, ox+kx, c), for
output positions (oy, ox) in row-major order, (H-K+1)*(W-K+1) patches per image.

Storage: K-1 line buffers in one memory of W words (word x holds column x of the K-1 rows
above the current one), K-1 window columns in registers, and an output patch register, so
the unit keeps taking pixels (one per cycle) while the consumer still holds the last patch;
it stalls only when a new patch is complete and the previous one has not left.
"""
from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .widths import index_shape, memory


class SlidingWindow(wiring.Component):
    def __init__(self, *, height: int, width: int, channels: int, kernel: int, elem_bits: int):
        if not 1 <= kernel <= min(height, width):
            raise ValueError(f"kernel {kernel} does not fit a {height} x {width} input")
        self.height, self.width, self.channels, self.kernel = height, width, channels, kernel
        self.pixel_bits = channels * elem_bits
        super().__init__({
            "inp": In(stream.Signature(self.pixel_bits)),
            "out": Out(stream.Signature(kernel * kernel * self.pixel_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        h, w, k, pb = self.height, self.width, self.kernel, self.pixel_bits
        x = Signal(index_shape(w))
        y = Signal(index_shape(h))
        next_x = Mux(x == w - 1, 0, x + 1)
        accept = Signal()
        complete = Signal()   # the pixel on `inp` completes a patch
        out_free = Signal()
        primed = Signal()     # the line buffer's read data is valid (one cycle after reset)
        m.d.sync += primed.eq(1)
        m.d.comb += [complete.eq(1 if k == 1 else (x >= k - 1) & (y >= k - 1)),  # K=1: every pixel
                     out_free.eq(~self.out.valid | self.out.ready),
                     self.inp.ready.eq(primed & (~complete | out_free)),
                     accept.eq(self.inp.valid & self.inp.ready)]
        pixel = self.inp.payload

        if k > 1:
            # line buffer: word x = [row y-1, row y-2, ..., row y-K+1] of column x, pixel j in
            # bits [j*pb, (j+1)*pb). Read one cycle ahead: the address is the column of the
            # pixel that arrives next (W >= K >= 2, so it never equals the column being written).
            m.submodules.lines = lines = memory(shape=(k - 1) * pb, depth=w, init=[])
            rd = lines.read_port()
            wr = lines.write_port()
            above = rd.data
            m.d.comb += [rd.addr.eq(Mux(accept, next_x, x)),
                         wr.addr.eq(x), wr.en.eq(accept),
                         wr.data.eq(Cat(pixel, above[:(k - 2) * pb]))]
            # the new window column, top (ky = 0, row y-K+1) to bottom (ky = K-1, row y)
            column = [above.word_select(k - 2 - ky, pb) for ky in range(k - 1)] + [pixel]
            # window columns kx = 0..K-2 (the K-1 columns left of the new one), ky-major inside
            cols = [Signal(k * pb, name=f"win_col{kx}") for kx in range(k - 1)]
            with m.If(accept):
                for kx in range(k - 2):
                    m.d.sync += cols[kx].eq(cols[kx + 1])
                m.d.sync += cols[k - 2].eq(Cat(*column))
            patch = Cat(*[(cols[kx].word_select(ky, pb) if kx < k - 1 else column[ky])
                          for ky in range(k) for kx in range(k)])
        else:
            patch = pixel

        with m.If(accept):
            m.d.sync += x.eq(next_x)
            with m.If(x == w - 1):
                m.d.sync += y.eq(Mux(y == h - 1, 0, y + 1))
        with m.If(accept & complete):
            m.d.sync += [self.out.payload.eq(patch), self.out.valid.eq(1)]
        with m.Elif(self.out.ready):
            m.d.sync += self.out.valid.eq(0)
        return m
