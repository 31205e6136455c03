"""Compiled (Numba) kernels of the campaign engine and the fault hash.

All arithmetic is on integers and exact. Layouts: `*_t` arrays are feature-major
[features, images] (a weight flip becomes one axpy over contiguous images); the others are
image-major [images, features]. Kernels run in parallel over images (numba.prange) and are
compiled eagerly for one signature each (int8 inputs, int16/int32 dots, uint64 packed bits,
int64 indices) and cached on disk after their first compilation (about 20 s, once per machine).
"""
import numpy as np
from numba import njit, prange, types

from ..arx import MASK32
from .coordinates import WRITE_BITS, hash_function

IMAGE_TILE = 512  # images per parallel work item of the feature-major kernels


class NumbaOps:
    """The fault hash's 32-bit arithmetic in Numba: uint64 values masked to 32 bits."""

    @staticmethod
    @njit(inline="always")
    def const(c):
        return np.uint64(c)

    @staticmethod
    @njit(inline="always")
    def add(a, b):
        return (a + b) & np.uint64(MASK32)

    @staticmethod
    @njit(inline="always")
    def rotl(x, r):
        return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & np.uint64(MASK32)

    @staticmethod
    @njit(inline="always")
    def rotr(x, r):
        return ((x >> np.uint64(r)) | (x << np.uint64(32 - r))) & np.uint64(MASK32)

    @staticmethod
    @njit(inline="always")
    def node(x):
        return x

    @staticmethod
    @njit(inline="always")
    def stage(r, v0, v1):
        return v0, v1

    @staticmethod
    @njit(inline="always")
    def field(x, width, name):
        return np.uint64(x) & np.uint64((1 << width) - 1)

    @staticmethod
    @njit(inline="always")
    def join(low, shift, high):
        return (low | (high << np.uint64(shift))) & np.uint64(MASK32)

    @staticmethod
    def compile(function):
        return njit(inline="always")(function)


_fault_hash = hash_function(NumbaOps)


@njit("void(int64, int64, int64, int64, int64, uint32[:, ::1])", parallel=True, cache=True)
def layer_hash(n_out, n_in, layer, seed, write, out):
    """out[j, i] = coordinates.fault_hash(seed, layer, j, i, write) as uint32 [n_out, n_in]."""
    for j in prange(n_out):
        for i in range(n_in):
            out[j, i] = np.uint32(_fault_hash(seed, layer, j, i, write))


FLIP_SUM_MAX = 2**15 - 1  # bound of the int16 flip sums: flips of a neuron * max |input|


@njit("void(int64[::1], int64[::1], int32[::1], int64[::1], int64[::1])", cache=True)
def group_by_sign(starts, flip_in, flip_delta, in_out, mids):
    """Order each neuron's flips (starts[jj]:starts[jj+1]) by sign: in_out holds their inputs,
    those adding +2x first, then from mids[jj] those adding -2x."""
    for jj in range(starts.shape[0] - 1):
        c = starts[jj]
        for f in range(starts[jj], starts[jj + 1]):
            if flip_delta[f] > 0:
                in_out[c] = flip_in[f]
                c += 1
        mids[jj] = c
        for f in range(starts[jj], starts[jj + 1]):
            if flip_delta[f] < 0:
                in_out[c] = flip_in[f]
                c += 1


@njit(inline="always")
def _flip_sums(x_t, first, last, sign, flip_in, n0, m, acc):
    """acc[:m] += sign * sum of x_t[flip_in[f], n0:n0+m] over f in first..last, in int16
    (exact while the flips of a neuron times max |x| stay within FLIP_SUM_MAX), eight rows a
    pass, then four, then one."""
    f = first
    while f + 8 <= last:
        x0 = x_t[flip_in[f], n0:n0 + m]
        x1 = x_t[flip_in[f + 1], n0:n0 + m]
        x2 = x_t[flip_in[f + 2], n0:n0 + m]
        x3 = x_t[flip_in[f + 3], n0:n0 + m]
        x4 = x_t[flip_in[f + 4], n0:n0 + m]
        x5 = x_t[flip_in[f + 5], n0:n0 + m]
        x6 = x_t[flip_in[f + 6], n0:n0 + m]
        x7 = x_t[flip_in[f + 7], n0:n0 + m]
        for t in range(m):
            acc[t] += sign * (((np.int16(x0[t]) + np.int16(x1[t])) + (np.int16(x2[t]) + np.int16(x3[t])))
                              + ((np.int16(x4[t]) + np.int16(x5[t])) + (np.int16(x6[t]) + np.int16(x7[t]))))
        f += 8
    while f + 4 <= last:
        x0 = x_t[flip_in[f], n0:n0 + m]
        x1 = x_t[flip_in[f + 1], n0:n0 + m]
        x2 = x_t[flip_in[f + 2], n0:n0 + m]
        x3 = x_t[flip_in[f + 3], n0:n0 + m]
        for t in range(m):
            acc[t] += sign * ((np.int16(x0[t]) + np.int16(x1[t])) + (np.int16(x2[t]) + np.int16(x3[t])))
        f += 4
    while f < last:
        x0 = x_t[flip_in[f], n0:n0 + m]
        for t in range(m):
            acc[t] += sign * np.int16(x0[t])
        f += 1


