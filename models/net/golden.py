"""Integer golden model: XNOR-popcount, thresholds, class scores, argmax. The reference
every hardware output is compared with."""
from dataclasses import dataclass

import numpy as np
import torch

from . import stochastic
from .conv import maxpool_bits, patches
from .xnor import dot_from_popcount
from .netfile import Net


@dataclass
class GoldenResult:
    scores: np.ndarray        # int64 [B, classes]
    pred: np.ndarray          # int64 [B], first maximum wins ties
    activations: list         # uint8 [B, out_size] bits of each hidden (conv, pool) layer


def first_input(net: Net, images) -> torch.Tensor:
    """What layer 0 reads from uint8 images [B, pixels]: the pixels, or for sc nets the
    values 2c - N of the stochastic sample counts (int8, models.net.stochastic)."""
    if net.layers[0].input == "sc":
        return torch.from_numpy(stochastic.values(images, net.sc_seed, net.layers[0].samples))
    return torch.from_numpy(np.array(images, np.uint8))


def _dots(layer, x: torch.Tensor, binarize_threshold) -> torch.Tensor:
    """Integer dot products [N, n_out] of rows x [N, n_in] (pixels, sc values 2c - N, or bits)
    with the weights.

    float32 products: every term and partial sum is an integer below 2**24 (n_in <= 65536,
    |inputs| <= 255, docs/netfile.md), so float32 is exact in any summation order."""
    w = torch.from_numpy(layer.weights).to(torch.float32)
    if layer.input in ("pixel", "sc"):
        return (x.to(torch.float32) @ (2 * w - 1).T).round().to(torch.int64)
    b = (x >= binarize_threshold) if layer.input == "binarized" else x
    b = b.to(torch.float32)
    popcount = b @ w.T + (1 - b) @ (1 - w).T  # popcount(xnor(b, w))
    return dot_from_popcount(popcount.round().to(torch.int64), layer.n_in)


def layer_dot(net: Net, i: int, x: torch.Tensor) -> torch.Tensor:
    """Integer dot products of layer i for inputs x [B, in_size]: [B, n_out] for a dense layer,
    [B, OH*OW*C_out] channel-last for a conv layer (one dot per position and channel)."""
    layer = net.layers[i]
    if layer.kind == "conv":
        rows = patches(x, layer.in_shape, layer.kernel)
        return _dots(layer, rows, net.binarize_threshold).reshape(x.shape[0], -1)
    return _dots(layer, x, net.binarize_threshold)


def threshold_bits(dot: torch.Tensor, thresholds, flip) -> torch.Tensor:
    """Bits of dots [B, ..., n_out] against per-neuron (per-channel) thresholds."""
    t = torch.from_numpy(np.asarray(thresholds, np.int64))
    f = torch.from_numpy(np.asarray(flip, bool))
    return torch.where(f, dot <= t, dot >= t).to(torch.uint8)


def _layer_bits(net: Net, i: int, x: torch.Tensor) -> torch.Tensor:
    layer = net.layers[i]
    if layer.kind == "maxpool":
        return maxpool_bits(x, layer.in_shape, layer.pool)
    dot = layer_dot(net, i, x)
    if layer.kind == "conv":
        dot = dot.reshape(x.shape[0], -1, layer.n_out)
    return threshold_bits(dot, layer.thresholds, layer.flip).reshape(x.shape[0], -1)


CONV_BATCH = 128  # images at a time through conv layers (their patch matrices are large)


def run(net: Net, images: np.ndarray) -> GoldenResult:
    """Evaluate the net on uint8 images [B, pixels] (channel-last, row-major)."""
    images = np.asarray(images, np.uint8)
    if not net.is_dense and len(images) > CONV_BATCH:
        parts = [run(net, images[s:s + CONV_BATCH]) for s in range(0, len(images), CONV_BATCH)]
        return GoldenResult(np.concatenate([p.scores for p in parts]), np.concatenate([p.pred for p in parts]),
                            [np.concatenate(a) for a in zip(*[p.activations for p in parts])])
    x = first_input(net, images)
    acts = []
    for i, layer in enumerate(net.layers):
        if layer.is_output:
            scores = layer_dot(net, i, x)
        else:
            x = _layer_bits(net, i, x)
            acts.append(x.numpy())
    return GoldenResult(scores.numpy(), torch.argmax(scores, dim=1).numpy(), acts)
