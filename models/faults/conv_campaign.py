"""Monte Carlo fault campaigns of conv nets at speed: exact accuracies under MRAM write errors.

The error-free pass keeps every layer's output bits, packed per pixel (models.faults.
conv_kernels). Per fault pattern a layer recomputes, with compiled XNOR-popcount kernels,
only (a) every channel of the images whose input changed and (b) the channels whose weights
(or stored thresholds) changed, on the other images; its output is compared with the
error-free one to find the images changed for the next layer. Thresholds work in the
popcount domain (models.net.xnor.popcount_threshold, the one identity). A pattern that flips
nothing in a layer and reaches no changed input costs nothing there.

Its predictions equal the golden model's on the same faulty net, image for image
(tests/test_conv_campaign.py).
"""
import numpy as np
import torch

from ..errors import BnnMramError
from ..net import kinds, stochastic
from ..net.conv import patch_index
from ..net.netfile import Net
from ..net.xnor import popcount_threshold
from . import conv_kernels as ck
from .model import FaultConfig, layer_hash, stored_thresholds, write_failures


VALUE_INPUTS = ("pixel", "sc")   # first layers of integer values (pixels, sc 2c - N), not bits


def _wpp(c: int) -> int:
    return (c + 63) // 64


def pack_map(bits: np.ndarray, pixels: int, c: int) -> np.ndarray:
    """Flat channel-last bits [N, pixels*c] -> [N, pixels, WPP] uint64 (padding bits 0)."""
    n = bits.shape[0]
    wpp = _wpp(c)
    padded = np.zeros((n, pixels, wpp * 64), np.uint8)
    padded[:, :, :c] = bits.reshape(n, pixels, c)
    return np.packbits(padded, axis=2, bitorder="little").view(np.uint64).reshape(n, pixels, wpp)


def pack_rows(w: np.ndarray, taps: int, c: int) -> np.ndarray:
    """Weight rows [C_out, taps*c] -> [C_out, taps, WPP] uint64, as pack_map packs inputs."""
    return pack_map(w, taps, c)


class _Stage:
    """One layer of the engine: its error-free output and what a pattern needs to redo it."""

    def __init__(self, index, layer, in_shape, prev_out):
        self.index, self.layer = index, layer
        self.first = index == 0
        # the input pixels each output position reads, as the layer's kind says (models.net.kinds)
        self.taps = kinds.of(layer).taps(layer, in_shape)
        self.in_c = in_shape[2] if len(in_shape) == 3 else in_shape[0]
        self.out_pixels = self.taps.shape[0]
        self.out_c = layer.n_out if layer.has_weights else self.in_c
        self.pixel = self.first and layer.input in VALUE_INPUTS   # dots of values, not popcounts
        if self.pixel:   # a first conv layer of values: flat patch indices
            self.taps_flat = patch_index(tuple(in_shape), layer.kernel).astype(np.int64)
        self.is_output = layer.is_output
        if layer.has_weights:
            self.pad = self.taps.shape[1] * (64 * _wpp(self.in_c) - self.in_c)
            self.all_chans = np.arange(layer.n_out, dtype=np.int64)

    # -- weights as kernels take them
    def packed(self, bits: np.ndarray):
        if self.pixel:
            return (2 * bits.astype(np.int32) - 1)   # +-1, int32 as the kernel sums
        return pack_rows(bits, self.taps.shape[1], self.in_c)

    def thresholds(self, t, flip):
        """(lo, hi) per channel: the output bit is lo <= value <= hi, value the dot (pixel
        layer) or the popcount of the XNOR (bit layers, models.net.xnor.popcount_threshold)."""
        t = np.asarray(t, np.int64)
        flip = np.asarray(flip, bool)
        if not self.pixel:
            t = np.array([popcount_threshold(int(a), self.layer.n_in, bool(f)) for a, f in zip(t, flip)], np.int64)
        never, always = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        return np.where(flip, always, t), np.where(flip, t, never)

    @staticmethod
    def select(w, chans) -> np.ndarray:
        """The chosen channels' kernel weights as [taps*WPP (or taps), len(chans)]."""
        if not len(chans):
            return np.zeros((w[0].size, 0), w.dtype)
        return np.ascontiguousarray(w[chans].reshape(len(chans), -1).T)

    def run(self, x, in_changed, w, lo, hi, images, chans, clean, out, out_changed):
        """Redo the listed images where their inputs changed (every channel) or for `chans`;
        mark the output pixels that differ from `clean` in out_changed."""
        if not len(images):
            return
        if not self.layer.has_weights:   # max-pool: the OR over each window
            ck.maxpool(x, in_changed, self.taps, images, clean, out, out_changed)
        elif self.pixel:
            if len(chans):
                ck.pixel_layer(x, self.taps_flat, self.select(w, chans), lo, hi, images, chans, clean, out,
                               out_changed)
        else:
            ck.bits_layer(x, in_changed, self.taps, self.select(w, self.all_chans), self.select(w, chans), chans,
                          self.pad, lo, hi, images, clean, out, out_changed)

    def scores(self, x, w, images, chans, out):
        if len(images) and len(chans):
            ck.bits_scores(x, self.taps, self.select(w, chans), self.pad, self.layer.n_in, images, chans, out)


