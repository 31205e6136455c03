"""The ST-MRAM cell's write errors in logic: the fault hash against a 33-bit threshold per
written value, optionally only for switching writes (models/faults/model.py)."""
from amaranth.hdl import C, Cat, Mux

from ..fault_hash import fault_hash


class StMramCell:
    """Fault ports: seed (32), t01 and t10 (33-bit thresholds T = round(rate * 2**32)),
    switch_only (1)."""

    name = "stmram"
    ports = {"seed": 32, "t01": 33, "t10": 33, "switch_only": 1}
    roms = 0
    xnor_sense = False

    def fails(self, m, prefix, fault, layer, neuron, index, write, d, o, rom_ports, stages=0):
        """1 where writing bit `d` over old bit `o` fails; the coordinates enter a hash of
        `stages` pipeline cycles, `d` and `o` are given that many cycles later."""
        h = fault_hash(m, prefix, fault.seed, C(layer, 8), neuron, index, write, stages)
        limit = Mux(d, fault.t01, fault.t10)
        return (Cat(h, C(0, 1)) < limit) & (~fault.switch_only | (o != d))
