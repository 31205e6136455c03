"""A dense layer in hardware: an MVTU over one input vector per image; after a conv or
max-pool layer a Flatten unit turns that layer's pixel stream into the vector."""
from amaranth.lib import wiring

from bnnmram.models.net import kinds as software

from ..flatten import Flatten
from .base import WeightedHardware


class DenseHardware(WeightedHardware):
    name = "dense"

    def stream(self, net, i):
        layer = net.layers[i]
        if i > 0 and software.of(net.layers[i - 1]).spatial_output:   # it reads a flattened map
            oh, ow, _ = net.layers[i - 1].out_shape
            return 1, oh * ow, (0, 0, 0)
        if i == 0 and layer.input == "sc":   # its ScEncoder converts one pixel per cycle
            return 1, layer.n_in, (0, 0, 0)
        return 1, 0, (0, 0, 0)

    def build(self, acc, m, i, prev):
        net, u = acc.net, acc.units[i]
        if i > 0 and software.of(net.layers[i - 1]).spatial_output:
            oh, ow, c = net.layers[i - 1].out_shape
            m.submodules[f"flatten{i}"] = flat = Flatten(pixels=oh * ow, channels=c)
            wiring.connect(m, prev, flat.inp)
            prev = flat.out
        wiring.connect(m, prev, u.inp)
        return u.out


DENSE = DenseHardware()
