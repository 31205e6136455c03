"""Behavioural weight-memory macro with write-error injection, for every memory technology:
the technology's cell (hdl/memory/__init__.py) brings its fault ports and its per-bit
write-error logic, the macro everything else.

Organisation: `depth` words of PE*SIMD bits (see hdl.folding). Ports:

- `prog` (stream of {addr, data}): programming. A write holds the port busy for
  max(write_cycles, PE*SIMD/lanes + hash_stages) pulse cycles plus one commit cycle; during the
  pulse the fault logic hashes `lanes` bits (hash_lanes, rounded down to a divisor of SIMD) per
  cycle with `models.faults.model`' function of the bit's logical coordinates (layer, neuron,
  input index, write count), so any folding flips the same weights. With `hash_stages` S > 0 the
  hash is pipelined over S cycles (hdl.fault_hash): a chunk's result arrives S cycles after its
  coordinates, for a clock S-fold shorter on that path (FPGA fault emulation).
- `rd_addr` / `rd_data`: inference read, `read_latency` cycles (>= 1).
- `rd_in` (SIMD bits, only with `xnor_in_memory`, a 2T2R option): the layer's input bits for
  the read; the sense amplifier returns XNOR(weight, input) instead of the weight, bit
  p*SIMD+s = XNOR(weight of row p, input s). The PCSA senses one cycle after `rd_addr`, so
  `rd_in` is given in that cycle (the one after the address), and the result leaves
  `read_latency - 1` cycles later with `rd_data`.
- `dump_addr` / `dump_data`, `dump_writes`: read-back for testbenches, 1 cycle: the stored word
  and how many times it has been written (its write counter, WRITE_BITS bits, 0 before the
  first write), for endurance reports. Own read ports by default, independent of programming;
  with `shared_readback` through the write path's port, so dump_addr is read only in a cycle
  where the macro is idle (not busy, prog.valid low); otherwise dump_data is undefined.
- `fault`: run-time fault configuration, the cell's ports (ST-MRAM: `seed`, `t01`, `t10`
  (33-bit thresholds, T = round(rate * 2**32)), `switch_only`, see models.faults.model;
  resistive cells: `seed` and the device codes of models.faults.device).

Each word keeps a write counter (24 bits, the width of the hash's write field, as in
`models.faults.model`), so re-programming draws fresh errors.

Sampled macros (`sampled`, Bayesian nets, models.bayes): each weight is a 4-bit level q (bits
[4k, 4k+4) of the word hold weight k = p*SIMD+s), programmed exactly (write-verify: no write
errors; the pulse and commit timing is unchanged). Every read samples each weight of the word:
bit k of `rd_data` is 1 iff fault_hash(seed ^ SAMPLE_KEY, layer, neuron, input index, rd_pass)
< T_q (docs/fault-model.md, "Read-time sampling"): one hash and one 33-bit comparator per read
bit; `rd_pass` (the read index r, WRITE_BITS bits) is given with `rd_addr`. `fault.seed` is the
sampling seed; the cell's other fault ports are unused.
"""
from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import WRITE_BITS

from ..delay import delay
from ..fault_hash import stage_rounds
from ..sampler import LEVEL_BITS, read_flip, sample_bit
from ..widths import index_shape, memory
from . import cell as technology_cell
from .resistive import Z_BITS, z_table_init


@dataclass(frozen=True)
class MramParams:
    """Generation parameters of every MRAM macro in a design."""

    read_latency: int = 1   # cycles from rd_addr to rd_data
    write_cycles: int = 4   # programming pulse, cycles (at least the hashing time)
    init_state: int = 0     # value of every cell before the first write
    hash_lanes: int | None = None  # fault hashes per cycle during a write (None: auto)
    memory: str = "stmram"  # the memory technology (models/memory, hdl/memory)
    xnor_in_memory: bool = False  # 2T2R: the PCSA computes XNOR(weight, input) (bit-input layers)
    sampled: bool = False   # Bayesian nets: 4-bit levels per weight, every read sampled (models.bayes)
    read_errors: bool = False  # every read bit may be sensed inverted (models.faults.read_errors, fault t_read)
    hash_stages: int = 0    # pipeline stages of the write-error hash (0: one cycle, combinational)
    datapath_stage: int = 0  # not the macro's: 1 adds a register per layer (hidden layers' partial sums,
                             # the output layer's class and scores), +1 latency cycle each (hdl/mvtu.py)
    shared_readback: bool = False  # read-back through the write path's port, valid while programming is idle
                                   # (one read-write port per array: one block-RAM copy on FPGAs)


