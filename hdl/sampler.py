"""One read-bit sampler of a Bayesian net's macro (models.bayes.sampling in logic): the fault
hash of the weight's coordinates and the read index, against its level's threshold.

    bit = fault_hash(seed ^ SAMPLE_KEY, layer, neuron, index, r) < T[level]    (33-bit compare)

with T the 16-entry table round(q * 2**32 / 15). PE*SIMD of these sit in each sampled macro; as a
component on its own it is what `bnnmram energy` synthesizes for the area of one read bit."""
from amaranth.hdl import Array, C, Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from bnnmram.models.bayes.sampling import SAMPLE_KEY
from bnnmram.models.faults.read_errors import READ_KEY
from bnnmram.models.faults.coordinates import INDEX_BITS, NEURON_BITS, WRITE_BITS
from bnnmram.models.net.levels import LEVELS, read_thresholds
from .fault_hash import fault_hash

LEVEL_BITS = (LEVELS - 1).bit_length()   # 4


def sample_bit(m, prefix: str, seed, layer: int, neuron, index, r, level):
    """The sampled read of one weight as combinational logic in `m` (seed: the sampling seed,
    before SAMPLE_KEY)."""
    keyed = Signal(32, name=f"{prefix}_seed")
    m.d.comb += keyed.eq(seed ^ SAMPLE_KEY)
    return level_compare(fault_hash(m, prefix, keyed, C(layer, 8), neuron, index, r), level)


def read_flip(m, prefix: str, seed, t_read, layer: int, neuron, index, r):
    """A read error of one weight bit as logic (models.faults.read_errors): 1 iff
    fault_hash(seed ^ READ_KEY, layer, neuron, index, r) < t_read (33-bit compare)."""
    keyed = Signal(32, name=f"{prefix}_seed")
    m.d.comb += keyed.eq(seed ^ READ_KEY)
    return Cat(fault_hash(m, prefix, keyed, C(layer, 8), neuron, index, r), C(0, 1)) < t_read


def level_compare(h, level):
    """h < T[level]: the 32-bit hash against the level's 33-bit threshold (a 16-entry table)."""
    table = Array(C(int(t), 33) for t in read_thresholds())
    return Cat(h, C(0, 1)) < table[level]


class ReadSampler(wiring.Component):
    """Ports: seed In(32), neuron In(16), index In(16), r In(24), level In(4), bit Out(1); the
    layer is a constant (its index in the net)."""

    def __init__(self, layer: int = 0):
        self.layer = layer
        super().__init__({"seed": In(32), "neuron": In(NEURON_BITS), "index": In(INDEX_BITS),
                          "r": In(WRITE_BITS), "level": In(LEVEL_BITS), "bit": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.bit.eq(sample_bit(m, "h", self.seed, self.layer, self.neuron, self.index, self.r, self.level))
        return m


class LevelComparator(wiring.Component):
    """The comparator alone: hash In(32), level In(4), bit Out(1) (its area without the hash)."""

    def __init__(self):
        super().__init__({"hash": In(32), "level": In(LEVEL_BITS), "bit": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.bit.eq(level_compare(self.hash, self.level))
        return m
