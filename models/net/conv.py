"""Channel-last activations of conv nets: patch gathering (im2col) and bit max-pooling.

An activation map [H, W, C] is stored flat, pixel index (y*W + x)*C + c. A K x K conv (stride
1, no padding) sees, at output position (oy, ox), the patch whose bit (ky*K + kx)*C + c is
input (oy+ky, ox+kx, c); its output map is [(H-K+1), (W-K+1), C_out], flat in the same order.
A P x P max-pool (stride P) of +-1 values is the OR of their bits.
"""
from functools import lru_cache

import numpy as np
import torch


@lru_cache(maxsize=64)
def patch_index(shape: tuple, k: int) -> np.ndarray:
    """int64 [OH*OW, K*K*C]: for each output position, the flat input index of each patch bit."""
    h, w, c = shape
    oy, ox = np.meshgrid(np.arange(h - k + 1), np.arange(w - k + 1), indexing="ij")
    ky, kx, ch = np.meshgrid(np.arange(k), np.arange(k), np.arange(c), indexing="ij")
    rows = (oy.reshape(-1, 1) + ky.reshape(1, -1)) * w + (ox.reshape(-1, 1) + kx.reshape(1, -1))
    return rows * c + ch.reshape(1, -1)


def patches(x: torch.Tensor, shape: tuple, k: int) -> torch.Tensor:
    """[B, H*W*C] activations -> [B * OH*OW, K*K*C] patches (image-major, then position)."""
    idx = torch.from_numpy(patch_index(tuple(shape), k))
    return x[:, idx].reshape(-1, idx.shape[1])


def maxpool_bits(x: torch.Tensor, shape: tuple, p: int) -> torch.Tensor:
    """[B, H*W*C] bits -> [B, (H/P)*(W/P)*C] bits: OR over each P x P window."""
    h, w, c = shape
    b = x.reshape(-1, h // p, p, w // p, p, c)
    return b.amax(dim=(2, 4)).reshape(x.shape[0], -1)
