"""A max-pool layer in hardware: a MaxPool unit ORs each P x P window of the pixel stream; no
weights, no MVTU, one input pixel per cycle (PoolFold)."""
from amaranth.lib import wiring

from ..folding import PoolFold
from ..maxpool import MaxPool
from .base import HardwareKind


class MaxPoolHardware(HardwareKind):
    name = "maxpool"

    def stream(self, net, i):
        h, w, _ = net.layers[i].in_shape
        return 1, h * w, (0, 0, 0)

    def fold(self, i, layer, pe, simd, stream):
        return PoolFold(stream[1])

    def build(self, acc, m, i, prev):
        h, w, c = acc.net.layers[i].in_shape
        m.submodules[f"pool{i}"] = pool = MaxPool(height=h, width=w, channels=c, pool=acc.net.layers[i].pool)
        wiring.connect(m, prev, pool.inp)
        return pool.out

    def manifest(self, i, layer, fold, unit, read_latency, top):
        return {"pool": layer.pool}


MAXPOOL = MaxPoolHardware()
