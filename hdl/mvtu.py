"""Matrix-vector-threshold unit: one folded BNN layer (FINN-style PE x SIMD).

Every cycle it reads one MRAM word (PE x SIMD weight bits) and one SIMD-wide input slice,
adds PE partial sums (XNOR-popcount for bits, +-pixel for 8-bit inputs, the popcount of N
stochastic samples' XNORs, w ? c : N - c, for sc sample counts c) into PE
accumulators, and after SF cycles compares them with the neuron thresholds (hidden layers)
or keeps them as class scores (output layer). NF * SF cycles per image, issued back to back;
a new image starts only when the output FIFO has room for it (credits), so the pipeline
never stalls inside an image and nothing is dropped under backpressure.

Input: hidden layers take a stream whose payload is the whole input vector (N_in elements)
and hold it (ready low) until the last fold has read it; the unit upstream (the previous
layer's FIFO, a sliding window's or flatten's output register) is thus the double buffer.
Conv layers run the same way over patches: one input vector per output position, one output
pixel of C_out bits per patch. The first dense layer of an MLP takes words of SIMD 8-bit pixels
into a PixelBuffer instead. Output: a stream of the N_out activation bits, or of
{class, scores}.
"""
from dataclasses import dataclass

from amaranth.hdl import Module, Signal, Mux, Cat, C, Value, signed, unsigned
from amaranth.lib import stream, wiring, data
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from bnnmram.models.faults.model import WRITE_BITS
from bnnmram.models.net import kinds, stochastic
from bnnmram.models.net.netfile import Layer
from bnnmram.models.net.xnor import dot_from_popcount, popcount_threshold
from .delay import delay
from .folding import LayerFold
from .mram import MramMacro, MramParams, FaultConfigSignature, prog_layout
from .pixel_buffer import PixelBuffer
from .widths import index_shape, memory

PIXEL_BITS = 8
XNOR_INPUTS = ("bits", "binarized")   # inputs whose partial sums are XNOR-popcounts
OUTPUT_FIFO_DEPTH = 3  # SyncFIFOBuffered: 1 output register + a 2-entry FIFO


def output_fifo_depth(layer: Layer, read_latency: int) -> int:
    """Output FIFO entries: 3 for dense layers (an image takes many cycles); a conv layer's
    outputs are one pixel per patch and patches may take one cycle, so its FIFO also covers the
    patches in flight between issue and push (MRAM read latency + 3 cycles) at full rate."""
    return OUTPUT_FIFO_DEPTH + (read_latency + 3 if kinds.of(layer).spatial_output else 0)


def tree_sum(terms):
    """Balanced adder tree (Amaranth grows widths as needed)."""
    terms = list(terms)
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                 for i in range(0, len(terms), 2)]
    return terms[0]


def score_shape(layer: Layer):
    """Signed shape of one class score (or hidden dot product) of this layer."""
    return signed(bits_for(layer.dot_peak) + 1)


def output_layout(layer: Layer) -> data.StructLayout:
    """Output-layer payload: class (low bits) then the N_out scores, two's complement."""
    return data.StructLayout({"cls": max(1, ceil_log2(layer.n_out)),
                              "scores": data.ArrayLayout(score_shape(layer), layer.n_out)})


def threshold_shape(layer: Layer):
    return signed(bits_for(layer.dot_peak + 2) + 1)


def hw_thresholds(layer: Layer) -> list[int]:
    """Thresholds in the accumulator's domain: dot for pixels, popcount for bits and sc
    samples (over n_in * N XNOR terms)."""
    if layer.input == "pixel":
        return [int(t) for t in layer.thresholds]
    return [popcount_threshold(t, layer.xnor_terms, f) for t, f in zip(layer.thresholds, layer.flip)]


