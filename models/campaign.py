"""Monte Carlo fault campaigns at speed: exact accuracies of a net under MRAM write errors.

Per fault pattern the engine redoes only what the flipped weights change, on integers:

- the fault hash of every weight is computed once per seed and reused for every BER (a
  flip is `hash < threshold`), so a sweep over rates costs one hash pass per trial;
- the error-free dot products of every layer are kept; a layer whose inputs did not change
  adds only its flipped weights' effect: an int8 product of the error-free inputs of the
  affected input columns with the (affected neurons x affected inputs) block of changes;
- a layer whose inputs changed, or with many flips, is recomputed densely with an int8 x
  int8 -> int32 matrix product (`torch._int_mm`, exact, several times faster than float32
  BLAS); the 8-bit pixel layer is shifted to signed int8 (pixel - 128) and corrected;
- thresholds are moved into the raw int8 domain once per layer, so an activation costs one
  compare and one xor; activations are int8 0/1 views of bools, images x features.

Its predictions equal the golden model's on the same faulty weights, image for image
(tests/test_campaign.py); `models.bench_sweep` compares its speed with a plain baseline.
"""
import warnings

import numpy as np
import torch

from .faults import FaultConfig, layer_hash, stored_thresholds, write_failures
from .netfile import Net

SPARSE_FLIPS = 0.0005 # at most this share of a layer's weights flipped: update only their block
warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")


def int_matmul(x8: torch.Tensor, w8t: torch.Tensor) -> torch.Tensor:
    """Exact int8 [N, k] @ int8 [k, n] -> int32 (float32 fallback is exact below 2**24)."""
    try:
        return torch._int_mm(x8, w8t)
    except (RuntimeError, AttributeError):
        return (x8.float() @ w8t.float()).round().to(torch.int32)


class _Layer:
    """One layer in the raw domain r = x8 @ W, with x8 = pixel - 128 (pixel layer) or the
    input bits 0/1: dot = r + 128 * sum(w) (pixels) or 2r - sum(w) (bits). Thresholds are
    moved into the raw domain, so a neuron is on iff (r >= tt) xor flip."""

    def __init__(self, layer):
        self.bits = layer.weights                                   # uint8 [n_out, n_in]
        self.n_in = layer.n_in
        self.pixel = layer.input == "pixel"
        self.w8t = self._w8t(self.bits)
        self.t = self.flip = None
        if not layer.is_output:
            self.t = torch.from_numpy(np.asarray(layer.thresholds, np.int64))
            self.flip = torch.from_numpy(np.asarray(layer.flip, bool))[None, :]

    @staticmethod
    def _w8t(bits):
        """+-1 weights as int8 [n_in, n_out], stored neuron-major (the layout _int_mm is fastest on)."""
        return torch.from_numpy(2 * bits.astype(np.int8) - 1).T

    def w_sum(self, bits) -> torch.Tensor:
        """sum_i w_ji of each neuron, int64 [n_out]."""
        return torch.from_numpy(2 * bits.sum(1, dtype=np.int64) - self.n_in)

    def raw(self, x8, bits=None) -> torch.Tensor:
        return int_matmul(x8, self.w8t if bits is None else self._w8t(bits))

    def raw_thresholds(self, bits, t, flip) -> torch.Tensor:
        """tt [1, n_out] with (r >= tt) xor flip  <=>  the neuron's comparison on dot."""
        ws = self.w_sum(bits)
        if self.pixel:   # dot >= t <=> r >= t - 128 ws ; dot <= t <=> r >= t - 128 ws + 1 fails
            base = t - 128 * ws
            tt = torch.where(flip[0], base + 1, base)
        else:            # 2r - ws >= t <=> r >= ceil((t + ws) / 2); <= t <=> r < floor(..) + 1
            s_ = t + ws
            tt = torch.where(flip[0], torch.div(s_, 2, rounding_mode="floor") + 1, -torch.div(-s_, 2, rounding_mode="floor"))
        return tt.to(torch.int32)[None, :]

    def scores(self, r, bits) -> torch.Tensor:
        ws = self.w_sum(bits).to(torch.int32)[None, :]
        return r + 128 * ws if self.pixel else 2 * r - ws


