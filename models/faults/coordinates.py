"""The fault hash of a weight's logical coordinates, defined once (`hash_function`): how
(layer, neuron, input index, write count) pack into the two 32-bit words of the ARX mix
(models.arx.rounds), generic over the arithmetic, so NumPy (here), Numba (models.faults.kernels)
and Amaranth (hdl.fault_hash) evaluate the very same function; tests pin all three together.

    v0 = layer << WRITE_BITS | (write mod 2**WRITE_BITS)     v1 = neuron << INDEX_BITS | index
"""
import numpy as np

from ..arx import MASK32, NumpyOps, rounds

WRITE_BITS = 24   # the write count's field (wraps after 2**24 writes of a word)
LAYER_BITS = 8    # layers 0..127 name weights, 128..255 thresholds
INDEX_BITS = 16   # the input index's field, the low half of v1
NEURON_BITS = 16  # the neuron's field, the high half of v1


def hash_function(ops):
    """fault_hash(seed, layer, neuron, index, write) -> 32-bit hash in the arithmetic `ops`."""
    mix, field, join = rounds(ops), ops.field, ops.join

    def fault_hash(seed, layer, neuron, index, write):
        v0 = join(field(write, WRITE_BITS, "write"), WRITE_BITS, field(layer, LAYER_BITS, "layer"))
        v1 = join(field(index, INDEX_BITS, "index"), INDEX_BITS, field(neuron, NEURON_BITS, "neuron"))
        return mix(v0, v1, field(seed, 32, "seed"))

    return ops.compile(fault_hash)


_numpy_hash = hash_function(NumpyOps)


def fault_hash(seed, layer, neuron, index, write=0):
    """32-bit hash of a weight's coordinates (arrays broadcast). Returns a uint32 array."""
    return _numpy_hash(int(seed) & MASK32, layer, neuron, index, write)


def layer_hash(shape, layer: int, seed: int, write: int = 0) -> np.ndarray:
    """fault_hash of every weight of a layer [n_out, n_in] (reusable across rates)."""
    n_out, n_in = shape
    return fault_hash(seed, layer, np.arange(n_out)[:, None], np.arange(n_in)[None, :], write)
