"""Layer kinds in hardware, one module each (dense, conv, maxpool), under the names of their
software halves (models.net.kinds): stream geometry, fold, unit, pipeline wiring, manifest
entry. hdl.net_folding, hdl.accelerator and hdl.generate ask the kind.
"""
from .base import HardwareKind
from .conv import CONV, window_fifo_depth
from .dense import DENSE
from .maxpool import MAXPOOL

KINDS: dict[str, HardwareKind] = {k.name: k for k in (DENSE, CONV, MAXPOOL)}

__all__ = ["KINDS", "HardwareKind", "of", "window_fifo_depth"]


def of(layer) -> HardwareKind:
    """The hardware half of a net-file Layer's kind."""
    return KINDS[layer.kind]
