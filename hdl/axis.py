"""The accelerator behind AXI4-Stream ports (`bnnmram gen --bus axis`), Verilog only, no vendor IP.

    s_axis_*        In   images: tdata = one input word (manifest input), tlast on each image's last word
    m_axis_*        Out  results: tdata = one result (manifest output) zero-extended to bytes, tlast on every beat
    s_axis_prog_*   In   programming: tdata = one prog word (manifest prog) zero-extended to bytes; tlast on
                         the last word of a programming burst
    status          Out  4 bits: [0] prog_error (sticky), [1] prog_busy, [2] framing_error (sticky: an
                         image's tlast missing on its last word or present on another), [3] programmed
                         (the burst ended by tlast has been written: set once prog_busy is low after it,
                         cleared by the next prog word)

Every other port (clk, rst, dump_*, fault__*, prog_busy, prog_error) is the core's, unchanged.
The images' tlast is checked, never needed: the core counts words per image itself.
"""
from amaranth.hdl import Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from bnnmram.models.faults.model import WRITE_BITS
from .accelerator import Accelerator
from .mram import FaultConfigSignature, MramParams

STATUS_BITS = {"prog_error": 0, "prog_busy": 1, "framing_error": 2, "programmed": 3}


def byte_width(bits: int) -> int:
    """AXI4-Stream tdata is whole bytes."""
    return -(-bits // 8) * 8


class AxisAccelerator(wiring.Component):
    """Accelerator(net, folds, mram) with AXI4-Stream images, results and programming."""

    def __init__(self, net, folds, mram: MramParams = MramParams(), words_per_image: int = 1):
        self.core = core = Accelerator(net, folds, mram)
        self.words_per_image = words_per_image
        w_in = len(Value.cast(core.inp.payload))
        self.out_bits = len(Value.cast(core.out.payload))
        self.prog_bits = len(Value.cast(core.prog.payload))
        super().__init__({
            "s_axis_tdata": In(byte_width(w_in)), "s_axis_tvalid": In(1), "s_axis_tready": Out(1), "s_axis_tlast": In(1),
            "m_axis_tdata": Out(byte_width(self.out_bits)), "m_axis_tvalid": Out(1), "m_axis_tready": In(1),
            "m_axis_tlast": Out(1),
            "s_axis_prog_tdata": In(byte_width(self.prog_bits)), "s_axis_prog_tvalid": In(1),
            "s_axis_prog_tready": Out(1), "s_axis_prog_tlast": In(1),
            "status": Out(len(STATUS_BITS)),
            "prog_busy": Out(1), "prog_error": Out(1),
            "dump_layer": In(len(core.dump_layer)), "dump_addr": In(len(core.dump_addr)),
            "dump_data": Out(len(core.dump_data)), "dump_writes": Out(WRITE_BITS),
            "fault": In(FaultConfigSignature(mram.memory, mram.read_errors)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        wiring.connect(m, wiring.flipped(self.fault), core.fault)
        m.d.comb += [
            core.inp.payload.eq(self.s_axis_tdata), core.inp.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(core.inp.ready),
            self.m_axis_tdata.eq(core.out.payload), self.m_axis_tvalid.eq(core.out.valid),
            core.out.ready.eq(self.m_axis_tready), self.m_axis_tlast.eq(1),
            core.prog.payload.eq(self.s_axis_prog_tdata[:self.prog_bits]), core.prog.valid.eq(self.s_axis_prog_tvalid),
            self.s_axis_prog_tready.eq(core.prog.ready),
            core.dump_layer.eq(self.dump_layer), core.dump_addr.eq(self.dump_addr),
            self.dump_data.eq(core.dump_data), self.dump_writes.eq(core.dump_writes),
            self.prog_busy.eq(core.prog_busy), self.prog_error.eq(core.prog_error),
        ]
        # framing: word k of an image carries tlast iff k is its last word
        word = Signal(range(max(2, self.words_per_image)))
        framing_error = Signal()
        with m.If(self.s_axis_tvalid & self.s_axis_tready):
            last = word == self.words_per_image - 1
            m.d.sync += word.eq(Mux(last, 0, word + 1))
            with m.If(self.s_axis_tlast != last):
                m.d.sync += framing_error.eq(1)
        # programmed: the burst ended by tlast has been written
        burst_done, programmed = Signal(), Signal()
        with m.If(self.s_axis_prog_tvalid & self.s_axis_prog_tready):
            m.d.sync += [burst_done.eq(self.s_axis_prog_tlast), programmed.eq(0)]
        with m.Elif(burst_done & ~core.prog_busy):
            m.d.sync += [programmed.eq(1), burst_done.eq(0)]
        s = STATUS_BITS
        m.d.comb += [self.status[s["prog_error"]].eq(core.prog_error), self.status[s["prog_busy"]].eq(core.prog_busy),
                     self.status[s["framing_error"]].eq(framing_error), self.status[s["programmed"]].eq(programmed)]
        return m
