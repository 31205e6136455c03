"""Register chains: a value delayed by a fixed number of clock cycles."""
from amaranth.hdl import Signal, Value


def delay(m, value, cycles: int, name: str):
    """`value` as seen `cycles` clock cycles later (sync domain of module `m`; shape kept, so a
    signed value stays signed)."""
    for i in range(cycles):
        stage = Signal(Value.cast(value).shape(), name=f"{name}{i}")
        m.d.sync += stage.eq(value)
        value = stage
    return value
