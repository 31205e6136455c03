"""Integer golden model: XNOR-popcount, thresholds, class scores, argmax. The reference
every hardware output is compared with."""
from dataclasses import dataclass

import numpy as np
import torch

from .netfile import Net
from .xnor import dot_from_popcount


@dataclass
class GoldenResult:
    scores: np.ndarray        # int64 [B, classes]
    pred: np.ndarray          # int64 [B], first maximum wins ties
    activations: list         # uint8 [B, n_out] bits of each hidden layer


def layer_dot(net: Net, i: int, x: torch.Tensor) -> torch.Tensor:
    """Integer dot products [B, n_out] of layer i for inputs x (pixels or bits)."""
    layer = net.layers[i]
    w = torch.from_numpy(layer.weights).to(torch.float64)  # exact for these sizes
    x = x.to(torch.float64)
    if layer.input == "pixel":
        return (x @ (2 * w - 1).T).round().to(torch.int64)
    if layer.input == "binarized":
        x = (x >= net.binarize_threshold).to(torch.float64)
    popcount = x @ w.T + (1 - x) @ (1 - w).T  # popcount(xnor(x, w))
    return dot_from_popcount(popcount.round().to(torch.int64), layer.n_in)


def threshold_bits(dot: torch.Tensor, thresholds, flip) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(thresholds, np.int64))
    f = torch.from_numpy(np.asarray(flip, bool))
    return torch.where(f, dot <= t, dot >= t).to(torch.uint8)


def run(net: Net, images: np.ndarray) -> GoldenResult:
    """Evaluate the net on uint8 images [B, pixels]."""
    x = torch.from_numpy(np.array(images)).to(torch.int64)
    acts = []
    for i, layer in enumerate(net.layers):
        dot = layer_dot(net, i, x)
        if layer.is_output:
            scores = dot
        else:
            x = threshold_bits(dot, layer.thresholds, layer.flip)
            acts.append(x.numpy())
    return GoldenResult(scores.numpy(), torch.argmax(scores, dim=1).numpy(), acts)