class Campaign:
    """Evaluate many fault patterns of one net on one image set."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False):
        self.net = net
        self.threshold_errors = thresholds
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        l0 = net.layers[0]
        self.layers = [_Layer(l) for l in net.layers]
        px = np.asarray(images)
        if l0.input == "pixel":
            x8 = torch.from_numpy((px.astype(np.int16) - 128).astype(np.int8))
        elif l0.input == "binarized":
            x8 = torch.from_numpy((px >= net.binarize_threshold).astype(np.int8))
        else:
            x8 = torch.from_numpy(px.astype(np.int8))
        # error-free pass: int8 inputs and raw dot products per layer
        self.x8s, self.rs, self.tts = [], [], []
        for l in self.layers:
            self.x8s.append(x8)
            r = l.raw(x8)
            self.rs.append(r)
            if l.t is not None:
                tt = l.raw_thresholds(l.bits, l.t, l.flip)
                self.tts.append(tt)
                x8 = self._on(r, tt, l.flip)
        self._hash_seed = None
        self._hashes = None

    @staticmethod
    def _on(r, tt, flip) -> torch.Tensor:
        """Activation bits 0/1 as int8 (a view of the bool result)."""
        return ((r >= tt) ^ flip).view(torch.int8)

    def failures(self, cfg: FaultConfig) -> list[np.ndarray | None]:
        """Each layer's failed-write mask, None where nothing fails (hashes cached per seed)."""
        if cfg.is_zero:
            return [None] * len(self.layers)
        if self._hash_seed != cfg.seed:
            self._hashes = [layer_hash(l.bits.shape, i, cfg.seed) if i in self.fault_layers else None
                            for i, l in enumerate(self.layers)]
            self._hash_seed = cfg.seed
        masks = [write_failures(l.bits, i, cfg, hashes=h) if h is not None else None
                 for i, (l, h) in enumerate(zip(self.layers, self._hashes))]
        return [m if m is not None and m.any() else None for m in masks]

    def faulty_bits(self, cfg: FaultConfig) -> list[np.ndarray]:
        """Each layer's weights as the MRAM stores them."""
        return [l.bits if m is None else l.bits ^ m.astype(np.uint8)
                for l, m in zip(self.layers, self.failures(cfg))]

    def _thresholds(self, i, l, cfg):
        if not self.threshold_errors or cfg.is_zero or i not in self.fault_layers:
            return l.t, l.flip
        t, f = stored_thresholds(self.net.layers[i], i, cfg)
        return torch.from_numpy(t.astype(np.int64)), torch.from_numpy(f)[None, :]

    def predict(self, cfg: FaultConfig) -> torch.Tensor:
        """Predictions [N] under the fault pattern of `cfg` (first write of every weight)."""
        x8 = None  # this layer's inputs if they differ from the error-free ones
        for i, (l, fail) in enumerate(zip(self.layers, self.failures(cfg))):
            bits = l.bits if fail is None else l.bits ^ fail.view(np.uint8)
            flips = 0 if fail is None else int(np.count_nonzero(fail))
            if x8 is not None or flips > SPARSE_FLIPS * bits.size:
                r = l.raw(self.x8s[i] if x8 is None else x8, bits if flips else None)
            elif flips:  # flipping w_ji changes r_j by -2 w_ji x_i: an int8 (images x I) @ (I x J)
                j, k = np.nonzero(fail)
                rows, cols = np.unique(j), np.unique(k)
                dw = np.zeros((len(rows), len(cols)), np.int8)
                dw[np.searchsorted(rows, j), np.searchsorted(cols, k)] = 2 - 4 * l.bits[j, k].astype(np.int8)
                x_cols = self.x8s[i].index_select(1, torch.from_numpy(cols))
                r = self.rs[i].clone()
                r[:, torch.from_numpy(rows)] += int_matmul(x_cols, torch.from_numpy(dw).T)
            else:
                r = self.rs[i]
            if l.t is None:
                return l.scores(r, bits).argmax(1)
            t, f = self._thresholds(i, l, cfg)
            if r is self.rs[i] and t is l.t:
                x8 = None
                continue
            tt = self.tts[i] if (t is l.t and not flips) else l.raw_thresholds(bits, t, f)
            x_new = self._on(r, tt, f)
            x8 = None if torch.equal(x_new, self.x8s[i + 1]) else x_new
        raise AssertionError("unreachable: the last layer returns")

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())
