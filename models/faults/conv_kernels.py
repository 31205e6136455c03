"""Compiled kernels of the conv-net campaign engine (models.faults.conv_campaign).

Activation maps are packed per pixel: [images, pixels, WPP] uint64, channel c of a pixel in
word c // 64 at bit c % 64, WPP = ceil(C / 64) words, padding bits 0. A layer's work is
given as "taps": for output position o, tap t reads input pixel taps[o, t] (a conv's K*K patch
pixels in (ky, kx) order; a dense layer is one position whose taps are all input pixels),
so conv and dense layers share one kernel. Weights are packed the same way per tap:
[C_out, taps, WPP]. Padding bits are 0 in inputs and weights, so each padded bit adds 1 to
popcount(xnor) and `pad` (taps * (64*WPP - C)) is subtracted.

Every kernel updates only the listed images, and of those only the listed channels, so a
fault pattern recomputes just what its flipped weights and changed inputs reach.
"""
import numpy as np
from numba import njit, prange

from .kernels import _popcount as _popcount64  # the one SWAR popcount (compiles to popcnt)


@njit(cache=True, inline="always")
def _put(out, img, pos, j, bit):
    word = j >> 6
    mask = np.uint64(1) << np.uint64(j & 63)
    if bit:
        out[img, pos, word] |= mask
    else:
        out[img, pos, word] &= ~mask


@njit(cache=True, inline="always")
def _store_all(out, img, o, acc, lo, hi):
    """Every channel's bit (lo[j] <= acc[j] <= hi[j]) as whole output words."""
    n = acc.shape[0]
    for wo in range(out.shape[2]):
        v = np.uint64(0)
        for b in range(min(64, n - 64 * wo)):
            j = 64 * wo + b
            if lo[j] <= acc[j] and acc[j] <= hi[j]:
                v |= np.uint64(1) << np.uint64(b)
        out[img, o, wo] = v


@njit(cache=True, inline="always")
def _any_input_changed(in_changed, img, pixels):
    """Whether any of the input pixels `pixels` (a taps or windows row) of image img changed."""
    for t in range(pixels.shape[0]):
        if in_changed[img, pixels[t]]:
            return True
    return False


@njit(cache=True, inline="always")
def _changed(out, clean, img, o):
    d = False
    for k in range(out.shape[2]):
        if out[img, o, k] != clean[img, o, k]:
            d = True
    return d


@njit(cache=True, parallel=True)
def bits_layer(x, in_changed, taps, w_all, w_sel, chans, pad, lo, hi, images, clean, out, out_changed):
    """Hidden conv/dense layer on bits: channel j's bit is lo[j] <= popcount(xnor) - pad <=
    hi[j] (the threshold rule in the popcount domain, one side open). For each listed image
    and output position o: every channel if an input pixel of o changed (in_changed), else
    only `chans`; out_changed[img, o] says whether o now differs from `clean`. w_all / w_sel:
    the weights of every / the chosen channels as [taps*WPP, channels] (select), so the
    innermost loop runs over channels with one patch word and vectorizes (vpopcntq)."""
    n_pos, n_taps = taps.shape
    wpp = x.shape[2]
    n_all, n_sel = w_all.shape[1], chans.shape[0]
    for ii in prange(images.shape[0]):
        img = images[ii]
        patch = np.empty(n_taps * wpp, np.uint64)
        acc = np.empty(n_all, np.int64)
        for o in range(n_pos):
            full = _any_input_changed(in_changed, img, taps[o])
            if not full and n_sel == 0:
                continue
            for t in range(n_taps):
                for k in range(wpp):
                    patch[t * wpp + k] = x[img, taps[o, t], k]
            if full:
                acc[:] = -pad
                for q in range(n_taps * wpp):
                    pv = ~patch[q]
                    for j in range(n_all):
                        acc[j] += _popcount64(pv ^ w_all[q, j])
                _store_all(out, img, o, acc, lo, hi)
            else:
                acc[:n_sel] = -pad
                for q in range(n_taps * wpp):
                    pv = ~patch[q]
                    for jj in range(n_sel):
                        acc[jj] += _popcount64(pv ^ w_sel[q, jj])
                for jj in range(n_sel):
                    j = chans[jj]
                    _put(out, img, o, j, lo[j] <= acc[jj] and acc[jj] <= hi[j])
            out_changed[img, o] = _changed(out, clean, img, o)


