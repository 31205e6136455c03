"""Reusable cocotb testbench for a generated accelerator (one TB class, short tests).

Owns clock and reset, drives the MRAM programming port (so the macro injects its errors),
reads the MRAM back, drives images with optional random idle cycles, and monitors results
with optional random backpressure. Python awaits are spent per transfer, not per cycle:
while a stream is stalled the drivers sleep on the handshake signal's edge.
"""
import random

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

from hdl.folding import LayerFold, pack_words

CLOCK_NS = 10


class AcceleratorTB:
    def __init__(self, dut, manifest: dict, *, stalls: bool = False, seed: int = 0):
        self.dut = dut
        self.man = manifest
        # MRAM organisation of each weight layer (max-pool layers have none), by layer index
        self.folds = {l["index"]: LayerFold(l["n_in"], l["n_out"], l["pe"], l["simd"])
                      for l in manifest["layers"] if l["kind"] != "maxpool"}
        inp = manifest["input"]
        self.words_per_image, self.bytes_per_word = inp["words_per_image"], inp["bytes_per_word"]
        self.stalls = stalls
        self.rng = random.Random(seed)
        out = manifest["output"]
        self.cls_bits, self.score_bits, self.classes = out["class_bits"], out["score_bits"], out["classes"]
        prog = manifest["prog"]
        self.layer_bits, self.addr_bits = prog["layer_bits"], prog["addr_bits"]
        self.results = []   # (cycle, cls, scores)

    def cycle(self) -> int:
        return int(get_sim_time("ns")) // CLOCK_NS

    async def start(self, fault):
        """Clock, fault configuration (seed, t01, t10, switch_only) and a synchronous reset."""
        d = self.dut
        d.rst.value = 1  # every input defined before the first clock edge
        d.fault__seed.value, d.fault__t01.value, d.fault__t10.value, d.fault__switch_only.value = \
            [int(v) for v in fault]
        d.inp__valid.value = 0
        d.out__ready.value = 0
        d.prog__valid.value = 0
        d.prog__payload.value = 0
        d.inp__payload.value = 0
        d.dump_layer.value = 0
        d.dump_addr.value = 0
        await Timer(1, unit="ns")
        Clock(d.clk, CLOCK_NS, unit="ns").start()
        for _ in range(3):
            await RisingEdge(d.clk)
        d.rst.value = 0
        await FallingEdge(d.clk)

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
        d = self.dut
        for i, f in self.folds.items():
            for addr, word in enumerate(pack_words(weights[i], f)):
                payload = i | (addr << self.layer_bits) | (word << (self.layer_bits + self.addr_bits))
                d.prog__payload.value = payload
                await self._handshake(d.prog__valid, d.prog__ready)
                d.prog__valid.value = 0
        # programming has finished once prog_busy is low (the manifest's contract)
        await ReadOnly()
        if d.prog_busy.value == 1:
            await FallingEdge(d.prog_busy)
        await RisingEdge(d.clk)
        return int(d.prog_error.value)

    async def read_back(self) -> dict[int, list[int]]:
        """Every stored MRAM word, layer by layer, through the 1-cycle dump port."""
        d = self.dut
        words = {}
        for i, f in self.folds.items():
            layer = []
            d.dump_layer.value = i
            d.dump_addr.value = 0
            for addr in range(f.words):
                await RisingEdge(d.clk)
                if addr + 1 < f.words:
                    d.dump_addr.value = addr + 1
                await ReadOnly()
                layer.append(d.dump_data.value.to_unsigned() & ((1 << f.word_bits) - 1))
            await RisingEdge(d.clk)
            words[i] = layer
        return words

    async def drive_images(self, images: np.ndarray):
        """Send images as the manifest's input words (bytes in image order), with random idle
        cycles if stalls."""
        d = self.dut
        for img in images:
            words = img.astype(np.uint8).reshape(self.words_per_image, self.bytes_per_word)
            for row in words:
                if self.stalls and self.rng.random() < 0.3:
                    d.inp__valid.value = 0
                    for _ in range(self.rng.randint(1, 20)):
                        await RisingEdge(d.clk)
                d.inp__payload.value = int.from_bytes(row.tobytes(), "little")
                await self._handshake(d.inp__valid, d.inp__ready)
            d.inp__valid.value = 0

    def _decode(self, payload: int):
        cls = payload & ((1 << self.cls_bits) - 1)
        scores = []
        for j in range(self.classes):
            v = (payload >> (self.cls_bits + j * self.score_bits)) & ((1 << self.score_bits) - 1)
            scores.append(v - (1 << self.score_bits) if v >> (self.score_bits - 1) else v)
        return cls, scores

    async def monitor(self, count: int):
        """Collect `count` results; random backpressure if stalls."""
        d = self.dut
        clk = d.clk
        while len(self.results) < count:
            if self.stalls:
                ready = self.rng.random() < 0.6
                d.out__ready.value = int(ready)
                if not ready:
                    for _ in range(self.rng.randint(1, 30)):
                        await RisingEdge(clk)
                    d.out__ready.value = 1
            else:
                d.out__ready.value = 1
            await ReadOnly()
            if d.out__valid.value != 1:
                await RisingEdge(d.out__valid)
                await ReadOnly()
            payload = d.out__payload.value.to_unsigned()
            self.results.append((self.cycle(),) + self._decode(payload))
            await RisingEdge(clk)
