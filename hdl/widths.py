"""Shapes and memories that never produce 0-bit Verilog wires (`wire [-1:0] x;`, which
`verilator -Wall` rejects as ASCRANGE): one-element counters and one-word memories."""
from amaranth.hdl import unsigned
from amaranth.lib.memory import Memory
from amaranth.utils import ceil_log2


def index_shape(n: int):
    """Unsigned shape holding 0..n-1, at least 1 bit (a counter over one value stays 0)."""
    return unsigned(max(1, ceil_log2(n)))


def memory(*, shape, depth: int, init) -> Memory:
    """A Memory of at least 2 words, so its address is at least 1 bit; a one-word memory gets
    an unused second word (never addressed; a constant-address read synthesizes to wires)."""
    return Memory(shape=shape, depth=max(depth, 2), init=init)
