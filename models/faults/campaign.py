"""Monte Carlo fault campaigns at speed: exact accuracies of a net under MRAM write errors.

Per fault pattern the engine redoes only what the flipped weights change, on integers
(compiled kernels in `models.faults.kernels`):

- the fault hash of every weight is computed once per seed (compiled, in parallel) and
  reused for every BER: a flip is `hash < threshold`; for one rate up to 1/8 the flips come
  from the weights below that rate's threshold, found once per seed;
- every layer keeps its error-free raw dot products r = x @ W (x = pixel - 128 for the
  pixel layer, the sample counts' 2c - N for an sc layer, input bits 0/1 otherwise) and output bits, with thresholds moved into that
  raw domain (bit = (r >= tt) xor invert); bits pass between layers packed, 64 a word;
- the first layer's inputs never change: per flipped weight it adds -2 w x_input to its
  neuron, one add over all images (feature-major, int16 sums of the flipped inputs grouped
  by sign); where flips are dense it is one int8 x int8 -> int32 matrix product;
- a later hidden layer whose inputs changed in few places works image by image from its
  int16 dots: unchanged images only touch the flipped neurons, changed ones add the rows of
  the changed inputs, x'W' = xW + x(W' - W) + (x' - x)W'; else, and for the output layer,
  the whole layer runs on packed bits (XNOR-popcount, `vpopcntq`).

Its predictions equal the golden model's on the same faulty weights, image for image
(tests/test_campaign.py); `gen.bench_sweep` compares its speed with a plain baseline.
"""
from functools import cached_property

import numpy as np
import torch

from . import kernels
from ..errors import BnnMramError
from ..net import stochastic
from .model import (MAX_NEURONS, ONE, FaultConfig, stored_thresholds,
                     uniform_threshold, write_failures)
from ..net.netfile import Net
from .read_errors import read_seed

# The first layer's inputs never change: per flipped weight it adds +-2x over all images
# (feature-major, int16), which beats the dense int8 matrix product (n_in * n_out multiply-adds
# per image at its peak rate) below about one flip in five weights.
DENSE_CLEAN = 1 / 5
# Hidden layers after the first go image by image while the changed input bits, counting a
# flipped weight as INCREMENTAL_FLIP_COST of them, stay below INCREMENTAL_CHANGES per image and
# 64 inputs (measured on the demo net: break-even near 3 changed inputs of 256 per image);
# else the whole layer runs on packed bits (XNOR-popcount).
INCREMENTAL_CHANGES = 0.75
INCREMENTAL_FLIP_COST = 150
CANDIDATE_T = ONE // 8        # hash threshold (BER 1/8) of the weights kept per seed as flip candidates


def _below(h: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, hashes) of the hashes below t, indices ascending."""
    flat = np.flatnonzero(h < np.uint32(t))
    return flat, h.ravel()[flat]


def int_matmul(x8: torch.Tensor, w8t: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Exact int8 [N, k] @ int8 [k, n] -> int32 (float32 fallback is exact below 2**24)."""
    try:
        return torch._int_mm(x8, w8t) if out is None else torch._int_mm(x8, w8t, out=out)
    except (RuntimeError, AttributeError):
        r = (x8.float() @ w8t.float()).round().to(torch.int32)
        return r if out is None else out.copy_(r)


