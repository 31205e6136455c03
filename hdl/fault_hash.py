"""The fault hash in Amaranth: `models.faults.coordinates.hash_function` (the packing and the ARX
rounds, written once) evaluated on 32-bit Values."""
from amaranth.hdl import C, Cat, Signal, Value

from bnnmram.models.faults.coordinates import hash_function


class AmaranthOps:
    """32-bit add-rotate-xor on Values; every round result and coordinate field becomes a named
    wire (`prefix_*`) in `module`."""

    def __init__(self, module, prefix):
        self.m, self.prefix, self.n = module, prefix, 0

    @staticmethod
    def const(c):
        return C(c, 32)

    @staticmethod
    def add(a, b):
        return (a + b)[:32]

    @staticmethod
    def rotl(x, r):
        return Value.cast(x).rotate_left(r)

    @staticmethod
    def rotr(x, r):
        return Value.cast(x).rotate_right(r)

    def node(self, x):
        s = Signal(32, name=f"{self.prefix}_{self.n}")
        self.n += 1
        self.m.d.comb += s.eq(x)
        return s

    def field(self, x, width, name):
        s = Signal(width, name=f"{self.prefix}_{name}")  # zero-extends or truncates exactly
        self.m.d.comb += s.eq(x)
        return s

    @staticmethod
    def join(low, shift, high):
        assert len(low) == shift, (len(low), shift)
        return Cat(low, high)

    @staticmethod
    def compile(function):
        return function


def fault_hash(m, prefix, seed, layer, neuron, index, write):
    """32-bit hash of (seed, layer, neuron, input index, write count) as combinational logic
    added to module `m` (wires named `prefix_*`)."""
    return hash_function(AmaranthOps(m, prefix))(seed, layer, neuron, index, write)