@njit(inline="always")
def _signed_flip_sums(x_t, first, mid, last, flip_in, n0, m, acc):
    """acc[:m] = sum of x over a neuron's +2 flips first..mid minus over its -2 flips
    mid..last, for images n0..n0+m: half the change of its raw dot."""
    acc[:m] = 0
    _flip_sums(x_t, first, mid, np.int16(1), flip_in, n0, m, acc)
    _flip_sums(x_t, mid, last, np.int16(-1), flip_in, n0, m, acc)


@njit(inline="always")
def _first_layer_bits(x_t, r_t, j, first, mid, last, flip_in, th, iv, n0, m, acc, bits):
    """bits[:m] = output bits of neuron j for images n0..n0+m with its flips applied:
    r = r_t[j] + 2 (sum of x over the +2 flips first..mid - over the -2 flips mid..last)."""
    _signed_flip_sums(x_t, first, mid, last, flip_in, n0, m, acc)
    r_row = r_t[j, n0:n0 + m]
    for t in range(m):
        bits[t] = np.int8(r_row[t] + 2 * np.int32(acc[t]) >= th) ^ iv


@njit("void(int8[:, ::1], int64[::1], int64[::1], int64[::1], int16[:, ::1])", parallel=True, cache=True)
def flip_sums(x_t, starts, mids, flip_in, out_t):
    """out_t int16 [len(starts) - 1, N]: per neuron, the sum of its inputs x_t int8 [n_in, N]
    at its +2 flips (starts[jj]:mids[jj]) minus at its -2 flips (mids[jj]:starts[jj+1]),
    i.e. half the change of its raw dot on the error-free inputs (bit inputs: |sum| <= n_in)."""
    n = x_t.shape[1]
    for tile in prange((n + IMAGE_TILE - 1) // IMAGE_TILE):
        n0 = tile * IMAGE_TILE
        m = min(n, n0 + IMAGE_TILE) - n0
        acc = np.empty(IMAGE_TILE, np.int16)
        for jj in range(starts.shape[0] - 1):
            _signed_flip_sums(x_t, starts[jj], mids[jj], starts[jj + 1], flip_in, n0, m, acc)
            out_t[jj, n0:n0 + m] = acc[:m]


IMAGE_CHUNK = 64  # images per parallel work item of the image-major kernels
READ_INDEX_MOD = 1 << WRITE_BITS  # the read index of image n (models.faults.read_errors)


# Packed bits: bit k of an image's row is bit k % 64 of word k // 64 (uint64, zero padded), the
# layout of numpy.packbits(bitorder="little") viewed as uint64.

@njit(inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(inline="always")
def _popcount4(x_row, b_t, j):
    """popcount(x & b) over a 4-word row (256 inputs) and neuron j's weight bits b_t[:, j]."""
    return ((_popcount(x_row[0] & b_t[0, j]) + _popcount(x_row[1] & b_t[1, j]))
            + (_popcount(x_row[2] & b_t[2, j]) + _popcount(x_row[3] & b_t[3, j])))


@njit(inline="always")
def _popcount_dots(x_row, b_t, acc):
    """acc[j] = raw dot r = x . w of bit inputs x (packed row) with +-1 weights whose bits
    (1 = +1) are b_t[:, j] packed: r = 2 popcount(x & b) - popcount(x). Rows of 4 words
    (256 inputs) run neuron-outer with the words unrolled (one store per neuron)."""
    ones = np.int32(0)
    for w in range(x_row.shape[0]):
        ones += np.int32(_popcount(x_row[w]))
    if x_row.shape[0] == 4:
        for j in range(acc.shape[0]):
            acc[j] = 2 * np.int32(_popcount4(x_row, b_t, j)) - ones
        return
    acc[:] = 0
    for w in range(x_row.shape[0]):
        xv = x_row[w]
        b_row = b_t[w]
        for j in range(acc.shape[0]):
            acc[j] += np.int32(_popcount(xv & b_row[j]))
    for j in range(acc.shape[0]):
        acc[j] = 2 * acc[j] - ones


PACK_MAGIC = np.uint64(0x0102040810204080)  # bytes 0/1 of a uint64 times this: byte k -> bit 56 + k


@njit(inline="always")
def _pack_flags(flags, out_row):
    """out_row uint64 [words] = flags uint8 0/1 [64 * words] packed, 8 flags per multiply."""
    f64 = flags.view(np.uint64)
    for w in range(out_row.shape[0]):
        v = np.uint64(0)
        for b in range(8):
            v |= ((f64[8 * w + b] * PACK_MAGIC) >> np.uint64(56)) << np.uint64(8 * b)
        out_row[w] = v


@njit(inline="always")
def _pack_bits(acc, tt, inv, flags, out_row):
    """out_row = packed bits (acc >= tt) ^ inv; flags: uint8 work buffer [64 * words]."""
    for j in range(acc.shape[0]):
        flags[j] = np.uint8(acc[j] >= tt[j]) ^ np.uint8(inv[j])
    _pack_flags(flags, out_row)


@njit(inline="always")
def _count_changed(out_row, act_row):
    """Bits that differ between two packed rows."""
    c = np.int32(0)
    for w in range(out_row.shape[0]):
        c += np.int32(_popcount(out_row[w] ^ act_row[w]))
    return c


@njit("void(uint64[:, ::1], uint64[:, ::1], int32[::1], int8[::1], uint64[:, ::1], uint64[:, ::1], int32[::1])",
      parallel=True, cache=True)
def popcount_layer(x, b_t, tt, inv, act, out, count):
    """Dense hidden layer on packed bits: x uint64 [N, words_in], weight bits b_t uint64
    [words_in, n_out]; out uint64 [N, words_out] = packed (r >= tt) ^ inv; count int32 [N]
    the output bits that differ from the error-free act."""
    n = x.shape[0]
    n_out = b_t.shape[1]
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        flags = np.zeros(64 * out.shape[1], np.uint8)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            x_row = x[i]
            if x_row.shape[0] == 4:  # 256 inputs: compare in the popcount domain, 2 p >= tt + ones
                ones = np.int32(_popcount(x_row[0]) + _popcount(x_row[1]) + _popcount(x_row[2]) + _popcount(x_row[3]))
                for j in range(n_out):
                    flags[j] = np.uint8(np.int32(2 * _popcount4(x_row, b_t, j)) >= tt[j] + ones) ^ np.uint8(inv[j])
                _pack_flags(flags, out[i])
            else:
                _popcount_dots(x_row, b_t, acc)
                _pack_bits(acc, tt, inv, flags, out[i])
            count[i] = _count_changed(out[i], act[i])


@njit("void(uint64[:, ::1], uint64[:, ::1], int64[::1], int64[::1])", parallel=True, cache=True)
def popcount_output(x, b_t, w_sum, pred):
    """Dense output layer on packed bits: class scores 2r - sum(w), first maximum wins."""
    n = x.shape[0]
    n_out = b_t.shape[1]
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            _popcount_dots(x[i], b_t, acc)
            best = 0
            best_score = 2 * np.int64(acc[0]) - w_sum[0]
            for j in range(1, n_out):
                s = 2 * np.int64(acc[j]) - w_sum[j]
                if s > best_score:
                    best = j
                    best_score = s
            pred[i] = best


@njit("void(int32[:, ::1], int32[::1], int8[::1], uint64[:, ::1])", parallel=True, cache=True)
def threshold_pack(r, tt, inv, out):
    """out = packed (r >= tt) ^ inv for raw dots r int32 [N, n_out]."""
    n, n_out = r.shape
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        flags = np.zeros(64 * out.shape[1], np.uint8)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            _pack_bits(r[i], tt, inv, flags, out[i])


@njit(inline="always")
def _changed_dots(i, x_clean, x_new, r, neurons, half_t, w_t, acc):
    """acc int16 [n_out] = raw dots of image i with the faulty weights and new inputs:
    x'W' = xW + x(W' - W) + (x' - x)W', i.e. r, plus twice half_t at the flipped neurons,
    plus +-1 rows of the faulty w_t for every input bit that changed (found by xor, bit scan)."""
    r_row = r[i]
    for j in range(acc.shape[0]):
        acc[j] = r_row[j]
    for jj in range(neurons.shape[0]):
        acc[neurons[jj]] += 2 * half_t[jj, i]
    for w in range(x_clean.shape[1]):
        new = x_new[i, w]
        d = x_clean[i, w] ^ new
        while d:
            low = d & (~d + np.uint64(1))
            k = 64 * w + np.int64(_popcount(low - np.uint64(1)))
            s = np.int16(1) if new & low else np.int16(-1)
            d ^= low
            w_row = w_t[k]
            for j in range(acc.shape[0]):
                acc[j] += s * np.int16(w_row[j])


@njit(inline="always")
def _differs(x_clean, x_new, i):
    for w in range(x_clean.shape[1]):
        if x_clean[i, w] != x_new[i, w]:
            return True
    return False


@njit("void(uint64[:, ::1], uint64[:, ::1], int16[:, ::1], int64[::1], int16[:, ::1], int8[:, ::1], int32[::1], "
      "int8[::1], uint64[:, ::1], uint64[:, ::1], int32[::1])", parallel=True, cache=True)
def incremental_layer(x_clean, x_new, r, neurons, half_t, w_t, tt, inv, act, out, count):
    """A hidden layer after the first, image by image from its error-free raw dots
    r int16 [N, n_out] (bit inputs: |r| <= n_in < 2**15): inputs packed, error-free x_clean
    and as they are now x_new (uint64 [N, words_in]); `neurons` are those with flipped weights
    or changed thresholds, half_t int16 [len(neurons), N] their flip_sums; w_t int8
    [n_in, n_out] the faulty +-1 weights; bit = (r' >= tt) ^ inv. Images with unchanged
    inputs evaluate only `neurons`, the others every neuron. Writes the output bits packed
    (out uint64 [N, words_out]; act holds the error-free ones) and count int32 [N] of the
    output bits that changed."""
    n, n_out = r.shape
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int16)
        flags = np.zeros(64 * out.shape[1], np.uint8)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            o = out[i]
            if _differs(x_clean, x_new, i):
                _changed_dots(i, x_clean, x_new, r, neurons, half_t, w_t, acc)
                _pack_bits(acc, tt, inv, flags, o)
            else:
                o[:] = act[i]
                for jj in range(neurons.shape[0]):
                    j = neurons[jj]
                    bit = np.uint64(np.int8(np.int32(r[i, j]) + 2 * np.int32(half_t[jj, i]) >= tt[j]) ^ inv[j])
                    sh = np.uint64(j & 63)
                    o[j >> 6] = (o[j >> 6] & ~(np.uint64(1) << sh)) | (bit << sh)
            count[i] = _count_changed(o, act[i])


@njit("void(int8[:, ::1], int32[:, ::1], uint64[:, ::1], int64[::1], int64[::1], int64[::1], int64[::1], "
      "int32[::1], int8[::1], uint64[:, ::1], int32[::1])", parallel=True, cache=True)
def clean_input_packed(x_t, r_t, act_packed, neurons, starts, mids, flip_in, tt, inv, out, count):
    """The first layer (its inputs never change): only `neurons` (flipped weights or changed
    thresholds) can change; neuron neurons[jj] has the flips starts[jj]:starts[jj+1], grouped
    by sign at mids[jj] (group_by_sign). Feature-major: x_t int8 [n_in, N] inputs, r_t int32
    [n_out, N] error-free raw dots; bit = (r >= tt[j]) ^ inv[j]. Writes the output bits packed
    (out uint64 [N, words], act_packed the error-free ones) and count int32 [N] of those
    that changed."""
    n = x_t.shape[1]
    for tile in prange((n + IMAGE_TILE - 1) // IMAGE_TILE):
        n0 = tile * IMAGE_TILE
        m = min(n, n0 + IMAGE_TILE) - n0
        out[n0:n0 + m] = act_packed[n0:n0 + m]
        acc = np.empty(IMAGE_TILE, np.int16)
        bits = np.empty(IMAGE_TILE, np.int8)
        word = np.empty(IMAGE_TILE, np.uint64)  # one output word of the tile's images
        w = -1
        for jj in range(neurons.shape[0]):
            j = neurons[jj]
            if j >> 6 != w:  # neurons ascend: a new word
                if w >= 0:
                    for t in range(m):
                        out[n0 + t, w] = word[t]
                w = j >> 6
                for t in range(m):
                    word[t] = out[n0 + t, w]
            _first_layer_bits(x_t, r_t, j, starts[jj], mids[jj], starts[jj + 1], flip_in, tt[j], inv[j],
                              n0, m, acc, bits)
            shift = np.uint64(j & 63)
            keep = ~(np.uint64(1) << shift)
            for t in range(m):
                word[t] = (word[t] & keep) | (np.uint64(bits[t]) << shift)
        if w >= 0:
            for t in range(m):
                out[n0 + t, w] = word[t]
        for t in range(m):
            count[n0 + t] = _count_changed(out[n0 + t], act_packed[n0 + t])


@njit("void(int8[:, ::1], int64, int32[::1], uint16[:, ::1], int32[:, ::1], int8[:, ::1], int8[:, ::1], "
      "uint64, int64, uint64, int64, int64[::1], int8[::1], int8[:, ::1], int32[::1], uint16[:, ::1], "
      "int64[::1])", parallel=True, cache=True)
def read_error_layer(x_old, offset, count_in, idx_in, dot, w8, w_t, seed, layer, threshold, first,
                     t, inv, act, count, idx, pred):
    """One layer of a block of images under read errors, in the golden model's dot domain
    (dot = sum w * x, x = x_old + offset for value inputs, or +-1 for bits, offset -1): image i's inputs differ from the
    error-free x_old in the bits idx_in[i, :count_in[i]], and its reads of the weights (j, k)
    with fault_hash(seed, layer, j, k, (first + i) mod 2**24) < threshold (models.faults.read_errors:
    `seed` already keyed, the image's number in the run first + i) are inverted: dot_j += -2 w_jk x'_k.

    Hidden layers (act given, pred empty): bit = dot >= t, or dot <= t if inv; writes the bits
    that differ from act as lists (count, idx). Output layer (pred given): first maximum."""
    n, n_out = dot.shape
    hidden = pred.shape[0] == 0
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        x_row = np.empty(x_old.shape[1], np.int32)
        for i in range(chunk * IMAGE_CHUNK, min(n, (chunk + 1) * IMAGE_CHUNK)):
            d_row = dot[i]
            for j in range(n_out):
                acc[j] = d_row[j]
            for k in range(x_row.shape[0]):
                x_row[k] = np.int32(x_old[i, k]) + offset if offset >= 0 else 2 * np.int32(x_old[i, k]) - 1
            for c in range(count_in[i]):  # a bit input turned to s = +-1 from -s: dot += 2 s w
                k = idx_in[i, c]
                x_row[k] = -x_row[k]
                s2 = 2 * x_row[k]
                w_row = w_t[k]
                for j in range(n_out):
                    acc[j] += s2 * np.int32(w_row[j])
            if threshold > 0:
                r = np.uint64((first + i) % READ_INDEX_MOD)
                for j in range(n_out):
                    a = np.int32(0)
                    w_row = w8[j]
                    for k in range(x_row.shape[0]):
                        if _fault_hash(seed, layer, j, k, r) < threshold:
                            a -= 2 * np.int32(w_row[k]) * x_row[k]
                    acc[j] += a
            if hidden:
                c = 0
                a_row = act[i]
                idx_row = idx[i]
                for j in range(n_out):
                    bit = np.int8(acc[j] <= t[j]) if inv[j] else np.int8(acc[j] >= t[j])
                    idx_row[c] = j
                    c += bit ^ a_row[j]
                count[i] = c
            else:
                best = 0
                for j in range(1, n_out):
                    if acc[j] > acc[best]:
                        best = j
                pred[i] = best


BYTE_BLOCK_MASKS = np.array([0xFFFFFFFF, 0x0000FFFF0000FFFF, 0x00FF00FF00FF00FF], np.uint64)


@njit(inline="always")
def _transpose8x8(rows):
    """rows uint64 [8] of 8 bytes each -> in place, the eight columns (byte k of row i ->
    byte i of row k): swap blocks of 4, then 2, then 1 byte between rows i and i + 4, 2, 1."""
    for stage in range(3):
        half = 4 >> stage
        shift = np.uint64(8 * half)
        mask = BYTE_BLOCK_MASKS[stage]
        for i in range(8):
            if not i & half:
                t = ((rows[i] >> shift) ^ rows[i + half]) & mask
                rows[i] ^= t << shift
                rows[i + half] ^= t


_WORDS = types.Array(types.uint64, 2, "C")


@njit([types.void(_WORDS, types.uint64, _WORDS), types.void(_WORDS.copy(readonly=True), types.uint64, _WORDS)],
      parallel=True, cache=True)
def transpose_bytes(a, xor, out):
    """Byte matrices as uint64 words: out [m, n / 8] = (a [n, m / 8] ^ xor).T, in 8 x 8 byte
    blocks (n and m multiples of 8; about 4x an element-wise copy)."""
    n = a.shape[0]
    for block in prange(n // 8):
        rows = np.empty(8, np.uint64)
        for w in range(a.shape[1]):
            for k in range(8):
                rows[k] = a[8 * block + k, w] ^ xor
            _transpose8x8(rows)
            for k in range(8):
                out[8 * w + k, block] = rows[k]


_BYTES = types.Array(types.int8, 2, "C")


@njit([types.void(_BYTES, _BYTES), types.void(_BYTES.copy(readonly=True), _BYTES)], parallel=True, cache=True)
def transpose(a, out):
    """out = a.T for any int8 [n, m], in cache-sized blocks of 64 x 64."""
    n, m = a.shape
    for block in prange((n + 63) // 64):
        i0 = block * 64
        i1 = min(n, i0 + 64)
        for j0 in range(0, m, 64):
            for j in range(j0, min(m, j0 + 64)):
                for i in range(i0, i1):
                    out[j, i] = a[i, j]


@njit("void(uint64[:, ::1], uint64[:, ::1], int32[::1], int8[::1], int16[:, ::1], int8[:, ::1], uint64[:, ::1])",
      parallel=True, cache=True)
def popcount_state(x, b_t, tt, inv, r, act_t, act_packed):
    """A hidden layer's error-free state from packed bit inputs x uint64 [N, words_in] and
    weight bits b_t uint64 [words_in, n_out]: raw dots r int16 [N, n_out] (|r| <= n_in < 2**15),
    output bits act_t int8 [n_out, N] = (r >= tt) ^ inv (feature-major), and packed."""
    n = x.shape[0]
    n_out = b_t.shape[1]
    for chunk in prange((n + IMAGE_CHUNK - 1) // IMAGE_CHUNK):
        acc = np.empty(n_out, np.int32)
        flags = np.zeros(64 * act_packed.shape[1], np.uint8)
        tile = np.empty((n_out, IMAGE_CHUNK), np.int8)  # the chunk's bits, feature-major
        i0 = chunk * IMAGE_CHUNK
        i1 = min(n, i0 + IMAGE_CHUNK)
        for i in range(i0, i1):
            _popcount_dots(x[i], b_t, acc)
            _pack_bits(acc, tt, inv, flags, act_packed[i])
            for j in range(n_out):
                r[i, j] = np.int16(acc[j])
                tile[j, i - i0] = np.int8(flags[j])
        for j in range(n_out):
            act_t[j, i0:i1] = tile[j, :i1 - i0]


@njit("void(int8[:, ::1], uint64[:, ::1])", parallel=True, cache=True)
def pack_columns(bits_t, out):
    """out uint64 [N, words] = feature-major bits int8 0/1 [n, N] packed per image (bit k:
    bit k % 64 of word k // 64)."""
    m, n = bits_t.shape
    for tile in prange((n + IMAGE_TILE - 1) // IMAGE_TILE):
        n0 = tile * IMAGE_TILE
        n1 = min(n, n0 + IMAGE_TILE)
        word = np.empty(IMAGE_TILE, np.uint64)
        for w in range(out.shape[1]):
            word[:] = 0
            for b in range(min(64, m - 64 * w)):
                row = bits_t[64 * w + b]
                for t in range(n1 - n0):
                    word[t] |= np.uint64(row[n0 + t]) << np.uint64(b)
            for t in range(n1 - n0):
                out[n0 + t, w] = word[t]


@njit("void(int32[:, ::1], int32[::1], int8[::1], int8[:, ::1])", parallel=True, cache=True)
def threshold_rows(r_t, tt, inv, out_t):
    """out_t int8 [n_out, N] = (r_t >= tt) ^ inv for feature-major raw dots r_t [n_out, N]."""
    for j in prange(r_t.shape[0]):
        th = tt[j]
        iv = inv[j]
        for i in range(r_t.shape[1]):
            out_t[j, i] = np.int8(r_t[j, i] >= th) ^ iv
