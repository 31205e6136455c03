"""Integer golden model: XNOR-popcount, thresholds, class scores, argmax. The reference
every hardware output is compared with."""
from dataclasses import dataclass

import numpy as np
import torch

from . import kinds, stochastic
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


def layer_dot(net: Net, i: int, x: torch.Tensor, weights=None) -> torch.Tensor:
    """Integer dot products of layer i for inputs x [B, in_size]: [B, n_out] for a dense layer,
    [B, OH*OW*C_out] channel-last for a conv layer (one dot per position and channel);
    `weights`: per-image weights uint8 [B, n_out, n_in] instead of the layer's."""
    return kinds.of(net.layers[i]).dots(net, i, x, weights)


CONV_BATCH = 128  # images at a time through conv layers (their patch matrices are large)


def run(net: Net, images: np.ndarray, weights=None) -> GoldenResult:
    """Evaluate the net on uint8 images [B, pixels] (channel-last, row-major). `weights`: one
    entry per layer, None (the layer's weights) or per-image weights uint8 [B, n_out, n_in]
    (each image evaluated with its own weights: a sample of a Bayesian net, models.bayes)."""
    images = np.asarray(images, np.uint8)
    weights = weights or [None] * len(net.layers)
    if not net.is_dense and len(images) > CONV_BATCH:
        cut = lambda s: [None if w is None else w[s:s + CONV_BATCH] for w in weights]
        parts = [run(net, images[s:s + CONV_BATCH], cut(s)) for s in range(0, len(images), CONV_BATCH)]
        return GoldenResult(np.concatenate([p.scores for p in parts]), np.concatenate([p.pred for p in parts]),
                            [np.concatenate(a) for a in zip(*[p.activations for p in parts])])
    x = first_input(net, images)
    acts = []
    for i, layer in enumerate(net.layers):
        if layer.is_output:
            scores = layer_dot(net, i, x, weights[i])
        else:
            x = kinds.of(layer).bits(net, i, x, weights[i])
            acts.append(x.numpy())
    return GoldenResult(scores.numpy(), torch.argmax(scores, dim=1).numpy(), acts)
