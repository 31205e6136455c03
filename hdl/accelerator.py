"""The generated accelerator: pixel stream -> layer 0 -> ... -> output layer -> {class, scores}.

MLPs: MVTU per dense layer. Nets with stochastic (sc) input turn pixels into sample counts in
an ScEncoder first (one pixel per cycle; conv nets: one pixel of C channels per cycle). Conv nets: a conv layer is a SlidingWindow feeding an MVTU over
its patches, a max-pool layer a MaxPool unit, and the first dense layer after them takes its
input from a Flatten unit; every stream between them carries one channel-last pixel.

Top-level ports (Verilog names in the manifest):
- `inp`: MLPs: words of SIMD_0 8-bit pixels (pixel k of the word in bits [8k, 8k+8)), an
  image is SF_0 consecutive words in row-major pixel order. Conv nets: one pixel per word
  (channel c in bits [8c, 8c+8)), H*W words per image in row-major order.
- `out`: stream of {cls, scores} (see hdl.mvtu.output_layout).
- `prog`: stream of {layer, addr, data}: one MRAM word write (hdl.folding organisation).
  A word for a layer that does not exist or holds no weights (max-pool), or an address that
  does not exist, is consumed, written nowhere, and sets the sticky `prog_error` (cleared by
  `rst`).
- `prog_busy`: high while any MRAM macro is writing a word (programming is finished when it
  is low after the last transfer on `prog`).
- `dump_layer`, `dump_addr` -> `dump_data`, `dump_writes` (1 cycle): read-back of a stored
  MRAM word and its write counter (times written since power-up; 0 for a max-pool layer's
  index or a layer that does not exist, like `dump_data`).
- `fault`: the memory technology's run-time fault ports (ST-MRAM: seed, 33-bit thresholds
  t01/t10, switch_only, models.faults.model; RRAM: seed and device codes, models.faults.device).
"""
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from bnnmram.models.faults.model import WRITE_BITS
from bnnmram.models.net import kinds as software
from bnnmram.models.net.netfile import Net
from . import kinds
from .mram import FaultConfigSignature, MramParams
from .mvtu import PIXEL_BITS, output_layout
from .sc_encoder import ScEncoder


def input_word_bits(net: Net, folds: list) -> int:
    """Width of `inp__payload`: SIMD_0 pixels (MLPs) or one pixel of C channels (conv nets)."""
    if software.of(net.layers[0]).spatial_input:
        return net.layers[0].in_shape[2] * PIXEL_BITS
    return folds[0].simd * PIXEL_BITS


