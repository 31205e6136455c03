"""Integer golden model vs the float BNN, and the XNOR-popcount identity."""
import numpy as np
import torch

from bnnmram.models.net import golden
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.net.xnor import dot_from_popcount, popcount_threshold


def test_xnor_popcount_identity():
    rng = np.random.default_rng(0)
    for n in (1, 7, 64, 300):
        a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
        assert dot_from_popcount(int((a == b).sum()), n) == int(((2 * a - 1) * (2 * b - 1)).sum())


def test_popcount_threshold_is_exact():
    for n in (5, 8):
        for t in range(-n - 2, n + 3):
            for flip in (False, True):
                tp = popcount_threshold(t, n, flip)
                for pc in range(n + 1):
                    d = dot_from_popcount(pc, n)
                    assert ((d <= t) if flip else (d >= t)) == ((pc <= tp) if flip else (pc >= tp))


def test_golden_equals_float_bnn_image_for_image(small_net, binarized_net, digits):
    for model, net, _ in (small_net, binarized_net):
        g = golden.run(net, digits.test_x)
        f = model.predict(torch.from_numpy(np.array(digits.test_x)))
        assert np.array_equal(g.pred, f)
        assert (g.pred == digits.test_y).mean() > 0.85


def test_golden_evaluates_faulty_weights(small_net, digits):
    _, net, _ = small_net
    clean = golden.run(net, digits.test_x)
    same = golden.run(faulty_net(net, FaultConfig(seed=1, ber=0.0)), digits.test_x)
    assert np.array_equal(clean.scores, same.scores)
    noisy = golden.run(faulty_net(net, FaultConfig(seed=1, ber=0.2)), digits.test_x)
    assert not np.array_equal(clean.scores, noisy.scores)
    assert (noisy.pred == digits.test_y).mean() < (clean.pred == digits.test_y).mean()
