"""Stochastic-computing (SC) input: each 8-bit pixel becomes N random bits whose mean is the
pixel value, so the first layer is XNOR-popcount like every other (SC-BNN, Hirtzlin et al.).

Sample k (0 <= k < N, N a power of two in 1..64) of pixel i (its flat channel-last index in
the image) is the bit  pixel_i > r(i, k),  with

    S = 256 / N,  r(i, k) = k * S + u_i,  u_i = hash(seed, i) mod S  (0 <= r < 256)

hash = models.arx.mix(v0 = SC_TAG, v1 = i, seed): one counter-based hash per pixel, the same
function in the golden model, the campaign engines and the generated RTL. Each sample is a
Bernoulli bit of mean pixel/256 (r(i, k) is uniform over the 256 values for a random u_i); the
N thresholds of a pixel are stratified (one per interval of S values, a low-discrepancy SC
generator), so the N samples' sum is

    c_i = sum_k [pixel_i > r(i, k)] = (pixel_i >> (8 - log2 N)) + ((pixel_i mod S) > u_i)

which is what the hardware computes: one hash, one (8 - log2 N)-bit comparator and an
increment per pixel. The first layer combines the N binary images by summing their XNOR
popcounts before the threshold: with weight bits w (1 = +1),

    popcount = sum_i (w_i ? c_i : N - c_i),   dot = 2 * popcount - N * n_in
             = sum_i (2 w_i - 1) * (2 c_i - N)

and thresholds compare this dot (range [-N * n_in, N * n_in]) as in every other layer.
"""
import numpy as np

from ..arx import NumpyOps, mix
from ..errors import BnnMramError

SC_TAG = 0x5C5C5C5C     # v0 of the SC hash: a namespace apart from the fault hash's coordinates
SAMPLES = tuple(1 << k for k in range(7))   # N: 1, 2, 4, ..., 64
PIXEL_LEVELS = 256


def check_samples(n) -> int:
    """N as an int, or one line saying why not."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) not in SAMPLES:
        raise BnnMramError(f"stochastic samples per pixel must be a power of two in 1..64, not {n!r}")
    return int(n)


def stratum(samples: int) -> int:
    """S = 256 / N: the values each sample's threshold ranges over."""
    return PIXEL_LEVELS // samples


def count_bits(samples: int) -> int:
    """Bits of one count c in [0, N]: log2(N) + 1."""
    return samples.bit_length()


def sc_hash(seed: int, index) -> np.ndarray:
    """The 32-bit SC hash of pixel indices (array) under a seed."""
    v1 = np.asarray(index, np.uint32)
    v0 = np.full(v1.shape, SC_TAG, np.uint32)
    return mix(v0, v1, np.uint32(int(seed) & 0xFFFFFFFF), NumpyOps)


def dither(seed: int, pixels: int, samples: int) -> np.ndarray:
    """u_i = hash(seed, i) mod S for i in 0..pixels-1 (uint8)."""
    return (sc_hash(seed, np.arange(pixels)) % np.uint32(stratum(samples))).astype(np.uint8)


def thresholds(seed: int, pixels: int, samples: int) -> np.ndarray:
    """r(i, k) as uint8 [pixels, N]: the definition, for tests and third parties."""
    k = np.arange(samples, dtype=np.int64)[None, :]
    return (k * stratum(samples) + dither(seed, pixels, samples)[:, None].astype(np.int64)).astype(np.uint8)


def counts_from_dither(pixels, u, samples: int):
    """c = (p >> (8 - log2 N)) + ((p mod S) > u) on NumPy arrays, torch tensors (broadcast) or
    Amaranth Values (hdl.sc_encoder): one expression for the model and the logic."""
    s = stratum(samples)
    shift = s.bit_length() - 1
    return (pixels >> shift) + ((pixels & (s - 1)) > u)


def counts(images: np.ndarray, seed: int, samples: int) -> np.ndarray:
    """Sample counts c uint8 [B, pixels] of uint8 images [B, pixels] (flat, channel-last)."""
    px = np.asarray(images, np.uint8)
    u = dither(seed, px.shape[-1], samples)
    return counts_from_dither(px.astype(np.int16), u.astype(np.int16), samples).astype(np.uint8)


def values(images: np.ndarray, seed: int, samples: int) -> np.ndarray:
    """The first layer's +-1-weighted inputs 2c - N, int8 [B, pixels] (|2c - N| <= 64)."""
    return (2 * counts(images, seed, samples).astype(np.int16) - samples).astype(np.int8)


def random_values(pixels, samples: int, generator=None):
    """2c - N as float32 with a fresh uniform u per pixel and image (training: new stochastic
    samples every minibatch), from uint8 pixels [B, pixels]."""
    import torch   # here, not at import: the net file reader needs this module without torch
    u = torch.randint(0, stratum(samples), pixels.shape, generator=generator, dtype=torch.int16)
    c = counts_from_dither(pixels.to(torch.int16), u, samples)
    return (2 * c - samples).to(torch.float32)
