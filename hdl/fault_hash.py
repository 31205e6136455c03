"""The fault model's hash in Amaranth: the very `models.faults.model.mix` rounds, on 32-bit Values."""
from amaranth.hdl import C, Cat, Signal, Value

from models.arx import mix
from models.faults.coordinates import INDEX_BITS, LAYER_BITS, NEURON_BITS, WRITE_BITS


class AmaranthOps:
    """32-bit add-rotate-xor on Values; every round result becomes a named wire in `module`."""

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


def fault_hash(m, prefix, seed, layer, neuron, index, write):
    """32-bit hash of (seed, layer, neuron, input index, write count) as combinational logic
    added to module `m` (wires named `prefix_*`)."""
    fields = {}
    for name, value, width in (("write", write, WRITE_BITS), ("layer", layer, LAYER_BITS),
                               ("index", index, INDEX_BITS), ("neuron", neuron, NEURON_BITS), ("seed", seed, 32)):
        fields[name] = Signal(width, name=f"{prefix}_{name}")  # zero-extend/truncate exactly
        m.d.comb += fields[name].eq(value)
    v0 = Cat(fields["write"], fields["layer"])
    v1 = Cat(fields["index"], fields["neuron"])
    return mix(v0, v1, fields["seed"], AmaranthOps(m, prefix))
