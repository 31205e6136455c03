"""Binary torch layers for training: the sign with a straight-through estimator and the
binary-weight dense and conv layers (sign(w), +1 for 0). The layer kinds (models.net.kinds)
build their torch layers from these."""
import torch
from torch import nn
from torch.nn import functional as F


class SignSTE(torch.autograd.Function):
    """sign(x) (+1 for 0) forward; the hard-tanh gradient (1 where |x| <= 1) backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def sign(x):
    return SignSTE.apply(x)


class BinaryWeights:
    """Binary weights sign(w) (+1 for 0) of a layer's latent `weight`; with `train_ber` > 0
    (error-aware training) each one is flipped with that probability per forward pass."""

    def binary_weight(self) -> torch.Tensor:
        wb = sign(self.weight)
        if self.training and self.train_ber > 0:
            wb = torch.where(torch.rand_like(wb) < self.train_ber, -wb, wb)
        return wb


class BinaryLinear(BinaryWeights, nn.Linear):
    """Linear layer with binary weights sign(w) (+1 for 0) and no bias; in training, with
    `train_ber` > 0, each binary weight is flipped with that probability per forward pass."""

    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out, bias=False)
        self.train_ber = 0.0

    def forward(self, x):
        return x @ self.binary_weight().T


class BinaryConv2d(BinaryWeights, nn.Conv2d):
    """K x K conv with binary weights sign(w) (+1 for 0), no bias, stride 1, no padding; with
    `train_ber` > 0 each binary weight is flipped with that probability per forward pass."""

    def __init__(self, c_in, c_out, k):
        super().__init__(c_in, c_out, k, bias=False)
        self.train_ber = 0.0

    def forward(self, x):
        return F.conv2d(x, self.binary_weight())
