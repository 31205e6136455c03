"""Nets with random weights and thresholds, for tests that need shapes, not accuracy."""
import numpy as np

from bnnmram.models.net import netfile
from bnnmram.models.net.netfile import Layer, Net


SC_SEED = 0x1234567   # the sc seed of the random nets with stochastic input


def _net(layers, kind, samples) -> Net:
    """The Net of random layers with the input settings of `kind`."""
    return Net(layers, 100 if kind == "binarized" else None, {"dataset": "random"},
               SC_SEED if kind == "sc" else None)


def random_net(arch, seed=0, kind="pixel", samples=4) -> Net:
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(arch, arch[1:])):
        w = rng.integers(0, 2, (b, a), dtype=np.uint8)
        k = kind if i == 0 else "bits"
        n = samples if i == 0 and kind == "sc" else 0
        if i == len(arch) - 2:
            layers.append(Layer(w, k, samples=n))
        else:
            peak = netfile.dot_peak(a, k, n)
            layers.append(Layer(w, k, rng.integers(-peak // 8, peak // 8 + 1, b), rng.integers(0, 2, b).astype(bool),
                                samples=n))
    net = _net(layers, kind, samples)
    net.binarize_threshold = 128 if kind == "binarized" else None
    return net


def save_random_net(path, arch, seed=0, kind="pixel", samples=4):
    return netfile.save(random_net(arch, seed, kind, samples), path)


def random_conv_net(seed=0, kind="pixel", shape=(8, 8, 2), samples=4) -> Net:
    """conv4k3 -> pool2 -> conv3k2 -> dense5 -> dense3 with random weights and thresholds."""
    rng = np.random.default_rng(seed)

    def thr(n, n_in, k):
        peak = netfile.dot_peak(n_in, k, samples)
        return rng.integers(-peak // 4, peak // 4 + 1, n), rng.integers(0, 2, n).astype(bool)
    h, w, c = shape
    l0 = Layer(rng.integers(0, 2, (4, 9 * c), dtype=np.uint8), kind, *thr(4, 9 * c, kind), kind="conv",
               kernel=3, in_shape=shape, samples=samples if kind == "sc" else 0)
    l1 = Layer(np.zeros((0, 0), np.uint8), "bits", kind="maxpool", pool=2, in_shape=l0.out_shape)
    l2 = Layer(rng.integers(0, 2, (3, 4 * 4), dtype=np.uint8), "bits", *thr(3, 16, "bits"), kind="conv",
               kernel=2, in_shape=l1.out_shape)
    n = int(np.prod(l2.out_shape))
    l3 = Layer(rng.integers(0, 2, (5, n), dtype=np.uint8), "bits", *thr(5, n, "bits"))
    l4 = Layer(rng.integers(0, 2, (3, 5), dtype=np.uint8), "bits")
    return _net([l0, l1, l2, l3, l4], kind, samples)


def random_spec_net(spec: str, shape, seed=0, kind="pixel", samples=4) -> Net:
    """A net of the --arch spec (convCkK, poolP, denseN) on `shape` inputs, random weights and
    thresholds spread around zero so activations take both values."""
    from bnnmram.models.net.cnn import parse_spec
    rng = np.random.default_rng(seed)
    layers, shape = [], tuple(shape)
    parsed = parse_spec(spec)
    for i, l in enumerate(parsed):
        k = kind if i == 0 else "bits"
        if l[0] == "pool":
            layers.append(Layer(np.zeros((0, 0), np.uint8), "bits", kind="maxpool", pool=l[1], in_shape=shape))
        else:
            n_in = l[2] * l[2] * shape[2] if l[0] == "conv" else int(np.prod(shape))
            w = rng.integers(0, 2, (l[1], n_in), dtype=np.uint8)
            spread = int(np.sqrt(n_in) * {"pixel": 64, "sc": samples}.get(k, 1)) + 1
            t, f = (None, None) if i == len(parsed) - 1 else \
                (rng.integers(-spread, spread + 1, l[1]), rng.integers(0, 2, l[1]).astype(bool))
            extra = {"kind": "conv", "kernel": l[2], "in_shape": shape} if l[0] == "conv" else {}
            layers.append(Layer(w, k, t, f, samples=samples if k == "sc" else 0, **extra))
        shape = layers[-1].out_shape
    return _net(layers, kind, samples)


def bayesian(net: Net, seed=0, certain=0.5) -> Net:
    """The net with random levels (a `certain` share of them at 0 or 15), weights their most
    probable bits, score scale 0.25: a Bayesian net (version 3) of the same shapes."""
    import dataclasses
    from bnnmram.models.net import levels
    rng = np.random.default_rng(seed)
    layers = []
    for l in net.layers:
        if not l.has_weights:
            layers.append(l)
            continue
        q = rng.integers(1, levels.TOP, l.weights.shape)
        fixed = rng.random(l.weights.shape) < certain
        q = np.where(fixed, rng.integers(0, 2, l.weights.shape) * levels.TOP, q).astype(np.uint8)
        layers.append(dataclasses.replace(l, weights=levels.map_bits(q), levels=q))
    return Net(layers, net.binarize_threshold, dict(net.meta), net.sc_seed, 0.25)
