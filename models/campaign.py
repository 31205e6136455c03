"""Monte Carlo fault campaigns at speed: exact accuracies of a net under MRAM write errors.

Per fault pattern the engine redoes only what the flipped weights change, on integers
(compiled kernels in `models.kernels`):

- the fault hash of every weight is computed once per seed (compiled, in parallel) and
  reused for every BER: a flip is `hash < threshold`;
- every layer keeps its error-free raw dot products r = x @ W (x = pixel - 128 for the
  pixel layer, input bits 0/1 otherwise) and output bits, with thresholds moved into that
  raw domain (bit = (r >= tt) xor invert);
- a layer whose inputs did not change recomputes only the neurons with flipped weights:
  each flip adds -2 w x_input to its neuron, one add over all images (feature-major);
- a layer whose inputs changed in some images works image by image: unchanged images only
  touch the flipped neurons, changed ones add the rows of the changed inputs,
  x'W' = xW + x(W' - W) + (x' - x)W';
- where flips are dense (high BER) a layer is recomputed with one int8 x int8 -> int32
  matrix product (`torch._int_mm`).

Its predictions equal the golden model's on the same faulty weights, image for image
(tests/test_campaign.py); `models.bench_sweep` compares its speed with a plain baseline.
"""
import numpy as np
import torch

from . import kernels
from .faults import FaultConfig, stored_thresholds, write_failures
from .netfile import Net

# Flips per weight above which a layer is recomputed densely: the int8 matrix product does
# n_in * n_out multiply-adds per image at about 16x (clean inputs: one vector add per flip)
# or 256x (changed inputs: one scalar add per flip and image) the rate of the incremental kernels.
DENSE_CLEAN = 1 / 16
DENSE_CHANGED = 1 / 256
DENSE_CHANGED_INPUTS = 1 / 8  # share of changed input bits above which a layer goes dense