def raw_thresholds(t, invert, w_sum, offset: int | None) -> np.ndarray:
    """Thresholds tt int32 [n_out] in the raw domain: (r >= tt) xor invert <=> the neuron's
    comparison on dot (dot >= t, or dot <= t if inverted), where dot = r + offset * w_sum for
    value inputs (r = (value - offset) @ W: pixels with offset 128, sc values 2c - N with
    offset 0) and dot = 2r - w_sum for bit inputs (offset None)."""
    t = np.asarray(t, np.int64)
    if offset is not None:  # dot <= t <=> not (r >= t - offset ws + 1)
        base = t - offset * w_sum
        tt = np.where(invert, base + 1, base)
    else:      # 2r - ws >= t <=> r >= ceil((t + ws) / 2); 2r - ws <= t <=> not r >= floor(..) + 1
        s = t + w_sum
        tt = np.where(invert, s // 2 + 1, -(-s // 2))
    return tt.astype(np.int32)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Bits 0/1 [rows, n] as uint64 words [rows, ceil(n / 64)]: bit k in word k // 64 at k % 64."""
    rows, n = bits.shape
    b = np.packbits(np.asarray(bits, np.uint8), axis=1, bitorder="little")
    out = np.zeros((rows, 8 * ((n + 63) // 64)), np.uint8)
    out[:, :b.shape[1]] = b
    return out.view(np.uint64)


def _transposed(a: np.ndarray, xor: int = 0) -> np.ndarray:
    """(a ^ xor).T of an int8 or uint8 matrix as int8, contiguous (xor: a byte)."""
    a = np.ascontiguousarray(a).view(np.int8)
    out = np.empty(a.shape[::-1], np.int8)
    if a.shape[0] % 8 == 0 and a.shape[1] % 8 == 0:
        kernels.transpose_bytes(a.view(np.uint64), np.uint64(xor * 0x0101010101010101), out.view(np.uint64))
    else:
        kernels.transpose(a, out)
        out ^= np.int8(np.uint8(xor).view(np.int8))
    return out


class _Layer:
    """A layer's weights and its error-free state on the campaign's images. The first layer
    keeps it feature-major ([features, images]: a flip is one add over contiguous images);
    the later ones image-major ([images, features]), their raw dots as int16 (bit inputs:
    |dot| <= n_in), their output bits packed."""

    def __init__(self, layer, prev: "_Layer | None", x_t: np.ndarray | None = None):
        """`x_t`: the first layer's inputs int8 [n_in, N]; the later ones take prev's bits."""
        self.bits = layer.weights                                     # uint8 [n_out, n_in]
        self.n_out, self.n_in = self.bits.shape
        if self.n_out > MAX_NEURONS:  # the fault model's bound
            raise BnnMramError(f"a layer of {self.n_out} neurons: the fault model and the campaign "
                               f"engine take at most {MAX_NEURONS}")
        # value inputs x = value - offset (int8): pixels - 128, or sc values 2c - N; bits: None
        self.offset = {"pixel": 128, "sc": 0}.get(layer.input)
        self.is_output = layer.is_output
        self.first = prev is None
        self.prev = prev
        self.x_max = {"pixel": 128, "sc": max(layer.samples, 1)}.get(layer.input, 1)  # largest |x|
        self.w8 = (2 * self.bits.astype(np.int8) - 1)                 # +-1 [n_out, n_in]
        self.w_t = np.ascontiguousarray(self.w8.T)                    # [n_in, n_out]
        self.w_sum = self.w8.sum(1, dtype=np.int64)
        if self.first:
            self.x_t = x_t                                            # int8 [n_in, N]
        n = self.n_images = x_t.shape[1] if self.first else prev.n_images
        if self.is_output:
            return
        if not self.first and self.n_in > kernels.FLIP_SUM_MAX:
            raise BnnMramError(f"a hidden layer of {self.n_in} inputs: the campaign engine takes at most "
                               f"{kernels.FLIP_SUM_MAX} (int16 dots)")
        self.t = np.asarray(layer.thresholds, np.int64)
        self.invert = np.asarray(layer.flip, bool)
        self.tt = raw_thresholds(self.t, self.invert, self.w_sum, self.offset)
        inv8 = self.invert.view(np.int8)
        self.act_packed = np.empty((n, (self.n_out + 63) // 64), np.uint64)
        if self.first:
            self.r_t = np.empty((self.n_out, n), np.int32)
            int_matmul(torch.from_numpy(self.w8), torch.from_numpy(self.x_t), torch.from_numpy(self.r_t))
            self.act_t = np.empty_like(self.r_t, np.int8)
            kernels.threshold_rows(self.r_t, self.tt, inv8, self.act_t)
            kernels.pack_columns(self.act_t, self.act_packed)
        else:
            self.x_t = prev.act_t                                     # inputs, feature-major
            self._half_t = np.zeros((0, n), np.int16)                 # work buffer of half_sums
            self.r16 = np.empty((n, self.n_out), np.int16)            # error-free raw dots
            self.act_t = np.empty((self.n_out, n), np.int8)
            kernels.popcount_state(prev.act_packed, _Flips(self, None).faulty_b_t(), self.tt, inv8, self.r16,
                                   self.act_t, self.act_packed)
        # per-pattern work buffers, reused
        self.count = np.zeros(n, np.int32)                            # changed output bits per image
        self.packed_out = np.zeros_like(self.act_packed)              # output bits as they are now

    @cached_property
    def x(self):
        """Inputs int8 [N, n_in] image-major (only for read errors and dense products)."""
        return self.prev.act if self.prev else _transposed(self.x_t)

    @cached_property
    def act(self):
        """Error-free output bits int8 [N, n_out] image-major (only for read errors)."""
        return _transposed(self.act_t)

    @cached_property
    def r(self):
        """Error-free raw dots int32 [N, n_out] (only for read errors)."""
        return int_matmul(torch.from_numpy(self.x), torch.from_numpy(self.w8).T).numpy()

    @cached_property
    def dense_r(self):  # raw dots of a dense int8 product
        return torch.zeros((self.n_images, self.n_out), dtype=torch.int32)

    @cached_property
    def dot(self):
        """Error-free dot products (the golden model's) int32 [N, n_out]."""
        return self.scores(self.r, self.w_sum).astype(np.int32)

    @cached_property
    def idx(self):
        """Change lists of the read-error kernels: uint16 [N, n_out]."""
        return np.zeros((self.n_images, self.n_out), np.uint16)

    def half_sums(self, flips: "_Flips", neurons) -> np.ndarray:
        """int16 [len(neurons), N]: half the change of each neuron's raw dot by its flipped
        weights, on the error-free inputs (kernels.flip_sums)."""
        if len(self._half_t) < len(neurons):
            self._half_t = np.zeros((max(len(neurons), 2 * len(self._half_t)), self.n_images), np.int16)
        out = self._half_t[:len(neurons)]
        kernels.flip_sums(self.x_t, *flips.groups(neurons), out)
        return out

    def scores(self, r, w_sum):
        """Class scores (the golden model's dots) from raw dots."""
        return 2 * r - w_sum if self.offset is None else r + self.offset * w_sum


class _Flips:
    """A layer's flipped weights (flat indices neuron * n_in + input, ascending), grouped by
    neuron in the kernels' format, and the weights as stored."""

    def __init__(self, layer: _Layer, flat):
        self.layer = layer
        self.flat = np.zeros(0, np.int64) if flat is None else flat
        self.count = len(self.flat)
        self.neuron = self.flat // layer.n_in
        self.input = self.flat % layer.n_in
        # per flip, the change of its neuron's raw dot per unit input: -2 w = 2 - 4 bit
        self.delta = (2 - 4 * layer.bits.ravel()[self.flat].astype(np.int32)).astype(np.int32)
        self.w_sum = layer.w_sum if not self.count else \
            layer.w_sum + np.bincount(self.neuron, self.delta, layer.n_out).astype(np.int64)

    def neurons(self) -> np.ndarray:
        """The neurons with flips, ascending."""
        n = self.neuron
        return n[np.append(True, n[1:] != n[:-1])] if self.count else n

    @cached_property
    def bits(self) -> np.ndarray:
        """The stored bits uint8 [n_out, n_in]."""
        b = self.layer.bits.copy()
        b.ravel()[self.flat] ^= 1
        return b

    def groups(self, neurons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, mids, inputs) in the kernels' format: neurons[jj] has the flips
        starts[jj]:starts[jj+1], whose inputs are inputs[starts[jj]:starts[jj+1]], those
        adding +2x before mids[jj]."""
        starts = np.append(np.searchsorted(self.neuron, neurons), self.count).astype(np.int64)
        inputs, mids = np.empty(self.count, np.int64), np.empty(len(neurons), np.int64)
        kernels.group_by_sign(starts, self.input, self.delta, inputs, mids)
        return starts, mids, inputs

    def faulty_w8(self) -> np.ndarray:
        """The stored weights as +-1 int8 [n_out, n_in]."""
        return 2 * self.bits.view(np.int8) - 1

    def faulty_b_t(self) -> np.ndarray:
        """The stored weight bits packed, transposed: uint64 [words_in, n_out]."""
        return np.ascontiguousarray(pack_bits(self.bits).T)

    def faulty_w_t(self) -> np.ndarray:
        """The stored weights as +-1 int8, transposed [n_in, n_out]."""
        w = self.layer.w_t.copy()
        w[self.input, self.neuron] *= -1
        return w


class Campaign:
    """Evaluate many fault patterns of one net on one image set."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False, read_errors: bool = False):
        """`layers`: only these get errors; `thresholds`: threshold words are written with
        errors too; `read_errors`: the BER is of reads at each inference, not of writes."""
        if thresholds and read_errors:
            raise BnnMramError("threshold errors are modelled for writes only, not with read errors")
        self.net = net
        self.threshold_errors = thresholds
        self.read_errors = read_errors
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        px = np.asarray(images)
        first = net.layers[0]
        if first.input == "pixel" and px.dtype == np.uint8:  # x = pixel - 128: flip the sign bit
            x_t = _transposed(px, xor=0x80)
        elif first.input == "pixel":
            x_t = _transposed((px.astype(np.int16) - 128).astype(np.int8))
        elif first.input == "sc":
            x_t = _transposed(stochastic.values(px, net.sc_seed, first.samples))
        elif first.input == "binarized":
            x_t = _transposed((px >= net.binarize_threshold).astype(np.int8))
        else:
            x_t = _transposed(px.astype(np.int8))
        self.layers = [_Layer(first, None, x_t)]
        for layer in net.layers[1:]:
            self.layers.append(_Layer(layer, self.layers[-1]))
        self.clean_pred = self._output(self.layers[-1], _Flips(self.layers[-1], None), None, clean=True)
        self._hash_seed = None
        self._hashes = None
        self._candidates = None

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
            self._candidates = None
        return self._hashes

    def _flat_failures(self, cfg: FaultConfig) -> list[np.ndarray | None]:
        """Each layer's failed writes as ascending flat indices, None where nothing fails. For
        one rate up to CANDIDATE_T, from the weights whose hash is below that threshold
        (found once per seed, beside the seed's hashes), not from every weight."""
        if cfg.is_zero:  # no hashes: the candidates must not be taken for those of a seed
            return [None] * len(self.layers)
        hashes = self._layer_hashes(cfg.seed)
        t = uniform_threshold(cfg)
        if t is not None and t <= CANDIDATE_T:
            if self._candidates is None:
                self._candidates = [None if h is None else _below(h, CANDIDATE_T) for h in hashes]
            flats = [None if c is None else c[0][c[1] < np.uint32(t)] for c in self._candidates]
        else:
            flats = [None if h is None else np.flatnonzero(write_failures(l.bits, i, cfg, hashes=h))
                     for i, (l, h) in enumerate(zip(self.layers, hashes))]
        return [f if f is not None and len(f) else None for f in flats]

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
        """Predictions [N] under the fault pattern of `cfg`: write errors of the first write of
        every weight, or with `read_errors`, errors of every read of every inference."""
        if self.read_errors:
            return self._predict_read(cfg)
        changed, changes = None, 0  # this layer's input bits as they are now (packed uint64
        #                             [N, words]), None while error-free; how many differ
        for i, (l, flat) in enumerate(zip(self.layers, self._flat_failures(cfg))):
            flips = _Flips(l, flat)
            if l.is_output:
                return self._output(l, flips, changed)
            t, invert = self._thresholds(i, l, cfg)
            tt = raw_thresholds(t, invert, flips.w_sum, l.offset)
            neurons = flips.neurons()  # and, with threshold errors, those whose threshold changed
            if self.threshold_errors:
                neurons = np.union1d(neurons, np.flatnonzero((tt != l.tt) | (invert != l.invert)))
            if changed is None and not len(neurons):
                continue
            inv8 = invert.view(np.int8)
            if l.first:
                changes = self._first_layer(l, flips, neurons, tt, inv8)
            else:
                x = l.prev.act_packed if changed is None else changed
                if self._incremental(l, flips, changes):
                    kernels.incremental_layer(l.prev.act_packed, x, l.r16, neurons, l.half_sums(flips, neurons),
                                              flips.faulty_w_t(), tt, inv8, l.act_packed, l.packed_out, l.count)
                else:
                    kernels.popcount_layer(x, flips.faulty_b_t(), tt, inv8, l.act_packed, l.packed_out, l.count)
                changes = int(l.count.sum())
            changed = l.packed_out if changes else None
        raise AssertionError("unreachable: the last layer returns")

    @staticmethod
    def _first_layer(l: _Layer, flips: "_Flips", neurons, tt, inv8) -> int:
        """The first layer's output bits under the flips into l.packed_out: per flip one add
        over all images, or one dense int8 product where flips are dense. Returns how many
        output bits changed."""
        starts, mids, inputs = flips.groups(neurons)
        if flips.count > DENSE_CLEAN * l.n_in * l.n_out or np.diff(starts).max() * l.x_max > kernels.FLIP_SUM_MAX:
            r = int_matmul(torch.from_numpy(l.x), torch.from_numpy(flips.faulty_w8()).T, l.dense_r)
            kernels.threshold_pack(r.numpy(), tt, inv8, l.packed_out)
            return int(np.bitwise_count(l.packed_out ^ l.act_packed).sum())
        kernels.clean_input_packed(l.x_t, l.r_t, l.act_packed, neurons, starts, mids, inputs, tt, inv8,
                                   l.packed_out, l.count)
        return int(l.count.sum())

    @staticmethod
    def _incremental(l: _Layer, flips: "_Flips", changes: int) -> bool:
        """Cost model: a hidden layer image by image from its error-free dots (a row add per
        changed input bit, about 11 ns; an add over all images per flip) or whole on packed
        bits (about 110 ns an image for 256 x 256)."""
        words_in = (l.n_in + 63) // 64
        return changes + flips.count * INCREMENTAL_FLIP_COST <= INCREMENTAL_CHANGES * words_in * l.n_images

    def _output(self, l: _Layer, flips: _Flips, changed, clean: bool = False) -> torch.Tensor:
        """Predictions: the output layer on packed bits (its few neurons make this cheaper
        than any incremental update); `clean`: compute the error-free ones."""
        if changed is None and not flips.count and not clean:
            return self.clean_pred
        if l.first:  # a net of one layer
            r = int_matmul(torch.from_numpy(l.x), torch.from_numpy(flips.faulty_w8()).T).numpy()
            return torch.from_numpy(l.scores(r.astype(np.int64), flips.w_sum)).argmax(1)
        pred = np.empty(l.n_images, np.int64)
        kernels.popcount_output(l.prev.act_packed if changed is None else changed, flips.faulty_b_t(),
                                flips.w_sum, pred)
        return torch.from_numpy(pred)

    def _predict_read(self, cfg: FaultConfig) -> torch.Tensor:
        """Read errors: each image sees its own faulty reads (models.faults.read_errors, image
        number = its position in the campaign's images), so the images run through the layers
        with their flips, incrementally from the error-free dots; the kernel hashes every
        weight of every image (kernels.read_error_layer)."""
        if cfg.mode != "ber" or cfg.rate_01 is not None or cfg.rate_10 is not None:
            raise BnnMramError("read errors take one rate (--ber), not a switch mode or per-direction rates")
        if cfg.is_zero:
            return self.clean_pred
        n = len(self.labels)
        pred = np.empty(n, np.int64)
        none = np.zeros(0, np.int64)
        seed, threshold = np.uint64(read_seed(cfg.seed)), np.uint64(cfg.t01)
        count, idx = np.zeros(n, np.int32), self.layers[0].idx
        for i, l in enumerate(self.layers):
            hidden = not l.is_output
            args = (l.t, l.invert.view(np.int8), l.act, l.count, l.idx, none) \
                if hidden else (none, np.zeros(0, np.int8), np.zeros((0, 0), np.int8), count, idx, pred)
            kernels.read_error_layer(l.x, -1 if l.offset is None else l.offset, count, idx, l.dot, l.w8, l.w_t,
                                     seed, np.int64(i), threshold if i in self.fault_layers else np.uint64(0),
                                     np.int64(0), *args)
            if hidden:
                count, idx = l.count, l.idx
        return torch.from_numpy(pred)

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())
