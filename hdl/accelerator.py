"""The generated accelerator: pixel stream -> MVTU layer 0 -> ... -> MVTU output -> {class, scores}.

Top-level ports (Verilog names in the manifest):
- `inp`: stream of words of SIMD_0 8-bit pixels (pixel k of the word in bits [8k, 8k+8)),
  an image is SF_0 consecutive words in row-major pixel order.
- `out`: stream of {cls, scores} (see hdl.mvtu.output_layout).
- `prog`: stream of {layer, addr, data}: one MRAM word write (hdl.folding organisation).
  A word for a layer or address that does not exist is consumed, written nowhere, and
  sets the sticky `prog_error` (cleared by `rst`).
- `prog_busy`: high while any MRAM macro is writing a word (programming is finished when it
  is low after the last transfer on `prog`).
- `dump_layer`, `dump_addr` -> `dump_data` (1 cycle): read-back of stored MRAM words.
- `fault`: seed, 33-bit thresholds t01/t10, switch_only (models.faults.model), run-time.
"""
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from models.net.netfile import Net
from .folding import LayerFold
from .mram import FaultConfigSignature, MramParams
from .mvtu import MVTU, PIXEL_BITS, output_layout


class Accelerator(wiring.Component):
    def __init__(self, net: Net, folds: list[LayerFold], mram: MramParams = MramParams()):
        self.net, self.folds, self.mram = net, folds, mram
        self.units = [MVTU(l, i, f, binarize_threshold=net.binarize_threshold, mram=mram)
                      for i, (l, f) in enumerate(zip(net.layers, folds))]
        self.addr_bits = max(u.mram.addr_bits for u in self.units)
        self.data_bits = max(u.mram.width for u in self.units)
        self.layer_bits = max(1, ceil_log2(len(self.units)))
        self.prog_layout = data.StructLayout({"layer": self.layer_bits, "addr": self.addr_bits,
                                              "data": self.data_bits})
        super().__init__({
            "inp": In(stream.Signature(folds[0].simd * PIXEL_BITS)),
            "out": Out(stream.Signature(output_layout(net.layers[-1]))),
            "prog": In(stream.Signature(self.prog_layout)),
            "dump_layer": In(self.layer_bits),
            "dump_addr": In(self.addr_bits),
            "dump_data": Out(self.data_bits),
            "fault": In(FaultConfigSignature()),
            "prog_busy": Out(1),
            "prog_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        for i, u in enumerate(self.units):
            m.submodules[f"layer{i}"] = u
            for name in ("seed", "t01", "t10", "switch_only"):  # one config, every macro
                m.d.comb += getattr(u.fault, name).eq(getattr(self.fault, name))
        wiring.connect(m, wiring.flipped(self.inp), self.units[0].inp)
        for a, b in zip(self.units, self.units[1:]):
            wiring.connect(m, a.out, b.inp)
        wiring.connect(m, self.units[-1].out, wiring.flipped(self.out))

        # programming: route to the selected layer's macro; a word for a layer or address that
        # does not exist is consumed (ready high), written nowhere, and flagged in prog_error
        bad = Signal()
        m.d.comb += bad.eq(self.prog.p.layer >= len(self.units))
        for i, u in enumerate(self.units):
            if u.mram.depth < 2 ** len(self.prog.p.addr):
                with m.If((self.prog.p.layer == i) & (self.prog.p.addr >= u.mram.depth)):
                    m.d.comb += bad.eq(1)
        with m.If(self.prog.valid & bad):
            m.d.sync += self.prog_error.eq(1)
        m.d.comb += self.prog_busy.eq(Cat(*[~u.prog.ready for u in self.units]).any())
        sel_ready = Signal()
        m.d.comb += sel_ready.eq(bad)
        for i, u in enumerate(self.units):
            hit = (self.prog.p.layer == i) & ~bad
            m.d.comb += [u.prog.valid.eq(self.prog.valid & hit),
                         u.prog.p.addr.eq(self.prog.p.addr),
                         u.prog.p.data.eq(self.prog.p.data),
                         u.dump_addr.eq(self.dump_addr)]
            with m.If(hit):
                m.d.comb += sel_ready.eq(u.prog.ready)
        m.d.comb += self.prog.ready.eq(sel_ready)

        dump_sel = Signal(self.layer_bits)
        m.d.sync += dump_sel.eq(self.dump_layer)
        with m.Switch(dump_sel):
            for i, u in enumerate(self.units):
                with m.Case(i):
                    m.d.comb += self.dump_data.eq(u.dump_data)
        return m
