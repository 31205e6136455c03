"""The fault hash in Amaranth: `models.faults.coordinates.hash_function` (the packing and the ARX
rounds, written once) evaluated on 32-bit Values, combinational or pipelined over `stages`
clock cycles (register layers before rounds floor(8 i / stages), i = 0 .. stages-1: with 4
stages, before rounds 0, 2, 4 and 6, so two rounds per cycle)."""
from amaranth.hdl import C, Cat, Signal, Value

from bnnmram.models.arx import ROUNDS
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.coordinates import hash_function


MAX_STAGES = ROUNDS


def stage_rounds(stages: int) -> set[int]:
    """The rounds a pipelined hash registers its state before (empty: combinational)."""
    if not 0 <= stages <= MAX_STAGES:
        raise BnnMramError(f"fault-hash pipeline stages must be 0..{MAX_STAGES} (one register layer per "
                           f"round at most), not {stages}")
    return {ROUNDS * i // stages for i in range(stages)}


class AmaranthOps:
    """32-bit add-rotate-xor on Values; every round result and coordinate field becomes a named
    wire (`prefix_*`) in `module`; with `stages`, the state entering some rounds is registered
    (`prefix_p*`, sync domain), so the hash leaves `stages` cycles after its inputs."""

    def __init__(self, module, prefix, stages: int = 0):
        self.m, self.prefix, self.n = module, prefix, 0
        self.registered = stage_rounds(stages)

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

    def stage(self, r, v0, v1):
        if r not in self.registered:
            return v0, v1
        regs = Signal(32, name=f"{self.prefix}_p{r}v0"), Signal(32, name=f"{self.prefix}_p{r}v1")
        self.m.d.sync += [regs[0].eq(v0), regs[1].eq(v1)]
        return regs

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


def fault_hash(m, prefix, seed, layer, neuron, index, write, stages: int = 0):
    """32-bit hash of (seed, layer, neuron, input index, write count) as logic added to module
    `m` (wires named `prefix_*`): combinational, or valid `stages` cycles after its inputs (the
    seed is not registered: it must hold while a hash is in flight)."""
    return hash_function(AmaranthOps(m, prefix, stages))(seed, layer, neuron, index, write)
