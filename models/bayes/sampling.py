"""Read-time sampling of a Bayesian net's weights, defined once (docs/fault-model.md, "Read-time
sampling"). Pass t of image n in a run of T passes per image has the read index r = n*T + t
(mod 2**24); in that pass a weight (layer l, neuron j, input i) at level q reads +1 iff

    fault_hash(seed ^ SAMPLE_KEY, l, j, i, r) < T_q        T_q = round(q * 2**32 / 15)

with the write-error model's hash (models.faults.coordinates, the read index in the write-count
field). Every read of the weight in that pass (a conv weight is read at every output position)
gives the same value: a pass evaluates one sample of the whole net. Levels 0 and 15 never vary.

`sample_weights` is the reference (NumPy); `Sampler` draws many passes at once (Numba).
"""
import numpy as np
from numba import njit, prange

from ..errors import BnnMramError
from ..faults.coordinates import WRITE_BITS, fault_hash, hash_function
from ..faults.kernels import NumbaOps
from ..net import levels

SAMPLE_KEY = 0x53414D50      # "SAMP": keeps sampling streams apart from write errors of the same seed
READ_INDEX_MOD = 1 << WRITE_BITS
MAX_SAMPLES = 1024           # passes per image (T) a run may ask for


def check_samples(t) -> int:
    """T, the passes per image: an integer in [1, MAX_SAMPLES]."""
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= MAX_SAMPLES:
        raise BnnMramError(f"samples per image must be an integer in [1, {MAX_SAMPLES}], not {t!r}")
    return int(t)


def read_index(image, t, samples: int):
    """r = image * T + t (mod 2**24): the read index of pass t of image `image` of a run."""
    return (np.asarray(image, np.int64) * samples + np.asarray(t, np.int64)) % READ_INDEX_MOD


def sample_weights(q: np.ndarray, seed: int, layer: int, r: int) -> np.ndarray:
    """uint8 [n_out, n_in] weight bits of one pass with read index r, for levels q [n_out, n_in]."""
    n_out, n_in = q.shape
    h = fault_hash((seed ^ SAMPLE_KEY) & 0xFFFFFFFF, layer, np.arange(n_out)[:, None], np.arange(n_in)[None, :],
                   int(r) % READ_INDEX_MOD)
    return (h.astype(np.uint64) < levels.read_thresholds()[q]).astype(np.uint8)


_hash = hash_function(NumbaOps)


@njit(parallel=True, cache=True)
def _draw(base, rows, cols, thresholds, seed, layer, rs, out):
    """out[p] = base, with the weights (rows[k], cols[k]) redrawn for read index rs[p]."""
    for p in prange(rs.shape[0]):
        out[p] = base
        for k in range(rows.shape[0]):
            h = _hash(seed, layer, rows[k], cols[k], rs[p])
            out[p, rows[k], cols[k]] = 1 if h < thresholds[k] else 0


class Sampler:
    """Draws a layer's weights for many passes: only weights at levels 1..14 are hashed."""

    def __init__(self, q: np.ndarray, seed: int, layer: int):
        q = np.asarray(q, np.uint8)
        self.base = levels.map_bits(q)   # levels 0 and 15 are their own (never vary)
        self.rows, self.cols = (a.astype(np.int64) for a in np.nonzero((q > 0) & (q < levels.TOP)))
        self.thresholds = levels.read_thresholds()[q[self.rows, self.cols]]
        self.seed, self.layer = (seed ^ SAMPLE_KEY) & 0xFFFFFFFF, layer

    @property
    def varying(self) -> int:
        """Weights whose reads vary (levels 1..14)."""
        return len(self.rows)

    def draw(self, rs: np.ndarray) -> np.ndarray:
        """uint8 [len(rs), n_out, n_in]: the layer's weights in the passes with read indices rs."""
        rs = np.ascontiguousarray(np.asarray(rs, np.int64) % READ_INDEX_MOD)
        out = np.empty((len(rs),) + self.base.shape, np.uint8)
        _draw(self.base, self.rows, self.cols, self.thresholds, np.uint64(self.seed), np.int64(self.layer), rs, out)
        return out