def first_argmax(values: list, index_bits: int, m=None, stage_level: int | None = None):
    """The index of the first maximum of `values` (as torch.argmax) as a comparator tree of
    ceil(log2 N) levels: a pair's higher-index side wins only when strictly greater, so every
    subtree gives its range's first maximum. With `m` and `stage_level` k, the nodes left after
    k levels pass through a register (the result one cycle later)."""
    nodes = [(v, C(j, index_bits)) for j, v in enumerate(values)]
    level = 0
    while True:
        if m is not None and level == stage_level:
            nodes = [(delay(m, v, 1, f"argmax_value{k}_stage"), delay(m, i, 1, f"argmax_index{k}_stage"))
                     for k, (v, i) in enumerate(nodes)]
        if len(nodes) == 1:
            break
        level += 1
        paired = []
        for k in range(0, len(nodes) - 1, 2):
            (va, ia), (vb, ib) = nodes[k], nodes[k + 1]
            b_wins = vb > va
            paired.append((Mux(b_wins, vb, va), Mux(b_wins, ib, ia)))
        nodes = paired + nodes[len(nodes) - len(nodes) % 2:]
    return nodes[0][1]


@dataclass(frozen=True)
class _Issue:
    """The issue stage's signals the later stages use."""
    nf: Signal
    sf: Signal
    issue: Signal
    last_sf: Value
    last_issue: Value
    avail: Signal
    release: Signal
    push: Signal


