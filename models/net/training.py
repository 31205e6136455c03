"""Training and export of either kind of BNN: the MLP (models.net.bnn) or the conv net
(models.net.cnn), chosen by the architecture; the one entry point the flow uses."""
import math
import time

import numpy as np
import torch
from torch import nn

from ..errors import BnnMramError
from .bnn import BNN, export_mlp
from .cnn import ConvBNN, export_conv, spec_shapes
from .netfile import Net


def export(model, meta: dict | None = None) -> Net:
    """The trained net as integer layers (BNN: net file version 1; ConvBNN: version 2)."""
    return export_mlp(model, meta) if isinstance(model, BNN) else export_conv(model, meta)


def check_arch(arch, train_x, train_y, input_shape=None):
    """One line if the architecture (MLP sizes, or a conv spec with the images' [H, W, C]
    shape) cannot be trained on these images and labels."""
    if arch and isinstance(arch[0], tuple):
        if input_shape is None or int(np.prod(input_shape)) != train_x.shape[1]:
            raise BnnMramError(f"a conv architecture needs the images' [H, W, C] shape, not {input_shape}")
        spec_shapes(arch, input_shape)
        classes = arch[-1][1]
    else:
        if train_x.shape[1] != arch[0]:
            raise BnnMramError(f"architecture input size {arch[0]} does not match the dataset's "
                               f"{train_x.shape[1]} pixels")
        classes = arch[-1]
    if int(train_y.max()) >= classes:
        raise BnnMramError(f"architecture output size {classes} is smaller than the dataset's "
                           f"{int(train_y.max()) + 1} classes")


def train(arch, train_x, train_y, *, epochs=20, seed=0, batch=100, lr=5e-3,
          binarize_input=False, train_ber=0.0, progress=None, input_shape=None, sc_samples=0, sc_seed=0,
          bayesian=False, kl_weight=1.0):
    """Train a BNN on uint8 images; `progress(epoch, loss, seconds)` is called each epoch.
    `arch`: MLP sizes [784, 256, 10], or a conv spec (models.net.cnn.parse_spec) with the
    images' `input_shape` (H, W, C). `bayesian`: a Bernoulli posterior per weight
    (models.net.binary), trained on the ELBO: cross-entropy + kl_weight * KL / training images."""
    torch.manual_seed(seed)
    check_arch(arch, train_x, train_y, input_shape)
    if not (math.isfinite(lr) and lr > 0):
        raise BnnMramError(f"learning rate must be a positive number, not {lr!r}")
    if isinstance(arch[0], tuple):
        model = ConvBNN(arch, input_shape, binarize_input, sc_samples, sc_seed)
    else:
        model = BNN(arch, binarize_input, sc_samples, sc_seed)
    model.train_ber = float(train_ber)
    if bayesian:
        model.make_bayesian()
    if not (math.isfinite(kl_weight) and kl_weight >= 0):
        raise BnnMramError(f"KL weight must be a number >= 0, not {kl_weight!r}")
    x = torch.from_numpy(np.array(train_x))  # a writable copy
    y = torch.from_numpy(np.array(train_y))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1), eta_min=lr * 1e-3)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            if bayesian:
                loss = loss + kl_weight * model.kl() / len(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            model.clip_()
            total += loss.item() * len(idx)
        if progress:
            progress(epoch + 1, total / len(x), time.time() - t0)
    model.eval()
    return model