class ConvCampaign:
    """Evaluate many write-error patterns of one conv net on one image set (the Campaign
    interface: predict, accuracy, clean_pred)."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False, read_errors: bool = False):
        if read_errors:
            raise BnnMramError("read errors at each inference are modelled for MLPs only "
                               "(conv nets: write errors)")
        if net.is_dense:
            raise BnnMramError("ConvCampaign takes conv nets; MLPs use models.faults.campaign")
        self.net = net
        self.threshold_errors = thresholds
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        px = np.ascontiguousarray(np.asarray(images, np.uint8))
        self.n = len(px)
        self.all_images = np.arange(self.n, dtype=np.int64)
        first = net.layers[0]
        h, w, c = first.in_shape
        if first.input == "pixel":
            x = px
        elif first.input == "sc":
            x = stochastic.values(px, net.sc_seed, first.samples)
        else:
            b = (px >= net.binarize_threshold) if first.input == "binarized" else px
            x = pack_map(b.astype(np.uint8), h * w, c)
        self.input = x
        self.stages, shape = [], first.in_shape
        for i, l in enumerate(net.layers):
            self.stages.append(_Stage(i, l, shape, None))
            shape = l.out_shape
        # error-free pass
        self.clean_w, self.clean_thr, self.clean_out = [], [], []
        cur = x
        for s in self.stages:
            l = s.layer
            if s.is_output:
                self.clean_w.append(s.packed(l.weights))
                self.clean_thr.append(None)
                out = np.zeros((self.n, l.n_out), np.int64)
                s.scores(cur, self.clean_w[-1], self.all_images, s.all_chans, out)
            else:
                out = np.zeros((self.n, s.out_pixels, _wpp(s.out_c)), np.uint64)
                if not l.has_weights:
                    ck.maxpool_all(cur, s.taps, out)
                    self.clean_w.append(None)
                    self.clean_thr.append(None)
                else:
                    self.clean_w.append(s.packed(l.weights))
                    self.clean_thr.append(s.thresholds(l.thresholds, l.flip))
                    every = np.ones((self.n, cur.shape[1]), np.bool_)
                    s.run(cur, every, self.clean_w[-1], *self.clean_thr[-1], self.all_images, s.all_chans, out,
                          out, np.zeros((self.n, s.out_pixels), np.bool_))
            self.clean_out.append(out)
            cur = out
        self.clean_scores = self.clean_out[-1]
        self.clean_pred = torch.from_numpy(self.clean_scores.argmax(1))
        self._seed = None
        self._hashes = {}

    def _hash(self, i: int, seed: int) -> np.ndarray:
        if self._seed != seed:
            self._seed, self._hashes = seed, {}
        if i not in self._hashes:
            self._hashes[i] = layer_hash(self.net.layers[i].weights.shape, i, seed)
        return self._hashes[i]

    def _faulty(self, i: int, s: _Stage, cfg: FaultConfig):
        """(kernel weights, thresholds, changed channels) of layer i under cfg."""
        l = s.layer
        if i not in self.fault_layers or cfg.is_zero:
            return self.clean_w[i], self.clean_thr[i], np.zeros(0, np.int64)
        fail = write_failures(l.weights, i, cfg, hashes=self._hash(i, cfg.seed))
        rows = fail.any(axis=1)
        thr = self.clean_thr[i]
        if self.threshold_errors and not s.is_output:
            t, f = stored_thresholds(l, i, cfg)
            rows |= (t != l.thresholds) | (f != l.flip)
            thr = s.thresholds(t, f)
        if not rows.any():
            return self.clean_w[i], thr, np.zeros(0, np.int64)
        return s.packed(l.weights ^ fail.astype(np.uint8)), thr, np.flatnonzero(rows).astype(np.int64)

    def predict(self, cfg: FaultConfig) -> torch.Tensor:
        """Predictions [N] under the write-error pattern of cfg (first write of every weight)."""
        cur = self.input
        changed = None          # bool [N, input pixels] of this layer: which differ; None: none
        for i, s in enumerate(self.stages):
            clean = self.clean_out[i]
            l = s.layer
            w, thr, chans = self._faulty(i, s, cfg) if l.has_weights else (None, (None, None), None)
            flipped = chans is not None and len(chans) > 0
            if changed is None and not flipped:
                cur = clean
                continue
            in_changed = changed if changed is not None else np.zeros((self.n, cur.shape[1]), np.bool_)
            reached = np.flatnonzero(in_changed.any(axis=1)).astype(np.int64)
            out = clean.copy()
            if s.is_output:
                s.scores(cur, w, reached, s.all_chans, out)
                if flipped:
                    s.scores(cur, w, np.setdiff1d(self.all_images, reached, assume_unique=True), chans, out)
                return torch.from_numpy(out.argmax(1))
            images = self.all_images if flipped else reached
            out_changed = np.zeros((self.n, s.out_pixels), np.bool_)
            s.run(cur, in_changed, w, thr[0], thr[1], images, chans if flipped else s.all_chans[:0]
                  if l.has_weights else None, clean, out, out_changed)
            changed = out_changed if out_changed.any() else None
            cur = out if changed is not None else clean
        return self.clean_pred

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())
