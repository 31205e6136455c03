"""The counter-based hash both random processes of bnnmram use: 8 rounds of a Speck-like
add-rotate-xor (ARX) mix on two 32-bit words, written once (`rounds`), generic over its
arithmetic so NumPy (models), Numba (models.faults.kernels) and Amaranth (hdl) evaluate the very
same function.

    round r: v0 = (rotr(v0, 8) + v1) ^ (seed + r * 0x9E3779B9);  v1 = rotl(v1, 3) ^ v0
    hash = v0 ^ v1

Users: the MRAM write-error model (models.faults.coordinates: v0, v1 = a weight's coordinates)
and the stochastic-computing input layer (models.net.stochastic: v0 = a tag, v1 = a pixel index).

An arithmetic ("ops") is a namespace of 32-bit operations: const, add, rotl, rotr, node (names a
round's result: a wire in logic), stage(r, v0, v1) (the state entering round r: identity, or a
pipeline register in logic), field(x, width, name) (x zero-extended or truncated to
`width` bits), join(low, shift, high) (low | high << shift, low being `shift` bits wide) and
compile(function) (what makes a Python function callable in that arithmetic: identity for NumPy
and Amaranth, an inlined njit for Numba).
"""
import numpy as np

ROUNDS = 8
GOLDEN = 0x9E3779B9
MASK32 = 0xFFFFFFFF


def rounds(ops):
    """The ARX mix as a function (v0, v1, seed) -> 32-bit hash in the arithmetic `ops`."""
    add, rotl, rotr, const, node, stage = ops.add, ops.rotl, ops.rotr, ops.const, ops.node, ops.stage

    def mix(v0, v1, seed):
        for r in range(ROUNDS):
            v0, v1 = stage(r, v0, v1)
            key = node(add(seed, const((r * GOLDEN) & MASK32)))
            v0 = node(add(rotr(v0, 8), v1) ^ key)
            v1 = node(rotl(v1, 3) ^ v0)
        return v0 ^ v1

    return ops.compile(mix)


def mix(v0, v1, seed, ops):
    """The ARX mix of (v0, v1) under `seed`, evaluated in the arithmetic `ops`."""
    return rounds(ops)(v0, v1, seed)


class NumpyOps:
    """32-bit unsigned arithmetic on NumPy arrays (broadcasting)."""

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

    @staticmethod
    def stage(r, v0, v1):
        return v0, v1

    @staticmethod
    def field(x, width, name=""):
        return np.asarray(x, np.uint32) & np.uint32((1 << width) - 1)

    @staticmethod
    def join(low, shift, high):
        return (np.asarray(low, np.uint32) | (np.asarray(high, np.uint32) << np.uint32(shift))).astype(np.uint32)

    @staticmethod
    def compile(function):
        return function
