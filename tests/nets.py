"""Nets with random weights and thresholds, for tests that need shapes, not accuracy."""
import numpy as np

from models.net import netfile
from models.net.netfile import Layer, Net


def random_net(arch, seed=0, kind="pixel") -> Net:
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(arch, arch[1:])):
        w = rng.integers(0, 2, (b, a), dtype=np.uint8)
        k = kind if i == 0 else "bits"
        if i == len(arch) - 2:
            layers.append(Layer(w, k))
        else:
            peak = netfile.dot_peak(a, k)
            layers.append(Layer(w, k, rng.integers(-peak // 8, peak // 8 + 1, b), rng.integers(0, 2, b).astype(bool)))
    return Net(layers, 128 if kind == "binarized" else None, {"dataset": "random"})


def save_random_net(path, arch, seed=0, kind="pixel"):
    return netfile.save(random_net(arch, seed, kind), path)
