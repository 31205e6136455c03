"""Register chains: a value delayed by a fixed number of clock cycles."""
from amaranth.hdl import Signal


def delay(m, value, cycles: int, name: str):
    """`value` as seen `cycles` clock cycles later (sync domain of module `m`)."""
    for i in range(cycles):
        stage = Signal(len(value), name=f"{name}{i}")
        m.d.sync += stage.eq(value)
        value = stage
    return value
