"""Programmable levels of a Bayesian weight (net file version 3): the probability that a read
of the weight gives +1, quantised to the LEVELS levels a cell is programmed to. Level q reads +1
with probability q / TOP; levels 0 and TOP are deterministic (-1 and +1). The weight's most
probable value (the net file's `weights` bit) is 1 iff q >= MAP_ONE."""
import numpy as np
import torch

LEVELS = 16          # 4 bits per weight
TOP = LEVELS - 1     # level 15: P(+1) = 1
MAP_ONE = 8          # q >= 8 <=> P(+1) > 1/2


def of_logits(theta: torch.Tensor) -> torch.Tensor:
    """int64 levels round(TOP * sigmoid(theta)) of latent logits (float64, half to even): the
    one quantisation the export and the float model's MAP weights both use."""
    return torch.round(torch.sigmoid(theta.detach().double()) * TOP).to(torch.int64)


def probability(q) -> np.ndarray:
    """P(read +1) of levels q: q / TOP."""
    return np.asarray(q, np.float64) / TOP


def map_bits(q: np.ndarray) -> np.ndarray:
    """uint8 most probable weight bits of levels q."""
    return (np.asarray(q) >= MAP_ONE).astype(np.uint8)


def read_thresholds() -> np.ndarray:
    """uint64 [LEVELS]: T_q = round(q * 2**32 / TOP) (half up): a read of a weight at level q
    gives +1 iff its 32-bit sampling hash is below T_q (a 33-bit compare: T_0 = 0 never,
    T_TOP = 2**32 always)."""
    q = np.arange(LEVELS, dtype=np.uint64)
    return (q * np.uint64(2 ** 33) + np.uint64(TOP)) // np.uint64(2 * TOP)
