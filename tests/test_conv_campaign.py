"""The conv campaign engine equals the golden model on the same faulty net, image by image."""
import numpy as np
import pytest

from bnnmram.models.faults.conv_campaign import ConvCampaign
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.faults.reference import ReferenceCampaign
from bnnmram.models.net import golden
from bnnmram.models.net.netfile import Layer, Net


def conv_net(seed, kind="pixel", shape=(10, 10, 1), c1=70, c2=6):
    """conv(c1)k3 -> pool2 -> conv(c2)k2 -> dense 20 -> dense 7 -> dense 5: a map of more than 64
    channels (two words a pixel), a dense layer after another, random thresholds near zero."""
    rng = np.random.default_rng(seed)

    def thr(n, n_in, k):
        peak = n_in * (255 if k == "pixel" else 1)
        return rng.integers(-peak // 6, peak // 6 + 1, n), rng.integers(0, 2, n).astype(bool)
    h, w, c = shape
    l0 = Layer(rng.integers(0, 2, (c1, 9 * c), dtype=np.uint8), kind, *thr(c1, 9 * c, kind), kind="conv",
               kernel=3, in_shape=shape)
    if kind == "pixel":   # thresholds around the typical dot of 8-bit pixels
        l0.thresholds = rng.integers(-400, 400, c1)
    l1 = Layer(np.zeros((0, 0), np.uint8), "bits", kind="maxpool", pool=2, in_shape=l0.out_shape)
    l2 = Layer(rng.integers(0, 2, (c2, 4 * c1), dtype=np.uint8), "bits", *thr(c2, 4 * c1, "bits"), kind="conv",
               kernel=2, in_shape=l1.out_shape)
    n = int(np.prod(l2.out_shape))
    l3 = Layer(rng.integers(0, 2, (20, n), dtype=np.uint8), "bits", *thr(20, n, "bits"))
    l4 = Layer(rng.integers(0, 2, (7, 20), dtype=np.uint8), "bits", *thr(7, 20, "bits"))
    l5 = Layer(rng.integers(0, 2, (5, 7), dtype=np.uint8), "bits")
    return Net([l0, l1, l2, l3, l4, l5], 90 if kind == "binarized" else None, {})


CFGS = [FaultConfig(), FaultConfig(seed=1, ber=1e-3), FaultConfig(seed=2, ber=0.02), FaultConfig(seed=2, ber=0.2),
        FaultConfig(seed=5, mode="switch", rate_01=0.1, rate_10=0.03, init_state=1)]


@pytest.mark.parametrize("kind", ["pixel", "binarized"])
def test_engine_equals_golden_on_random_nets(kind):
    net = conv_net(3, kind)
    images = np.random.default_rng(4).integers(0, 256, (300, 100), dtype=np.uint8)
    labels = np.zeros(300, np.int64)
    camp = ConvCampaign(net, images, labels)
    assert np.array_equal(camp.clean_pred.numpy(), golden.run(net, images).pred)
    for cfg in CFGS:
        want = golden.run(faulty_net(net, cfg), images).pred
        assert np.array_equal(camp.predict(cfg).numpy(), want), cfg


def test_engine_equals_golden_on_a_trained_net_with_threshold_and_layer_options(digits):
    from bnnmram.models.net import training
    from bnnmram.models.net.cnn import parse_spec
    model = training.train(parse_spec("conv16k3-conv16k3-pool2-dense32-dense10"), digits.train_x, digits.train_y,
                      epochs=3, seed=1, input_shape=digits.shape)
    net = training.export(model, {})
    x, y = digits.test_x, digits.test_y
    for opts in ({}, {"thresholds": True}, {"layers": [1, 4]}, {"layers": [0], "thresholds": True}):
        fast, ref = ConvCampaign(net, x, y, **opts), ReferenceCampaign(net, x, y, **opts)
        for cfg in CFGS[1:]:
            assert np.array_equal(fast.predict(cfg).numpy(), ref.predict(cfg).numpy()), (opts, cfg)
            assert fast.accuracy(cfg) == ref.accuracy(cfg)