class MVTU(wiring.Component):
    """One folded layer (dense or conv): PE x SIMD per cycle, NF * SF cycles per input vector.

    Ports (In: into the unit), widths in bits:
        inp          In   stream   SIMD * elem_bits (first dense layer: words into its PixelBuffer)
                                   or N_in * elem_bits (every other layer: the whole vector)
        out          Out  stream   N_out activation bits, or output_layout {cls, scores} (output layer)
        prog         In   stream   prog_layout {addr, data}: one MRAM word write (addr_bits, word_bits:
                                   PE * SIMD, or 4 * PE * SIMD level bits in a sampled macro)
        dump_addr    In   addr_bits      read-back address (1-cycle latency)
        dump_data    Out  word_bits      the stored word
        dump_writes  Out  WRITE_BITS     its write counter
        fault        In   FaultConfigSignature(memory): the macro's run-time fault configuration
    """

    def __init__(self, layer: Layer, index: int, fold: LayerFold, *, binarize_threshold=None,
                 mram: MramParams = MramParams(), elem_bits: int | None = None):
        """A dense first layer takes SIMD-element words into a PixelBuffer; every other layer
        takes the whole vector of N_in elements of elem_bits (default 8 for pixel/binarized
        inputs, log2(N) + 1 for sc sample counts (hdl.sc_encoder upstream), 1 for bits; 1 for
        binarized inputs means already binarized)."""
        if (layer.n_in, layer.n_out) != (fold.n_in, fold.n_out):
            raise ValueError(f"layer {index}: folding is for {fold.n_in}x{fold.n_out}, "
                             f"layer is {layer.n_in}x{layer.n_out}")
        self.layer, self.index, self.fold = layer, index, fold
        self.stage = mram.datapath_stage   # 1: partial sums (hidden) or class and scores (output) registered
        self.binarize_threshold = binarize_threshold
        self.mram = MramMacro(layer=index, pe=fold.pe, simd=fold.simd, sf=fold.sf, depth=fold.words,
                              read_latency=mram.read_latency, write_cycles=mram.write_cycles,
                              init_state=mram.init_state, hash_lanes=mram.hash_lanes,
                              memory=mram.memory, xnor=mram.xnor_in_memory and layer.input in XNOR_INPUTS,
                              sampled=mram.sampled, read_errors=mram.read_errors,
                              hash_stages=mram.hash_stages, shared_readback=mram.shared_readback)
        # input vectors per image (a conv layer's output positions): a sampled macro's pass ends after them
        self.vectors = int(layer.out_shape[0] * layer.out_shape[1]) if kinds.of(layer).spatial_output else 1
        self.first = layer.input in ("pixel", "binarized", "sc")
        self.buffered = self.first and not kinds.of(layer).spatial_input
        natural = {"pixel": PIXEL_BITS, "binarized": PIXEL_BITS,
                   "sc": stochastic.count_bits(max(layer.samples, 1))}.get(layer.input, 1)
        self.elem_bits = natural if elem_bits is None else elem_bits
        if layer.input in ("pixel", "sc") and self.elem_bits != natural:
            raise ValueError(f"layer {index}: {layer.input} inputs need elem_bits={natural}")
        in_width = (fold.simd if self.buffered else layer.n_in) * self.elem_bits
        out_shape = output_layout(layer) if layer.is_output else unsigned(layer.n_out)
        super().__init__({
            "inp": In(stream.Signature(in_width)),
            "out": Out(stream.Signature(out_shape)),
            "prog": In(stream.Signature(prog_layout(self.mram.addr_bits, self.mram.word_bits))),
            "dump_addr": In(self.mram.addr_bits),
            "dump_data": Out(self.mram.word_bits),
            "dump_writes": Out(WRITE_BITS),
            "fault": In(FaultConfigSignature(mram.memory, mram.read_errors)),
        })

    def _binary(self, x):
        """The SIMD input bits of an XNOR layer's slice x (binarized 8-bit pixels: x >= threshold)."""
        if self.layer.input == "binarized" and self.elem_bits == PIXEL_BITS:
            simd = self.fold.simd
            return Cat(*[x.word_select(s, PIXEL_BITS) >= self.binarize_threshold for s in range(simd)])
        return x

    def elaborate(self, platform):
        m = Module()
        depth = output_fifo_depth(self.layer, self.mram.read_latency + self.stage)
        fifo = self._macro_and_fifo(m, depth)
        issue = self._issue(m, fifo, depth)
        x = self._input_slice(m, issue)
        # a hidden layer's datapath stage sits before its accumulators: the tags wait for it too
        partial_stage = 0 if self.layer.is_output else self.stage
        tag = delay(m, Cat(issue.issue, issue.sf == 0, issue.last_sf, issue.last_issue, issue.nf),
                    self.mram.read_latency + partial_stage, "tag_stage")
        valid_e, first_e, last_e, end_e, nf_e = tag[0], tag[1], tag[2], tag[3], tag[4:]
        accs = self._accumulate(m, x, valid_e, first_e, partial_stage)

        # ---- finish a neuron fold (one cycle after its last partial sum) --------------------
        fin = Signal()
        fin_end = Signal()
        fin_nf = Signal(index_shape(self.fold.nf))
        m.d.sync += [fin.eq(valid_e & last_e), fin_end.eq(valid_e & end_e), fin_nf.eq(nf_e)]
        done = Signal()
        m.d.sync += done.eq(fin_end)
        if self.layer.is_output:
            push = self._scores_and_class(m, fifo, accs, fin, fin_nf, done)
        else:
            push = done
            self._threshold_bits(m, fifo, accs, fin, fin_nf, nf_e, done)
        m.d.comb += issue.push.eq(push)
        return m

    def _macro_and_fifo(self, m, depth):
        """The MRAM macro (programming, fault and dump ports passed through) and the output FIFO."""
        m.submodules.mram = mram = self.mram
        wiring.connect(m, wiring.flipped(self.prog), mram.prog)
        wiring.connect(m, wiring.flipped(self.fault), mram.fault)
        m.d.comb += [mram.dump_addr.eq(self.dump_addr), self.dump_data.eq(mram.dump_data),
                     self.dump_writes.eq(mram.dump_writes)]
        out_width = len(Value.cast(self.out.payload))
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=out_width, depth=depth)
        m.d.comb += [self.out.valid.eq(fifo.r_rdy), self.out.payload.eq(fifo.r_data),
                     fifo.r_en.eq(self.out.ready)]
        return fifo

    def _issue(self, m, fifo, depth) -> "_Issue":
        """(nf, sf) for every cycle of an image, back to back, while the FIFO has room for
        every result in flight; the MRAM read address nf * SF + sf."""
        nf_n, sf_n = self.fold.nf, self.fold.sf
        nf = Signal(index_shape(nf_n))
        sf = Signal(index_shape(sf_n))
        active = Signal()          # inside an image (after its first issue)
        inflight = Signal(range(depth + 2))
        avail = Signal()
        release = Signal()
        issue = Signal()
        push = Signal()
        credit = Signal()
        m.d.comb += credit.eq(inflight + fifo.level < depth)
        m.d.comb += issue.eq(active | (avail & credit))
        last_sf = sf == sf_n - 1
        last_issue = issue & last_sf & (nf == nf_n - 1)
        m.d.comb += release.eq(last_issue)
        with m.If(issue):
            m.d.sync += sf.eq(Mux(last_sf, 0, sf + 1))
            with m.If(last_sf):
                m.d.sync += nf.eq(Mux(nf == nf_n - 1, 0, nf + 1))
            m.d.sync += active.eq(~last_issue)
        starts = issue & ~active
        m.d.sync += inflight.eq(inflight + starts - push)
        m.d.comb += self.mram.rd_addr.eq(nf * sf_n + sf)
        if self.mram.sampled or self.mram.read_errors:   # the read index: passes (images) this layer has finished since reset
            self._pass_counter(m, last_issue)
        return _Issue(nf, sf, issue, last_sf, last_issue, avail, release, push)

    def _pass_counter(self, m, last_issue):
        """rd_pass: the pass number of every read, counted by this layer (wraps at 2**WRITE_BITS);
        a pass is the layer's `vectors` input vectors of one image."""
        passes = Signal(WRITE_BITS)
        m.d.comb += self.mram.rd_pass.eq(passes)
        if self.vectors == 1:
            with m.If(last_issue):
                m.d.sync += passes.eq(passes + 1)
            return
        vec = Signal(range(self.vectors))
        with m.If(last_issue):
            m.d.sync += vec.eq(Mux(vec == self.vectors - 1, 0, vec + 1))
            with m.If(vec == self.vectors - 1):
                m.d.sync += passes.eq(passes + 1)

    def _input_slice(self, m, issue: "_Issue"):
        """The SIMD-element input slice of synapse fold sf, aligned to the MRAM read latency L
        (or handed to an XNOR-in-memory macro one cycle after its read address)."""
        simd, L = self.fold.simd, self.mram.read_latency
        if self.buffered:
            m.submodules.pixels = buf = PixelBuffer(width=simd * self.elem_bits, words=self.fold.sf)
            wiring.connect(m, wiring.flipped(self.inp), buf.inp)
            m.d.comb += [issue.avail.eq(buf.avail), buf.rd_addr.eq(issue.sf), buf.release.eq(issue.release)]
            x, x_latency = buf.rd_data, 1
        else:
            m.d.comb += [issue.avail.eq(self.inp.valid), self.inp.ready.eq(issue.release)]
            x, x_latency = self.inp.payload.word_select(issue.sf, simd * self.elem_bits), 0
        if self.mram.xnor:   # the macro's sense amplifier takes the input bits one cycle after rd_addr
            m.d.comb += self.mram.rd_in.eq(delay(m, self._binary(x), 1 - x_latency, "x_stage"))
        else:
            x = delay(m, x, L - x_latency, "x_stage")
        return x

    def _partials(self, x):
        """(accumulator shape, PE partial sums of one cycle) of the input kind's datapath:
        +-pixels, sc sample counts, XNOR-popcounts (or the macro's XNOR bits)."""
        layer, pe, simd, w = self.layer, self.fold.pe, self.fold.simd, self.mram.rd_data
        if layer.input == "pixel":
            pix = [x.word_select(s, PIXEL_BITS) for s in range(simd)]
            return score_shape(layer), [tree_sum(Mux(w[p * simd + s], pix[s], -pix[s])
                                                 for s in range(simd)) for p in range(pe)]
        if layer.input == "sc":   # popcount of the N samples' XNORs: c if w = 1, else N - c
            cnt = [x.word_select(s, self.elem_bits) for s in range(simd)]
            n = layer.samples
            return unsigned(bits_for(layer.xnor_terms)), [
                tree_sum(Mux(w[p * simd + s], cnt[s], C(n, self.elem_bits) - cnt[s])[:self.elem_bits]
                         for s in range(simd)) for p in range(pe)]
        if self.mram.xnor:   # rd_data is already XNOR(weight, input)
            return unsigned(bits_for(layer.n_in)), [tree_sum(w[p * simd + s] for s in range(simd)) for p in range(pe)]
        xb = self._binary(x)
        return unsigned(bits_for(layer.n_in)), [tree_sum(~(w[p * simd + s] ^ xb[s]) for s in range(simd))
                                                for p in range(pe)]

    def _accumulate(self, m, x, valid_e, first_e, stage: int) -> list:
        """PE accumulators: cleared at a neuron fold's first synapse fold, then summing (the
        partial sums through `stage` registers first)."""
        acc_shape, partials = self._partials(x)
        partials = [delay(m, v, stage, f"partial{p}_stage") for p, v in enumerate(partials)]
        accs = [Signal(acc_shape, name=f"acc{p}") for p in range(self.fold.pe)]
        with m.If(valid_e):
            for p in range(self.fold.pe):
                m.d.sync += accs[p].eq(Mux(first_e, 0, accs[p]) + partials[p])
        return accs

    def _scores_and_class(self, m, fifo, accs, fin, fin_nf, done) -> Value:
        """Output layer: the scores register, the first maximum's class, pushed per image (with
        the datapath stage: class and scores registered, pushed a cycle later); the push."""
        layer, pe, nf_n = self.layer, self.fold.pe, self.fold.nf
        sshape = score_shape(layer)
        scores = Signal(data.ArrayLayout(sshape, layer.n_out))
        if layer.input == "pixel":
            vals = accs
        else:
            vals = [dot_from_popcount(Cat(a, C(0, 1)).as_signed(), layer.xnor_terms) for a in accs]
        with m.If(fin):
            for p in range(pe):
                for j in range(nf_n):
                    with m.If(fin_nf == j):
                        m.d.sync += scores[j * pe + p].eq(vals[p])
        # with the datapath stage, a register halfway down the comparator tree (and on the scores)
        levels = ceil_log2(layer.n_out)
        cls = first_argmax([scores[j] for j in range(layer.n_out)], max(1, levels), m,
                           levels // 2 if self.stage else None)
        payload = Signal(output_layout(layer))
        m.d.comb += [payload.cls.eq(cls), payload.scores.eq(delay(m, scores.as_value(), self.stage, "scores_stage"))]
        push = delay(m, done, self.stage, "push_stage")
        m.d.comb += [fifo.w_data.eq(payload), fifo.w_en.eq(push)]
        return push

    def _threshold_bits(self, m, fifo, accs, fin, fin_nf, nf_e, done):
        """Hidden layer: each neuron's bit against its threshold and direction (a ROM of PE
        entries per neuron fold), collected per image and pushed."""
        layer, pe, nf_n = self.layer, self.fold.pe, self.fold.nf
        tshape = threshold_shape(layer)
        thr = hw_thresholds(layer)
        rows = []
        for j in range(nf_n):
            word = 0
            for p in range(pe):
                n = j * pe + p
                word |= ((thr[n] & ((1 << tshape.width) - 1)) | (int(layer.flip[n]) << tshape.width)) \
                    << (p * (tshape.width + 1))
            rows.append(word)
        m.submodules.thresholds = rom = memory(shape=pe * (tshape.width + 1), depth=nf_n, init=rows)
        trd = rom.read_port()
        m.d.comb += trd.addr.eq(nf_e)  # sync read: thresholds of nf_e arrive with `fin`
        bits = []
        for p in range(pe):
            entry = trd.data.word_select(p, tshape.width + 1)
            t, flip = entry[:tshape.width].as_signed(), entry[tshape.width]
            a = accs[p] if layer.input == "pixel" else Cat(accs[p], C(0, 1)).as_signed()
            bits.append(Mux(flip, a <= t, a >= t))
        act = Signal(layer.n_out)
        with m.If(fin):
            m.d.sync += act.word_select(fin_nf, pe).eq(Cat(*bits))
        m.d.comb += [fifo.w_data.eq(act), fifo.w_en.eq(done)]
