"""The counter-based hash both random processes of bnnmram use: 8 rounds of a Speck-like
add-rotate-xor (ARX) mix on two 32-bit words, written once, generic over its arithmetic so
NumPy (models) and Amaranth (hdl) evaluate the very same function.

    round r: v0 = (rotr(v0, 8) + v1) ^ (seed + r * 0x9E3779B9);  v1 = rotl(v1, 3) ^ v0
    hash = v0 ^ v1

Users: the MRAM write-error model (models.faults.model: v0, v1 = a weight's coordinates) and
the stochastic-computing input layer (models.net.stochastic: v0 = a tag, v1 = a pixel index).
"""
import numpy as np

ROUNDS = 8
GOLDEN = 0x9E3779B9
MASK32 = 0xFFFFFFFF


def mix(v0, v1, seed, ops):
    """The ARX rounds, generic over `ops` (add, rotl, rotr, const, node) so NumPy and
    Amaranth evaluate the very same function. `node` names a round's result (a wire in logic)."""
    for r in range(ROUNDS):
        key = ops.node(ops.add(seed, ops.const((r * GOLDEN) & MASK32)))
        v0 = ops.node(ops.add(ops.rotr(v0, 8), v1) ^ key)
        v1 = ops.node(ops.rotl(v1, 3) ^ v0)
    return v0 ^ v1


class NumpyOps:
    """32-bit unsigned arithmetic on NumPy arrays."""

    @staticmethod
    def const(c):
        return np.uint32(c)

    @staticmethod
    def add(a, b):
        return (np.asarray(a, np.uint32) + np.asarray(b, np.uint32)).astype(np.uint32)

    @staticmethod
    def rotl(x, r):
        x = np.asarray(x, np.uint32)
        return ((x << np.uint32(r)) | (x >> np.uint32(32 - r))).astype(np.uint32)

    @staticmethod
    def rotr(x, r):
        return NumpyOps.rotl(x, 32 - r)

    @staticmethod
    def node(x):
        return x
