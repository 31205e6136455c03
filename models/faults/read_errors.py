"""Read errors at each inference, defined once (docs/fault-model.md, "Read errors"): the weight
bit stored at (layer, neuron, input index) is sensed inverted while the accelerator evaluates
the n-th image of a run (n from 0, read index r = n mod 2**24) iff

    fault_hash(seed ^ READ_KEY, layer, neuron, index, r) < T_read      T_read = round(ber * 2**32)

with the write-error model's hash (models.faults.coordinates, r in the write-count field): the
same counter-based read a Bayesian net's sampled macro makes (models.bayes.sampling, there with
r = n*T + t and a level's threshold), here with one threshold for every weight. Every read of the
weight while evaluating that image gives the same bit (a conv weight is read at every output
position); the stored bits never change. The hardware macro built with `gen --read-errors`
computes the same compare per read bit (hdl/memory/macro.py).

`read_flips` is the reference (NumPy); the campaign engine hashes inside its kernel
(models.faults.kernels.read_error_layer)."""
import numpy as np

from .coordinates import WRITE_BITS, fault_hash
from .model import ONE, rate_threshold

READ_KEY = 0x52454144        # "READ": keeps read errors apart from write errors and sampling of a seed
READ_INDEX_MOD = 1 << WRITE_BITS


def read_seed(seed: int) -> int:
    """The hash seed of read errors under fault seed `seed`."""
    return (int(seed) ^ READ_KEY) & 0xFFFFFFFF


def read_flips(shape, layer: int, seed: int, ber: float, image: int) -> np.ndarray:
    """bool [n_out, n_in]: the weight reads of `layer` sensed inverted for image number `image`."""
    t = rate_threshold(ber)
    n_out, n_in = shape
    if t == 0:
        return np.zeros(shape, bool)
    if t >= ONE:
        return np.ones(shape, bool)
    h = fault_hash(read_seed(seed), layer, np.arange(n_out)[:, None], np.arange(n_in)[None, :],
                   int(image) % READ_INDEX_MOD)
    return h < np.uint32(t)


def read_weights(stored: np.ndarray, layer: int, seed: int, ber: float, images) -> np.ndarray:
    """uint8 [len(images), n_out, n_in]: the stored bits as sensed for each image number."""
    stored = np.asarray(stored, np.uint8)
    return np.stack([stored ^ read_flips(stored.shape, layer, seed, ber, n).astype(np.uint8)
                     for n in images]) if len(images) else np.zeros((0,) + stored.shape, np.uint8)


def net_read_weights(net, seed: int, ber: float, images, layers=None) -> list[np.ndarray]:
    """golden.run's `weights`: per layer the weights [N, n_out, n_in] sensed for the image numbers
    `images`, or None (a max-pool, or a layer outside `layers`, whose reads do not err)."""
    return [read_weights(l.weights, i, seed, ber, images) if l.has_weights and (layers is None or i in layers)
            else None for i, l in enumerate(net.layers)]
