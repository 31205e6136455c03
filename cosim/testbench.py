"""Reusable cocotb testbench for a generated accelerator inside cosim.wrapper's bnnmram_tb.

Owns reset, drives the MRAM programming port (so the macro injects its errors), reads the MRAM
back, and streams images and collects results in batches through the wrapper: the clock runs in
Verilog, and Python wakes once per batch of input words and once per batch of results, not per
cycle or per transfer. Random input gaps and output stalls are the wrapper's (LFSR, seeded here).
"""
import random

import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, ValueChange
from cocotb.utils import get_sim_time

from .payloads import bits_per_weight, decode_result, prog_words, weight_folds
from .ports import Ports, port_width
from .wrapper import CLOCK_HALF_NS, GAP_PER_256, STALL_PER_256, batch_images

CLOCK_NS = 2 * CLOCK_HALF_NS


def _bits(value) -> tuple[int, int]:
    """(value with X/Z bits as 0, mask of the X/Z bits) of a LogicArray."""
    text = str(value)
    known = int("".join(c if c in "01" else "0" for c in text), 2)
    unknown = int("".join("0" if c in "01" else "1" for c in text), 2)
    return known, unknown


class AcceleratorTB:
    """The bench of one accelerator: every port name from its manifest (cosim.ports); with
    `stalls`, input gaps and output stalls start with chances gap_per256 and stall_per256 per
    cycle (in 256ths, bursts of 1..31 cycles, the wrapper's pause generators)."""

    def __init__(self, dut, manifest: dict, *, stalls: bool = False, seed: int = 0,
                 gap_per256: int = GAP_PER_256, stall_per256: int = STALL_PER_256):
        self.dut = dut
        self.man = manifest
        self.ports = Ports.of(manifest)
        self.folds = weight_folds(manifest)   # MRAM organisation of each weight layer
        self.words_per_image = manifest["input"]["words_per_image"]
        self.stalls = stalls
        if not all(isinstance(r, int) and 0 <= r <= 255 for r in (gap_per256, stall_per256)):
            raise ValueError(f"gap_per256 and stall_per256 must be integers 0..255, not {gap_per256!r}, {stall_per256!r}")
        self.rates = (gap_per256, stall_per256)
        self.rng = random.Random(seed)
        self.out_width = port_width(manifest, self.ports.output.payload)
        self.results = []   # (cycle, cls, scores)
        self.reset_ns = 0

    def cycle(self) -> int:
        """Rising edges since the last reset edge (the wrapper's `cycle` counter in the cycle
        after that many edges)."""
        return (int(get_sim_time("ns")) - self.reset_ns) // CLOCK_NS

    async def start(self, fault: dict):
        """Fault configuration (name -> value, the ports the manifest's `fault_ports` names),
        stall seed and a synchronous reset (the clock runs in the wrapper from time 0)."""
        d, p = self.dut, self.ports
        self._port(p.reset).value = 1
        for name, value in fault.items():
            self._port(p.fault[name]).value = int(value)
        self._port(p.prog.valid).value = 0
        self._port(p.prog.payload).value = 0
        self._port(p.dump_layer).value = 0
        self._port(p.dump_addr).value = 0
        d.src_seq.value = 0
        d.sink_seq.value = 0
        d.src_words.value = 1
        d.sink_results.value = 1
        d.src_data.value = 0
        d.stalls.value = int(self.stalls)
        d.stall_seed.value = self.rng.getrandbits(32)
        d.gap_per256.value, d.stall_per256.value = self.rates
        for _ in range(3):
            await RisingEdge(d.clk)
        self.reset_ns = int(get_sim_time("ns"))
        self._port(p.reset).value = 0
        await FallingEdge(d.clk)

    def _port(self, name: str):
        """The wrapper's handle of an accelerator port."""
        return getattr(self.dut, name)

    async def _handshake(self, valid, ready):
        """valid is high and the payload set: return after the edge that transfers it."""
        clk = self.dut.clk
        valid.value = 1
        while True:
            await ReadOnly()
            if ready.value == 1:
                await RisingEdge(clk)
                return
            await RisingEdge(ready)
            await ReadOnly()
            if ready.value == 1:
                await RisingEdge(clk)
                return

    async def program(self, weights: list[np.ndarray]) -> int:
        """Write every weight word through the MRAM programming port; wait until `prog_busy`
        is low; return `prog_error` (0: every word went to an existing layer and address)."""
        d, p = self.dut, self.ports
        valid, busy = self._port(p.prog.valid), self._port(p.prog_busy)
        for payload in prog_words(self.man, weights):
            self._port(p.prog.payload).value = payload
            await self._handshake(valid, self._port(p.prog.ready))
            valid.value = 0
        # programming has finished once prog_busy is low (the manifest's contract)
        await ReadOnly()
        if busy.value == 1:
            await FallingEdge(busy)
        await RisingEdge(d.clk)
        return int(self._port(p.prog_error).value)

    async def read_back(self) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """Every stored MRAM word and its write counter, layer by layer, through the 1-cycle
        dump port: (words, writes), each {layer: [value per address]}."""
        d, p = self.dut, self.ports
        layer_port, addr_port = self._port(p.dump_layer), self._port(p.dump_addr)
        data_port, writes_port = self._port(p.dump_data), self._port(p.dump_writes)
        words, writes = {}, {}
        bits = bits_per_weight(self.man)
        for i, f in self.folds.items():
            layer, counts = [], []
            layer_port.value = i
            addr_port.value = 0
            for addr in range(f.words):
                await RisingEdge(d.clk)
                if addr + 1 < f.words:
                    addr_port.value = addr + 1
                await ReadOnly()
                layer.append(data_port.value.to_unsigned() & ((1 << (f.word_bits * bits[i])) - 1))
                counts.append(writes_port.value.to_unsigned())
            await RisingEdge(d.clk)
            words[i], writes[i] = layer, counts
        return words, writes

    async def _source(self, batches):
        d = self.dut
        for seq, batch in enumerate(batches, 1):
            # the image bytes in order are the input words, least significant first
            d.src_data.value = int.from_bytes(batch.astype(np.uint8).tobytes(), "little")
            d.src_words.value = len(batch) * self.words_per_image
            d.src_seq.value = seq % 256
            while True:
                await ValueChange(d.src_ack)
                if int(d.src_ack.value) == seq % 256:
                    break

    async def _sink(self, batches):
        d = self.dut
        width = self.out_width
        mask = (1 << width) - 1
        for seq, batch in enumerate(batches, 1):
            d.sink_results.value = len(batch)
            d.sink_seq.value = seq % 256
            while True:
                await ValueChange(d.sink_ack)
                if int(d.sink_ack.value) == seq % 256:
                    break
            await ReadOnly()
            data, unknown = _bits(d.sink_data.value)
            stamps, _ = _bits(d.sink_cycles.value)
            for k in range(len(batch)):
                cls, scores = decode_result(self.man, (data >> (k * width)) & mask)
                if (unknown >> (k * width)) & mask:   # X/Z output bits never match the golden model
                    cls = -1
                self.results.append(((stamps >> (32 * k)) & 0xFFFFFFFF, cls, scores))
            await FallingEdge(d.clk)

    async def stream(self, images: np.ndarray):
        """Send every image and collect every result (with its cycle), batch by batch."""
        import cocotb
        b = batch_images(self.man)
        batches = [images[i:i + b] for i in range(0, len(images), b)]
        sink = cocotb.start_soon(self._sink(batches))
        await self._source(batches)
        await sink
