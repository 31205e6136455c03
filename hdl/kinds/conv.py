"""A conv layer in hardware: a SlidingWindow over the channel-last pixel stream feeds an MVTU
its K*K*C patches, OH*OW per image (PE over output channels, SIMD over patch bits); a later
conv layer gets a FIFO in front of its window; a binarized first layer compares pixels with
the threshold before the window."""
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered

from ..sliding_window import SlidingWindow
from .base import WeightedHardware


def window_fifo_depth(layer) -> int:
    """Pixels of the FIFO in front of a conv layer's sliding window (not the first layer's):
    the burst the window takes before an image's first patch, (K-1)*W + K pixels, so the
    layer upstream works ahead while this one is busy instead of stalling in step with it."""
    _, w, _ = layer.in_shape
    return (layer.kernel - 1) * w + layer.kernel


class ConvHardware(WeightedHardware):
    name = "conv"

    def stream(self, net, i):
        layer = net.layers[i]
        oh, ow, _ = layer.out_shape
        h, w, _ = layer.in_shape
        return oh * ow, h * w, (layer.kernel, w, oh)

    def unit(self, net, i, fold, mram):
        binarized = net.layers[i].input == "binarized"   # bits through the window, binarized before it
        return super().unit(net, i, fold, mram, elem_bits=1 if binarized else None)

    def build(self, acc, m, i, prev):
        l, u = acc.net.layers[i], acc.units[i]
        h, w, c = l.in_shape
        if l.input == "binarized":
            prev = acc.binarize(m, prev)
        if i > 0:   # let the layer upstream run ahead by the window's longest burst
            m.submodules[f"window_fifo{i}"] = fifo = SyncFIFOBuffered(width=c, depth=window_fifo_depth(l))
            wiring.connect(m, prev, fifo.w_stream)
            prev = fifo.r_stream
        m.submodules[f"window{i}"] = swu = SlidingWindow(height=h, width=w, channels=c, kernel=l.kernel,
                                                         elem_bits=u.elem_bits)
        wiring.connect(m, prev, swu.inp)
        wiring.connect(m, swu.out, u.inp)
        return u.out

    def manifest(self, i, layer, fold, unit, read_latency, top):
        e = {**super().manifest(i, layer, fold, unit, read_latency, top),
             "kernel": layer.kernel, "window_idle_cycles": fold.window_idle}
        if i > 0:
            e["window_fifo_depth"] = window_fifo_depth(layer)
        return e


CONV = ConvHardware()
