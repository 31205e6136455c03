"""Binary torch layers for training: the sign with a straight-through estimator and the
binary-weight dense and conv layers (sign(w), +1 for 0), deterministic or Bayesian. The layer
kinds (models.net.kinds) build their torch layers from these.

Bayesian weights (`bayesian = True`): the latent `weight` w in [-1, 1] scales to the logit
theta = THETA_MAX * w of a Bernoulli posterior, P(w = +1) = sigmoid(theta), mean-field over the weights, prior Bernoulli(1/2). Each
training forward pass draws a hard +-1 sample (a logistic-noise / Gumbel-max draw) and passes
the gradient of its Gumbel-softmax (concrete) relaxation tanh((theta + L) / 2 tau) straight
through (Jang et al. 2017; Maddison et al. 2017); the loss adds the KL term of the ELBO
(`kl`). This is the reparametrisation BayesBiNN uses (Meng et al. 2020), trained with the plain
ELBO gradient and Adam instead of BayesBiNN's natural-gradient rule, so that the deterministic
and the Bayesian nets share one optimiser, batch norm and threshold export.
"""
import math

import numpy as np

import torch
from torch import nn
from torch.nn import functional as F

from . import levels

TAU = 1.0            # temperature of the concrete relaxation
THETA_MAX = 6.0      # logit of a latent weight of 1: P(+1) in [0.0025, 0.9975]


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
    (error-aware training) each one is flipped with that probability per forward pass. With
    `bayesian`, samples of the Bernoulli posterior in training and its most probable weights
    (levels >= MAP_ONE, models.net.levels) in evaluation."""

    bayesian = False

    def binary_weight(self) -> torch.Tensor:
        if self.bayesian:
            wb = self.sampled_weight() if self.training else self.map_weight()
        else:
            wb = sign(self.weight)
        if self.training and self.train_ber > 0:
            wb = torch.where(torch.rand_like(wb) < self.train_ber, -wb, wb)
        return wb

    @property
    def theta(self) -> torch.Tensor:
        """The posterior's logits: P(w = +1) = sigmoid(theta)."""
        return self.weight * THETA_MAX

    def sampled_weight(self) -> torch.Tensor:
        """A +-1 draw of Bernoulli(sigmoid(theta)) forward, the concrete gradient backward."""
        u = torch.rand_like(self.weight).clamp_(1e-7, 1 - 1e-7)
        noisy = self.theta + torch.log(u) - torch.log1p(-u)
        soft = torch.tanh(noisy / (2 * TAU))
        hard = torch.where(noisy >= 0, 1.0, -1.0).to(soft.dtype)
        return hard + soft - soft.detach()

    def map_weight(self) -> torch.Tensor:
        """The most probable +-1 weights of the quantised levels (what the net file's bits hold)."""
        return torch.where(levels.of_logits(self.theta) >= levels.MAP_ONE, 1.0, -1.0).to(self.weight.dtype)

    def kl(self) -> torch.Tensor:
        """KL(Bernoulli(sigmoid(theta)) || Bernoulli(1/2)) summed over the weights (nats)."""
        theta = self.theta
        lp, lq = F.logsigmoid(theta), F.logsigmoid(-theta)
        p = torch.sigmoid(theta)
        return (p * lp + (1 - p) * lq).sum() + self.weight.numel() * math.log(2)

    def clip_(self):
        """Latent weights to [-1, 1] (Bayesian logits to [-THETA_MAX, THETA_MAX])."""
        self.weight.data.clamp_(-1, 1)


def exported_bits(layer) -> np.ndarray:
    """uint8 weight bits in the layer's torch layout (1 codes +1): sign(w) >= 0, or for Bayesian
    weights the most probable value of the quantised level."""
    if layer.bayesian:
        return levels.map_bits(exported_levels(layer))
    return (layer.weight.detach() >= 0).to(torch.uint8).numpy()


def exported_levels(layer) -> np.ndarray | None:
    """uint8 levels (models.net.levels) of a Bayesian layer in its torch layout; None otherwise."""
    return levels.of_logits(layer.theta).to(torch.uint8).numpy() if layer.bayesian else None


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
