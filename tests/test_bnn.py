"""BinaryNet building blocks: sign with STE, error-aware weight flips, threshold export."""
import numpy as np
import torch

from bnnmram.models.net import binary, bnn, golden, training


def test_sign_ste():
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    y = binary.sign(x)
    assert y.tolist() == [-1, -1, 1, 1, 1]
    y.sum().backward()
    assert x.grad.tolist() == [0, 1, 1, 1, 0]  # hard-tanh gradient


def test_error_aware_training_flips_weights_only_in_training():
    fc = binary.BinaryLinear(50, 40)
    fc.train_ber = 1.0
    fc.train()
    assert torch.equal(fc.binary_weight(), -binary.sign(fc.weight))
    fc.train_ber = 0.3
    flipped = (fc.binary_weight() != binary.sign(fc.weight)).float().mean().item()
    assert 0.2 < flipped < 0.4
    fc.eval()
    assert torch.equal(fc.binary_weight(), binary.sign(fc.weight))


def test_error_aware_net_exports_exactly(digits):
    model = training.train([64, 32, 10], digits.train_x, digits.train_y, epochs=4, seed=3, train_ber=0.05)
    net = training.export(model, {"train_ber": 0.05})
    f = model.predict(torch.from_numpy(np.array(digits.test_x)))
    assert np.array_equal(golden.run(net, digits.test_x).pred, f)
    assert (f == digits.test_y).mean() > 0.7
