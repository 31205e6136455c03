"""The fault hash of a weight's logical coordinates, defined once: how (layer, neuron, input
index, write count) pack into the two 32-bit words of the ARX mix (models.arx), and the NumPy
evaluation. The Numba kernel (models.faults.kernels) and the Amaranth logic (hdl.fault_hash)
use these field widths; tests pin all three to each other.

    v0 = layer << WRITE_BITS | (write mod 2**WRITE_BITS)     v1 = neuron << INDEX_BITS | index
"""
import numpy as np

from ..arx import MASK32, NumpyOps, mix

WRITE_BITS = 24   # the write count's field (wraps after 2**24 writes of a word)
LAYER_BITS = 8    # layers 0..127 name weights, 128..255 thresholds
INDEX_BITS = 16   # the input index's field, the low half of v1
NEURON_BITS = 16  # the neuron's field, the high half of v1


def fault_hash(seed, layer, neuron, index, write=0):
    """32-bit hash of a weight's coordinates (arrays broadcast). Returns uint32 array."""
    seed = np.uint32(int(seed) & MASK32)
    layer = np.asarray(layer, np.uint32)
    write = np.asarray(write, np.uint32) & np.uint32((1 << WRITE_BITS) - 1)
    v0 = (layer << np.uint32(WRITE_BITS)) | write
    v1 = (np.asarray(neuron, np.uint32) << np.uint32(INDEX_BITS)) | np.asarray(index, np.uint32)
    v0, v1 = np.broadcast_arrays(v0, v1)
    return mix(v0.astype(np.uint32), v1.astype(np.uint32), seed, NumpyOps)


def layer_hash(shape, layer: int, seed: int, write: int = 0) -> np.ndarray:
    """fault_hash of every weight of a layer [n_out, n_in] (reusable across rates)."""
    n_out, n_in = shape
    return fault_hash(seed, layer, np.arange(n_out)[:, None], np.arange(n_in)[None, :], write)
