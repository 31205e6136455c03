"""Compiled (Numba) kernels of the campaign engine and the fault hash.

All arithmetic is on integers and exact. Layouts: `*_t` arrays are feature-major
[features, images] (a weight flip becomes one axpy over contiguous images); the others are
image-major [images, features]. Kernels run in parallel over images (numba.prange) and are
cached on disk after their first compilation (a few seconds, once per machine).
"""
import numpy as np
from numba import njit, prange

from .faults import GOLDEN, MASK32, ROUNDS

IMAGE_TILE = 512  # images per parallel work item of the feature-major kernels


@njit(parallel=True, cache=True)
def layer_hash(n_out, n_in, layer, seed, write, out):
    """out[j, i] = faults.fault_hash(seed, layer, j, i, write) as uint32 [n_out, n_in]: the same
    ARX rounds as `faults.mix`, on 64-bit integers masked to 32 bits."""
    m = np.uint64(MASK32)
    v0_init = ((np.uint64(layer) << np.uint64(24)) | (np.uint64(write) & np.uint64(0xFFFFFF))) & m
    keys = np.empty(ROUNDS, np.uint64)
    for r in range(ROUNDS):
        keys[r] = (np.uint64(seed) + np.uint64((r * GOLDEN) & MASK32)) & m
    for j in prange(n_out):
        for i in range(n_in):
            v0 = v0_init
            v1 = ((np.uint64(j) << np.uint64(16)) | np.uint64(i)) & m
            for r in range(ROUNDS):
                v0 = ((((v0 >> np.uint64(8)) | (v0 << np.uint64(24))) & m) + v1) & m ^ keys[r]
                v1 = (((v1 << np.uint64(3)) | (v1 >> np.uint64(29))) & m) ^ v0
            out[j, i] = np.uint32(v0 ^ v1)


@njit(inline="always")
def _flipped_dots_tile(x_t, r_t, j, first, last, flip_in, flip_delta, n0, m, buf):
    """buf[:m] = raw dots of neuron j for images n0..n0+m with its flips first..last applied:
    r = r_t[j] + sum of flip_delta * x_t[input], one add over the images per flip."""
    r_row = r_t[j, n0:n0 + m]
    for t in range(m):
        buf[t] = r_row[t]
    for f in range(first, last):
        x_row = x_t[flip_in[f], n0:n0 + m]
        d = flip_delta[f]
        for t in range(m):
            buf[t] += d * np.int32(x_row[t])