DEFAULT_HASH_LANES = 8


def hash_lanes_for(layer: int, simd: int, hash_lanes: int | None) -> int:
    """Bits hashed per programming cycle in a macro of SIMD-bit rows: a row is hashed in equal
    chunks, so the lanes must divide SIMD. None: the largest divisor of SIMD up to 8."""
    divisors = [d for d in range(1, simd + 1) if simd % d == 0]
    if hash_lanes is None:
        return max(d for d in divisors if d <= DEFAULT_HASH_LANES)
    if hash_lanes < 1 or simd % hash_lanes:
        raise BnnMramError(f"MRAM hash lanes {hash_lanes} cannot be built in layer {layer}: a row of "
                           f"SIMD={simd} weight bits is hashed in equal chunks, so the lanes must divide "
                           f"{simd} (choose one of {', '.join(map(str, divisors))})")
    return hash_lanes


READ_THRESHOLD_BITS = 33   # fault.t_read: T_read = round(read BER * 2**32)


def fault_ports(memory: str = "stmram", read_errors: bool = False) -> dict:
    """name -> width of the run-time fault ports: the cell's, and t_read with read errors."""
    return {**technology_cell(memory).ports, **({"t_read": READ_THRESHOLD_BITS} if read_errors else {})}


class FaultConfigSignature(wiring.Signature):
    """The run-time fault ports of a memory technology's cell (default ST-MRAM), plus the read
    error threshold `t_read` in a macro built with read errors."""

    def __init__(self, memory: str = "stmram", read_errors: bool = False):
        super().__init__({name: Out(width) for name, width in fault_ports(memory, read_errors).items()})


def prog_layout(addr_bits: int, data_bits: int) -> data.StructLayout:
    return data.StructLayout({"addr": addr_bits, "data": data_bits})


def check_xnor_in_memory(memory: str):
    """One line unless `memory`'s cell can compute XNOR in its sense amplifier."""
    if not technology_cell(memory).xnor_sense:
        raise BnnMramError(f"--xnor-in-memory needs the differential 2T2R cell, whose sense amplifier "
                           f"computes XNOR (--memory rram2t2r), not --memory {memory}")