@njit(cache=True, parallel=True)
def bits_scores(x, taps, w_sel, pad, n_in, images, chans, scores):
    """Output layer on bits: scores[img, j] = 2 * popcount(xnor) - n_in, the XNOR identity
    of models.net.xnor.dot_from_popcount, for `images` x `chans` (w_sel as in bits_layer)."""
    n_taps = taps.shape[1]
    wpp = x.shape[2]
    n_sel = chans.shape[0]
    for ii in prange(images.shape[0]):
        img = images[ii]
        acc = np.zeros(n_sel, np.int64)
        for t in range(n_taps):
            for k in range(wpp):
                pv = ~x[img, taps[0, t], k]
                for jj in range(n_sel):
                    acc[jj] += _popcount64(pv ^ w_sel[t * wpp + k, jj])
        for jj in range(n_sel):
            scores[img, chans[jj]] = 2 * (acc[jj] - pad) - n_in


@njit(cache=True, parallel=True)
def pixel_layer(px, taps_flat, ws_sel, lo, hi, images, chans, clean, out, out_changed):
    """First conv layer on 8-bit pixels (its inputs never change): for the chosen channels,
    dot = sum_t ws_sel[t, jj] * px[img, taps_flat[o, t]] (ws_sel: +-1 weights as [taps,
    len(chans)]), bit = lo[j] <= dot <= hi[j]; out_changed as in bits_layer."""
    n_pos, n_taps = taps_flat.shape
    n_sel = chans.shape[0]
    n_out = lo.shape[0]
    for ii in prange(images.shape[0]):
        img = images[ii]
        acc = np.empty(n_sel, np.int32)   # |dot| <= 65536 * 255 < 2**31
        for o in range(n_pos):
            acc[:] = 0
            for t in range(n_taps):
                v = np.int32(px[img, taps_flat[o, t]])
                for jj in range(n_sel):
                    acc[jj] += ws_sel[t, jj] * v
            if n_sel == n_out:  # every channel, in order: whole words
                _store_all(out, img, o, acc, lo, hi)
            else:
                for jj in range(n_sel):
                    j = chans[jj]
                    _put(out, img, o, j, lo[j] <= acc[jj] and acc[jj] <= hi[j])
            out_changed[img, o] = _changed(out, clean, img, o)


@njit(cache=True, parallel=True)
def maxpool(x, in_changed, windows, images, clean, out, out_changed):
    """OR of the input pixels windows[o, :] into output pixel o, for the windows of the listed
    images where an input pixel changed; out_changed as in bits_layer."""
    n_pos, n_win = windows.shape
    wpp = x.shape[2]
    for ii in prange(images.shape[0]):
        img = images[ii]
        for o in range(n_pos):
            if not _any_input_changed(in_changed, img, windows[o]):
                continue
            d = False
            for k in range(wpp):
                v = np.uint64(0)
                for t in range(n_win):
                    v |= x[img, windows[o, t], k]
                out[img, o, k] = v
                if v != clean[img, o, k]:
                    d = True
            out_changed[img, o] = d


@njit(cache=True, parallel=True)
def maxpool_all(x, windows, out):
    """OR of the input pixels windows[o, :] into output pixel o, every image (error-free pass)."""
    n_pos, n_win = windows.shape
    wpp = x.shape[2]
    for img in prange(x.shape[0]):
        for o in range(n_pos):
            for k in range(wpp):
                v = np.uint64(0)
                for t in range(n_win):
                    v |= x[img, windows[o, t], k]
                out[img, o, k] = v