def int_matmul(x8: torch.Tensor, w8t: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Exact int8 [N, k] @ int8 [k, n] -> int32 (float32 fallback is exact below 2**24)."""
    try:
        return torch._int_mm(x8, w8t) if out is None else torch._int_mm(x8, w8t, out=out)
    except (RuntimeError, AttributeError):
        r = (x8.float() @ w8t.float()).round().to(torch.int32)
        return r if out is None else out.copy_(r)


def raw_thresholds(t, invert, w_sum, pixel: bool) -> np.ndarray:
    """Thresholds tt int32 [n_out] in the raw domain: (r >= tt) xor invert <=> the neuron's
    comparison on dot (dot >= t, or dot <= t if inverted), where dot = r + 128 * w_sum for
    pixel inputs (r = (pixel - 128) @ W) and dot = 2r - w_sum for bit inputs."""
    t = np.asarray(t, np.int64)
    if pixel:  # dot <= t <=> not (r >= t - 128 ws + 1)
        base = t - 128 * w_sum
        tt = np.where(invert, base + 1, base)
    else:      # 2r - ws >= t <=> r >= ceil((t + ws) / 2); 2r - ws <= t <=> not r >= floor(..) + 1
        s = t + w_sum
        tt = np.where(invert, s // 2 + 1, -(-s // 2))
    return tt.astype(np.int32)


class _Layer:
    """A layer's weights and its error-free state on the campaign's images."""

    def __init__(self, layer, x: np.ndarray):
        self.bits = layer.weights                                     # uint8 [n_out, n_in]
        self.n_out, self.n_in = self.bits.shape
        self.pixel = layer.input == "pixel"
        self.is_output = layer.is_output
        self.w8 = (2 * self.bits.astype(np.int8) - 1)                 # +-1 [n_out, n_in]
        self.w_t = np.ascontiguousarray(self.w8.T)                    # [n_in, n_out]
        self.w_sum = self.w8.sum(1, dtype=np.int64)
        self.x = x                                                    # int8 [N, n_in]
        self.x_t = np.ascontiguousarray(x.T)
        self.r = int_matmul(torch.from_numpy(x), torch.from_numpy(self.w8).T).numpy()
        self.r_t = np.ascontiguousarray(self.r.T)
        if not self.is_output:
            self.t = np.asarray(layer.thresholds, np.int64)
            self.invert = np.asarray(layer.flip, bool)
            self.tt = raw_thresholds(self.t, self.invert, self.w_sum, self.pixel)
            self.act = ((self.r >= self.tt) ^ self.invert).astype(np.int8)
            self.act_t = np.ascontiguousarray(self.act.T)
        # per-pattern work buffers, reused (fresh 10 MB arrays cost page faults every pattern)
        n = len(x)
        self.count = np.empty(n, np.int32)                            # changed output bits per image
        self.idx = np.empty((n, self.n_out), np.int16 if self.n_out < 2**15 else np.int32)
        self.flipped_t = np.empty((self.n_out, n), np.int32)          # dots of the flipped neurons
        self.dense_r = torch.empty((n, self.n_out), dtype=torch.int32)
        self.dense_out = np.empty((n, self.n_out), np.int8)
        self.inputs = np.empty_like(x)                                # changed inputs, in full

    def scores(self, r, w_sum):
        """Class scores (the golden model's dots) from raw dots."""
        return r + 128 * w_sum if self.pixel else 2 * r - w_sum


class _Flips:
    """A layer's flipped weights grouped by neuron, in the kernels' format."""

    def __init__(self, layer: _Layer, fail):
        if fail is None:
            self.neuron = self.input = np.zeros(0, np.int64)
        else:
            self.neuron, self.input = np.nonzero(fail)                # sorted by neuron
        # flipping w changes r_j by -2 w x = (2 - 4 bit) x
        self.delta = (2 - 4 * layer.bits[self.neuron, self.input].astype(np.int32)).astype(np.int32)
        self.w_sum = layer.w_sum + np.bincount(self.neuron, self.delta, layer.n_out).astype(np.int64)
        self.count = len(self.neuron)

    def grouped(self, neurons):
        """starts int64 [len(neurons) + 1]: flips of neurons[jj] are starts[jj]:starts[jj+1]."""
        return np.append(np.searchsorted(self.neuron, neurons), self.count).astype(np.int64)

    def faulty_w8(self, w8: np.ndarray) -> np.ndarray:
        """The +-1 weights [n_out, n_in] with the flips applied (a copy)."""
        w = w8.copy()
        w[self.neuron, self.input] *= -1
        return w

    def faulty_w_t(self, w_t: np.ndarray) -> np.ndarray:
        """The same, transposed [n_in, n_out]."""
        w = w_t.copy()
        w[self.input, self.neuron] *= -1
        return w


class Campaign:
    """Evaluate many fault patterns of one net on one image set."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False):
        self.net = net
        self.threshold_errors = thresholds
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        px = np.asarray(images)
        if net.layers[0].input == "pixel":
            x = (px.astype(np.int16) - 128).astype(np.int8)
        elif net.layers[0].input == "binarized":
            x = (px >= net.binarize_threshold).astype(np.int8)
        else:
            x = px.astype(np.int8)
        self.layers = []
        for layer in net.layers:
            self.layers.append(_Layer(layer, x))
            if not layer.is_output:
                x = self.layers[-1].act
        last = self.layers[-1]
        self.clean_pred = torch.from_numpy(last.scores(last.r.astype(np.int64), last.w_sum)).argmax(1)
        self._hash_seed = None
        self._hashes = None

    def _layer_hashes(self, seed: int) -> list:
        if self._hash_seed != seed:
            self._hashes = []
            for i, l in enumerate(self.layers):
                h = None
                if i in self.fault_layers:
                    h = np.empty((l.n_out, l.n_in), np.uint32)
                    kernels.layer_hash(l.n_out, l.n_in, i, seed, 0, h)
                self._hashes.append(h)
            self._hash_seed = seed
        return self._hashes

    def failures(self, cfg: FaultConfig) -> list[np.ndarray | None]:
        """Each layer's failed-write mask, None where nothing fails (hashes cached per seed)."""
        if cfg.is_zero:
            return [None] * len(self.layers)
        masks = [write_failures(l.bits, i, cfg, hashes=h) if h is not None else None
                 for i, (l, h) in enumerate(zip(self.layers, self._layer_hashes(cfg.seed)))]
        return [m if m is not None and m.any() else None for m in masks]

    def faulty_bits(self, cfg: FaultConfig) -> list[np.ndarray]:
        """Each layer's weights as the MRAM stores them."""
        return [l.bits if m is None else l.bits ^ m.astype(np.uint8)
                for l, m in zip(self.layers, self.failures(cfg))]

    def _thresholds(self, i, l, cfg):
        if not self.threshold_errors or cfg.is_zero or i not in self.fault_layers:
            return l.t, l.invert
        return stored_thresholds(self.net.layers[i], i, cfg)

    def predict(self, cfg: FaultConfig) -> torch.Tensor:
        """Predictions [N] under the fault pattern of `cfg` (first write of every weight)."""
        changed = None  # this layer's inputs where they differ from the error-free ones:
        #                 lists (count int32 [N], idx int32 [N, n_in]) or a full int8 [N, n_in] array
        for i, (l, fail) in enumerate(zip(self.layers, self.failures(cfg))):
            flips = _Flips(l, fail)
            if l.is_output:
                return self._output(l, flips, changed)
            t, invert = self._thresholds(i, l, cfg)
            tt = raw_thresholds(t, invert, flips.w_sum, l.pixel)
            neurons = np.union1d(flips.neuron, np.flatnonzero((tt != l.tt) | (invert != l.invert)))
            if changed is None and not len(neurons):
                continue
            size = l.n_in * l.n_out
            count, idx = l.count, l.idx
            if changed is None and flips.count <= DENSE_CLEAN * size:
                kernels.clean_input_layer(l.x_t, l.r_t, l.act_t, neurons, flips.grouped(neurons),
                                          flips.input, flips.delta, tt, invert.view(np.int8), count, idx)
            elif isinstance(changed, tuple) and flips.count <= DENSE_CHANGED * size and \
                    changed[0].sum() <= DENSE_CHANGED_INPUTS * l.x.size:
                kernels.changed_input_layer(l.x, *changed, l.r, l.act, neurons, self._flipped(l, flips, neurons),
                                            flips.faulty_w_t(l.w_t), tt, invert.view(np.int8), count, idx)
            else:
                r = int_matmul(torch.from_numpy(self._full(l, changed)),
                               torch.from_numpy(flips.faulty_w8(l.w8)).T, l.dense_r).numpy()
                kernels.threshold_bits(r, tt, invert.view(np.int8), l.dense_out)
                changed = l.dense_out
                continue
            changed = (count, idx) if count.any() else None
        raise AssertionError("unreachable: the last layer returns")

    @staticmethod
    def _full(l: _Layer, changed) -> np.ndarray:
        """A layer's inputs as one int8 array [N, n_in]."""
        if changed is None:
            return l.x
        if isinstance(changed, np.ndarray):
            return changed
        kernels.apply_changes(l.x, *changed, l.inputs)
        return l.inputs

    @staticmethod
    def _flipped(l: _Layer, flips: _Flips, neurons) -> np.ndarray:
        out = l.flipped_t[:len(neurons)]
        kernels.flipped_dots(l.x_t, l.r_t, neurons, flips.grouped(neurons), flips.input, flips.delta, out)
        return out

    def _output(self, l: _Layer, flips: _Flips, changed) -> torch.Tensor:
        if changed is None and not flips.count:
            return self.clean_pred
        mul, add = (1, 128 * flips.w_sum) if l.pixel else (2, -flips.w_sum)
        if isinstance(changed, np.ndarray):  # many changes: dense
            r = int_matmul(torch.from_numpy(changed), torch.from_numpy(flips.faulty_w8(l.w8)).T, l.dense_r)
            return (mul * r.to(torch.int64) + torch.from_numpy(add)).argmax(1)
        if changed is None:
            changed = (np.zeros(len(l.x), np.int32), l.idx)
        neurons = np.unique(flips.neuron)
        pred = np.empty(len(l.x), np.int64)
        kernels.output_layer(l.x, *changed, l.r, neurons, self._flipped(l, flips, neurons),
                             flips.faulty_w_t(l.w_t), mul, add.astype(np.int64), pred)
        return torch.from_numpy(pred)

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())