@njit(parallel=True, cache=True)
def clean_input_layer(x_t, r_t, act_t, neurons, starts, flip_in, flip_delta, tt, inv, count, idx):
    """A hidden layer whose inputs are the error-free ones: only `neurons` (flipped weights or
    changed thresholds) can change; neuron neurons[jj] has the flips starts[jj]:starts[jj+1].
    Feature-major: x_t int8 [n_in, N] inputs, r_t int32 [n_out, N] error-free raw dots,
    act_t int8 [n_out, N] error-free output bits; bit = (r >= tt[j]) ^ inv[j].
    Writes the output bits that changed as lists per image: count int32 [N] and
    idx int32 [N, n_out] (neurons, ascending)."""
    n = x_t.shape[1]
    for tile in prange((n + IMAGE_TILE - 1) // IMAGE_TILE):
        n0 = tile * IMAGE_TILE
        m = min(n, n0 + IMAGE_TILE) - n0
        count[n0:n0 + m] = 0
        buf = np.empty(IMAGE_TILE, np.int32)
        for jj in range(neurons.shape[0]):
            j = neurons[jj]
            _flipped_dots_tile(x_t, r_t, j, starts[jj], starts[jj + 1], flip_in, flip_delta, n0, m, buf)
            th = tt[j]
            iv = inv[j]
            a_row = act_t[j, n0:n0 + m]
            for t in range(m):
                if (np.int8(buf[t] >= th) ^ iv) ^ a_row[t]:
                    i = n0 + t
                    idx[i, count[i]] = j
                    count[i] += 1


@njit(parallel=True, cache=True)
def flipped_dots(x_t, r_t, neurons, starts, flip_in, flip_delta, out_t):
    """out_t int32 [len(neurons), N]: raw dots of the flipped neurons on the error-free inputs
    with the faulty weights (feature-major, as in clean_input_layer)."""
    n = x_t.shape[1]
    for tile in prange((n + IMAGE_TILE - 1) // IMAGE_TILE):
        n0 = tile * IMAGE_TILE
        m = min(n, n0 + IMAGE_TILE) - n0
        buf = np.empty(IMAGE_TILE, np.int32)
        for jj in range(neurons.shape[0]):
            _flipped_dots_tile(x_t, r_t, neurons[jj], starts[jj], starts[jj + 1], flip_in, flip_delta, n0, m, buf)
            out_t[jj, n0:n0 + m] = buf[:m]


IMAGE_CHUNK = 64  # images per parallel work item of the image-major kernels


@njit(inline="always")
def _faulty_dots(i, x_old, count_in, idx_in, r, neurons, flipped_t, w_t, acc):
    """acc = raw dots of image i with the faulty weights and the new inputs:
    x'W' = xW' + (x' - x)W', where xW' is r except for the flipped neurons (flipped_t) and
    x' differs from x in the bits idx_in[i, :count_in[i]]."""
    r_row = r[i]
    for j in range(acc.shape[0]):
        acc[j] = r_row[j]
    for jj in range(neurons.shape[0]):
        acc[neurons[jj]] = flipped_t[jj, i]
    x_row = x_old[i]
    for c in range(count_in[i]):
        k = idx_in[i, c]
        d = 1 - 2 * np.int32(x_row[k])  # a bit input 0 -> 1 adds the row, 1 -> 0 subtracts it
        w_row = w_t[k]
        for j in range(acc.shape[0]):
            acc[j] += d * np.int32(w_row[j])


@njit(parallel=True, cache=True)
def changed_input_layer(x_old, count_in, idx_in, r, act, neurons, flipped_t, w_t, tt, inv, count, idx):
    """A hidden layer whose input bits changed in some images (lists count_in, idx_in),
    image-major, incrementally from the error-free raw dots r int32 [N, n_out] and the
    flipped neurons' dots (flipped_dots): images with unchanged inputs evaluate only
    `neurons`, the others every neuron. w_t int8 [n_in, n_out] holds the faulty +-1 weights.
    Writes the changed output bits as lists (count, idx)."""
    n, n_out = r.shape
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        flags = np.empty(n_out, np.int8)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            a_row = act[i]
            idx_row = idx[i]
            c = 0
            if count_in[i]:
                _faulty_dots(i, x_old, count_in, idx_in, r, neurons, flipped_t, w_t, acc)
                s = 0
                for j in range(n_out):  # integer ops only: this loop vectorizes
                    f = (np.int8(acc[j] >= tt[j]) ^ inv[j]) ^ a_row[j]
                    flags[j] = f
                    s += f
                if s:
                    for j in range(n_out):
                        idx_row[c] = j
                        c += flags[j]
            else:
                for jj in range(neurons.shape[0]):
                    j = neurons[jj]
                    idx_row[c] = j
                    c += (np.int8(flipped_t[jj, i] >= tt[j]) ^ inv[j]) ^ a_row[j]
            count[i] = c


@njit(parallel=True, cache=True)
def output_layer(x_old, count_in, idx_in, r, neurons, flipped_t, w_t, score_mul, score_add, pred):
    """Predictions of the output layer: class scores score_mul * r' + score_add[class]
    (2r - sum(w) for bit inputs), first maximum wins. Writes pred int64 [N]."""
    n, n_out = r.shape
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            _faulty_dots(i, x_old, count_in, idx_in, r, neurons, flipped_t, w_t, acc)
            best = 0
            best_score = score_mul * np.int64(acc[0]) + score_add[0]
            for j in range(1, n_out):
                s = score_mul * np.int64(acc[j]) + score_add[j]
                if s > best_score:
                    best = j
                    best_score = s
            pred[i] = best


@njit(parallel=True, cache=True)
def apply_changes(x_old, count, idx, x_new):
    """x_new = x_old with the bits idx[i, :count[i]] of each image i inverted."""
    for i in prange(x_old.shape[0]):
        x_new[i] = x_old[i]
        for c in range(count[i]):
            x_new[i, idx[i, c]] ^= 1


@njit(parallel=True, cache=True)
def change_lists(new, old, count, idx):
    """The bits where new differs from old (int8 [N, n]), as lists per image (count, idx)."""
    for i in prange(new.shape[0]):
        c = 0
        for j in range(new.shape[1]):
            if new[i, j] != old[i, j]:
                idx[i, c] = j
                c += 1
        count[i] = c


@njit(parallel=True, cache=True)
def threshold_bits(r, tt, inv, out):
    """out int8 [N, n_out] = (r >= tt) ^ inv for raw dots r int32 [N, n_out]."""
    for i in prange(r.shape[0]):
        for j in range(r.shape[1]):
            out[i, j] = np.int8(r[i, j] >= tt[j]) ^ inv[j]
