"""What a layer reads, one table: the input kinds of the net file (`input` of a layer).

    pixel      8-bit unsigned pixels times +-1 weights (layer 0 only)
    binarized  pixels compared with the net's binarize_threshold, then XNOR-popcount (layer 0 only)
    sc         each pixel as N stochastic bits (models.net.stochastic); the layer sums the N
               XNOR-popcounts, i.e. values 2c - N times +-1 weights (layer 0 only)
    bits       the previous layer's output bits, XNOR-popcount (every layer after the first)
"""
from dataclasses import dataclass

import numpy as np
import torch

from .xnor import dot_from_popcount

PIXEL_MAX = 255


@dataclass(frozen=True)
class InputKind:
    name: str
    first_layer: bool   # read by layer 0 only (else by every later layer)
    xnor: bool          # bits XNOR weights, popcount (else signed values times +-1 weights)
    peak: int           # largest |input value| (0: the layer's sc samples N)

    def value_peak(self, samples: int = 0) -> int:
        """Largest |value| one input contributes to a dot product."""
        return self.peak or samples


INPUTS = {k.name: k for k in (InputKind("pixel", True, False, PIXEL_MAX), InputKind("binarized", True, True, 1),
                              InputKind("sc", True, False, 0), InputKind("bits", False, True, 1))}


def dot_peak(n_in: int, input_kind: str, samples: int = 0) -> int:
    """Largest |dot product| of a layer: n_in * 255 for 8-bit pixel inputs, n_in * N for N
    stochastic samples per pixel, else n_in."""
    return n_in * INPUTS[input_kind].value_peak(samples)


def dots(layer, x: torch.Tensor, binarize_threshold, weights=None) -> torch.Tensor:
    """Integer dot products [N, n_out] of rows x [N, n_in] (pixels, sc values 2c - N, or bits)
    with the layer's weights, or with per-image weights uint8 [B, n_out, n_in] (`weights`: the
    N rows are B images' N/B rows each, image-major, e.g. one sample of a Bayesian net each).

    float32 products: every term and partial sum is an integer below 2**24 (n_in <= 65536,
    |inputs| <= 255, docs/netfile.md), so float32 is exact in any summation order."""
    w = torch.from_numpy(layer.weights if weights is None else np.asarray(weights)).to(torch.float32)
    n_in = w.shape[-1]
    if w.dim() == 3:   # per image: [B, rows, n_in] @ [B, n_in, n_out]
        x = x.reshape(w.shape[0], -1, n_in)
    wt = w.transpose(-1, -2)
    if not INPUTS[layer.input].xnor:
        d = (x.to(torch.float32) @ (2 * wt - 1)).round().to(torch.int64)
    else:
        b = (x >= binarize_threshold) if layer.input == "binarized" else x
        b = b.to(torch.float32)
        popcount = b @ wt + (1 - b) @ (1 - wt)  # popcount(xnor(b, w))
        d = dot_from_popcount(popcount.round().to(torch.int64), n_in)
    return d.reshape(-1, d.shape[-1])