class MramMacro(wiring.Component):
    """Parameters: layer index, pe, simd, sf (synapse folds), depth (words), read_latency
    (cycles), write_cycles (programming pulse, cycles), init_state (0/1, every cell), xnor
    (the sense amplifier computes XNOR with `rd_in`; cells that can: `xnor_sense`)."""

    def __init__(self, *, layer, pe, simd, sf, depth, read_latency=1, write_cycles=4, init_state=0,
                 hash_lanes=None, memory="stmram", xnor=False, sampled=False, read_errors=False, hash_stages=0,
                 shared_readback=False):
        if read_latency < 1:
            raise ValueError(f"MRAM read latency must be >= 1 cycle, not {read_latency!r}")
        if write_cycles < 1:
            raise ValueError(f"MRAM write pulse must be >= 1 cycle, not {write_cycles!r}")
        if init_state not in (0, 1):
            raise ValueError(f"MRAM initial state must be 0 or 1, not {init_state!r}")
        self.layer, self.pe, self.simd, self.sf, self.depth = layer, pe, simd, sf, depth
        self.width = pe * simd              # weight bits per read
        self.sampled, self.read_errors = sampled, read_errors
        if read_errors and (sampled or memory != "stmram"):
            raise BnnMramError(f"read errors at each inference are modelled for ST-MRAM macros (--memory "
                               f"stmram) of deterministic nets, not {'a Bayesian net' if sampled else memory}")
        if sampled and xnor:
            raise BnnMramError("a sampled (Bayesian) macro reads levels, not bits: no --xnor-in-memory")
        self.bits_per_weight = LEVEL_BITS if sampled else 1
        self.word_bits = self.width * self.bits_per_weight   # stored, programmed and dumped bits per word
        self.read_latency, self.write_cycles, self.init_state = read_latency, write_cycles, init_state
        self.addr_bits = max(1, ceil_log2(depth))
        self.lanes = hash_lanes_for(layer, simd, hash_lanes)
        stage_rounds(hash_stages)   # one line unless 0..8
        self.hash_stages = 0 if sampled else hash_stages   # a sampled macro writes without hashing (gen refuses S > 0)
        self.shared_readback = shared_readback
        self.chunks = pe * simd // self.lanes
        self.cell = technology_cell(memory)
        if xnor:
            check_xnor_in_memory(memory)
        self.xnor = xnor
        ports = {
            "prog": In(stream.Signature(prog_layout(self.addr_bits, self.word_bits))),
            "rd_addr": In(self.addr_bits),
            "rd_data": Out(self.width),
            "dump_addr": In(self.addr_bits),
            "dump_data": Out(self.word_bits),
            "dump_writes": Out(WRITE_BITS),
            "fault": In(FaultConfigSignature(memory, read_errors)),
        }
        if xnor:
            ports["rd_in"] = In(simd)
        if sampled or read_errors:
            ports["rd_pass"] = In(WRITE_BITS)
        super().__init__(ports)

    @property
    def pulse_cycles(self) -> int:
        return max(self.write_cycles, self.chunks + self.hash_stages)

    def elaborate(self, platform):
        m = Module()
        ones = (1 << self.word_bits) - 1
        m.submodules.cells = cells = memory(shape=self.word_bits, depth=self.depth,
                                            init=[ones if self.init_state else 0] * self.depth)
        m.submodules.counts = counts = memory(shape=WRITE_BITS, depth=self.depth, init=[])

        # Inference read: sync port plus (read_latency - 1) register stages.
        rd = cells.read_port()
        m.d.comb += rd.addr.eq(self.rd_addr)
        sensed = self._sampled(m, rd.data) if self.sampled else rd.data
        if self.read_errors:
            sensed = rd.data ^ self._read_flips(m)
        if self.xnor:   # the PCSA swaps BL and BLb under an input 0: XNOR(weight, input)
            sensed = ~(rd.data ^ Cat(*[self.rd_in] * self.pe))
        m.d.comb += self.rd_data.eq(delay(m, sensed, self.read_latency - 1, "rd_stage"))

        # Programming: accept, hash `lanes` bits per pulse cycle, commit.
        addr = Signal(self.addr_bits)
        wdata = Signal(self.word_bits)
        result = Signal(self.word_bits)
        row = Signal(range(self.pe + 1))
        cycle = Signal(range(self.pulse_cycles + 1))
        nf = Signal(range(self.depth // self.sf + 1))
        sf = Signal(range(self.sf + 1))
        busy = Signal()     # a write is in progress: prog.ready low
        # The write path's port: the old word and its count, read synchronously (addressed by
        # the payload in the accept cycle, by the held address after it, so both are valid from
        # the first pulse cycle to the commit), and the commit's write, at the same address, so
        # that synthesis maps them to one read-write block-RAM port (read before write). With a
        # shared read-back the same port serves dump_addr while programming is idle: each array
        # then has two ports (inference read, read-write), one block RAM copy on FPGAs.
        port_addr = Mux(busy, addr, self.prog.p.addr)
        if self.shared_readback:
            port_addr = Mux(busy | self.prog.valid, port_addr, self.dump_addr)
        old, count = cells.read_port(), counts.read_port()
        wr, wc = cells.write_port(), counts.write_port()
        m.d.comb += [old.addr.eq(port_addr), count.addr.eq(port_addr), wr.addr.eq(port_addr),
                     wc.addr.eq(port_addr), wr.data.eq(result), wc.data.eq(count.data + 1)]
        if self.shared_readback:
            m.d.comb += [self.dump_data.eq(old.data), self.dump_writes.eq(count.data)]
        else:   # read-back through its own ports, independent of programming
            dump, dump_count = cells.read_port(), counts.read_port()
            m.d.comb += [dump.addr.eq(self.dump_addr), self.dump_data.eq(dump.data),
                         dump_count.addr.eq(self.dump_addr), self.dump_writes.eq(dump_count.data)]

        pulse = Signal()    # hashing rows / holding the programming pulse
        commit = Signal()   # write the faulty word and its incremented count
        # chunk k of `lanes` bits: row (PE) k // per_row, inputs (k % per_row) * lanes + j
        lanes, chunks = self.lanes, self.chunks
        per_row = self.simd // lanes
        chunk = Signal(range(chunks + 1))
        # position of the chunk in its row; a row of one chunk needs no counter (no 0-bit wire)
        part = Signal(range(per_row)) if per_row > 1 else C(0, 1)
        # chunks leave wdata and the old word through shift registers (a chunk a cycle, lowest
        # first) and enter `result` the same way: no word-wide multiplexer or decoder on the
        # chunk index, so a wide word hashed in few lanes keeps its clock
        w = lanes * self.bits_per_weight
        old_rest = Signal(self.word_bits)   # the old word's chunks after the first, shifting down
        chunk_data = wdata[:w]
        chunk_old = Mux(chunk == 0, old.data[:w], old_rest[:w])   # old.data is valid from the first pulse cycle
        neuron = nf * self.pe + row
        rom_ports = []
        if self.cell.roms and not self.sampled:   # the device model's quantile table, one read port per device and lane
            m.submodules.z_table = z_table = memory(shape=signed(Z_BITS), depth=len(z_table_init()),
                                                    init=z_table_init())
            rom_ports = [z_table.read_port(domain="comb") for _ in range(lanes * self.cell.roms)]
        # the hash pipeline: the chunk's data, old bits and position follow its coordinates
        S = self.hash_stages
        data_s, old_s = delay(m, chunk_data, S, "wdata_stage"), delay(m, chunk_old, S, "old_stage")
        fails = []
        for j in range(0 if self.sampled else lanes):   # a sampled macro programs its levels exactly
            fails.append(self.cell.fails(m, f"hash{j}", self.fault, self.layer, neuron,
                                         sf * self.simd + part * lanes + j, count.data,
                                         data_s[j], old_s[j],
                                         rom_ports[j * self.cell.roms:(j + 1) * self.cell.roms], S))
        chunk_result = data_s if self.sampled else data_s ^ Cat(*fails)
        hashing = Signal()   # a chunk enters the hash this cycle
        m.d.comb += hashing.eq(pulse & (chunk < chunks))
        landing = delay(m, hashing, S, "chunk_stage")   # ... and leaves it S cycles later, in order

        # Control is all registers (no FSM decoder), so `prog.ready` is defined from time 0
        # in every simulator, Icarus included.
        m.d.comb += [self.prog.ready.eq(~busy), wr.en.eq(commit), wc.en.eq(commit)]
        with m.If(self.prog.valid & ~busy):
            m.d.sync += [addr.eq(self.prog.p.addr), wdata.eq(self.prog.p.data),
                         nf.eq(self.prog.p.addr // self.sf), sf.eq(self.prog.p.addr % self.sf),
                         row.eq(0), chunk.eq(0), cycle.eq(0), busy.eq(1), pulse.eq(1)]
            if per_row > 1:
                m.d.sync += part.eq(0)
        with m.If(landing):   # after the last chunk lands, chunk 0 is in the lowest bits
            m.d.sync += result.eq(Cat(result[w:], chunk_result) if chunks > 1 else chunk_result)
        with m.If(pulse):
            with m.If(chunk < chunks):
                m.d.sync += chunk.eq(chunk + 1)
                if chunks > 1:
                    m.d.sync += [wdata.eq(wdata >> w),
                                 old_rest.eq(Mux(chunk == 0, old.data, old_rest) >> w)]
                if per_row > 1:
                    m.d.sync += part.eq(Mux(part == per_row - 1, 0, part + 1))
                    with m.If(part == per_row - 1):
                        m.d.sync += row.eq(row + 1)
                else:
                    m.d.sync += row.eq(row + 1)
            m.d.sync += cycle.eq(cycle + 1)
            with m.If(cycle == self.pulse_cycles - 1):
                m.d.sync += [pulse.eq(0), commit.eq(1)]
        with m.If(commit):
            m.d.sync += [commit.eq(0), busy.eq(0)]
        return m

    def _read_coordinates(self, m):
        """(nf, sf, r) of the read in flight, registered with rd_addr (valid with the sync read's data)."""
        nf, sf, r = Signal(index_shape(self.depth // self.sf)), Signal(index_shape(self.sf)), Signal(WRITE_BITS)
        m.d.sync += [nf.eq(self.rd_addr // self.sf), sf.eq(self.rd_addr % self.sf), r.eq(self.rd_pass)]
        return nf, sf, r

    def _read_flips(self, m):
        """The read word's error mask: bit k = p*SIMD+s is 1 iff that weight is sensed inverted in
        this read (models.faults.read_errors: one hash and one 33-bit compare per read bit)."""
        nf, sf, r = self._read_coordinates(m)
        return Cat(*[read_flip(m, f"rderr{p * self.simd + s}", self.fault.seed, self.fault.t_read, self.layer,
                               nf * self.pe + p, sf * self.simd + s, r)
                     for p in range(self.pe) for s in range(self.simd)])

    def _sampled(self, m, levels):
        """The read word's sampled weight bits: the level word `levels` (the sync read's data,
        one cycle after rd_addr) against each weight's hash under the registered coordinates."""
        nf, sf, r = self._read_coordinates(m)
        return Cat(*[sample_bit(m, f"sample{p * self.simd + s}", self.fault.seed, self.layer, nf * self.pe + p,
                                sf * self.simd + s, r, levels.word_select(p * self.simd + s, LEVEL_BITS))
                     for p in range(self.pe) for s in range(self.simd)])