class Accelerator(wiring.Component):
    """The whole net: pixel stream in, {class, scores} out, every weight in a memory macro.

    Ports (In: into the accelerator), widths in bits (the manifest's `ports` and `streams`):
        inp          In   stream   input_word_bits: SIMD_0 pixels (MLPs) or one pixel of C channels (conv)
        out          Out  stream   output_layout(last layer): cls, then N_out two's-complement scores
        prog         In   stream   {layer: layer_bits, addr: addr_bits, data: data_bits}: one word write
        dump_layer   In   layer_bits     read-back: which layer
        dump_addr    In   addr_bits      read-back: which word (1-cycle latency)
        dump_data    Out  data_bits      the stored word (0 for a max-pool or missing layer)
        dump_writes  Out  WRITE_BITS     its write counter
        fault        In   FaultConfigSignature(memory): one configuration for every macro
        prog_busy    Out  1              a macro is writing a word
        prog_error   Out  1              sticky: a word for no layer or no address was consumed
    """

    def __init__(self, net: Net, folds: list, mram: MramParams = MramParams()):
        if not software.of(net.layers[-1]).may_be_last:
            raise ValueError("the last layer must be dense (it gives the class scores)")
        self.net, self.folds, self.mram = net, folds, mram
        # one MVTU per weight layer, None for max-pool layers: indices are net layer indices
        self.units = [kinds.of(l).unit(net, i, f, mram) for i, (l, f) in enumerate(zip(net.layers, folds))]
        self.mvtus = [(i, u) for i, u in enumerate(self.units) if u is not None]
        self.addr_bits = max(u.mram.addr_bits for _, u in self.mvtus)
        self.data_bits = max(u.mram.word_bits for _, u in self.mvtus)
        self.layer_bits = max(1, ceil_log2(len(self.units)))
        self.prog_layout = data.StructLayout({"layer": self.layer_bits, "addr": self.addr_bits,
                                              "data": self.data_bits})
        super().__init__({
            "inp": In(stream.Signature(input_word_bits(net, folds))),
            "out": Out(stream.Signature(output_layout(net.layers[-1]))),
            "prog": In(stream.Signature(self.prog_layout)),
            "dump_layer": In(self.layer_bits),
            "dump_addr": In(self.addr_bits),
            "dump_data": Out(self.data_bits),
            "dump_writes": Out(WRITE_BITS),
            "fault": In(FaultConfigSignature(mram.memory, mram.read_errors)),
            "prog_busy": Out(1),
            "prog_error": Out(1),
        })

    def binarize(self, m, source):
        """Pixels of C channels -> C bits (pixel >= the net's binarize threshold), same handshake."""
        c = self.net.layers[0].in_shape[2]
        bits = stream.Signature(c).create(path=("binarized",))
        m.d.comb += [bits.valid.eq(source.valid), source.ready.eq(bits.ready),
                     bits.payload.eq(Cat(*[source.payload.word_select(k, PIXEL_BITS) >= self.net.binarize_threshold
                                           for k in range(c)]))]
        return bits

    def _sc_encoder(self, m, source):
        """Pixels -> sc sample counts, ahead of layer 0 (models.net.stochastic)."""
        l0, word = self.net.layers[0], input_word_bits(self.net, self.folds) // PIXEL_BITS
        lanes = l0.in_shape[2] if software.of(l0).spatial_input else 1
        m.submodules.sc_encoder = enc = ScEncoder(elems=word, lanes=lanes, pixels=l0.in_size,
                                                  samples=l0.samples, seed=self.net.sc_seed)
        wiring.connect(m, source, enc.inp)
        return enc.out

    def _pipeline(self, m):
        """Wire the layers, each as its kind builds it (hdl.kinds); return the output layer's stream."""
        prev = wiring.flipped(self.inp)
        if self.net.layers[0].input == "sc":
            prev = self._sc_encoder(m, prev)
        for i, l in enumerate(self.net.layers):
            prev = kinds.of(l).build(self, m, i, prev)
        return prev

    def elaborate(self, platform):
        m = Module()
        for i, u in self.mvtus:
            m.submodules[f"layer{i}"] = u
            wiring.connect(m, wiring.flipped(self.fault), u.fault)   # one config, every macro
        wiring.connect(m, self._pipeline(m), wiring.flipped(self.out))

        # programming: route to the selected layer's macro; a word for a layer that does not
        # exist or has no weights, or an address that does not exist, is consumed (ready
        # high), written nowhere, and flagged in prog_error
        bad = Signal()
        m.d.comb += bad.eq(self.prog.p.layer >= len(self.units))
        for i, u in enumerate(self.units):
            if u is None:
                with m.If(self.prog.p.layer == i):
                    m.d.comb += bad.eq(1)
            elif u.mram.depth < 2 ** len(self.prog.p.addr):
                with m.If((self.prog.p.layer == i) & (self.prog.p.addr >= u.mram.depth)):
                    m.d.comb += bad.eq(1)
        with m.If(self.prog.valid & bad):
            m.d.sync += self.prog_error.eq(1)
        m.d.comb += self.prog_busy.eq(Cat(*[~u.prog.ready for _, u in self.mvtus]).any())
        sel_ready = Signal()
        m.d.comb += sel_ready.eq(bad)
        for i, u in self.mvtus:
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
            for i, u in self.mvtus:
                with m.Case(i):
                    m.d.comb += [self.dump_data.eq(u.dump_data), self.dump_writes.eq(u.dump_writes)]
        return m
