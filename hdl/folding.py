"""FINN-style folding: PE output neurons in parallel, SIMD inputs per cycle, written once.

A layer with N_in inputs and N_out neurons runs NF = N_out/PE neuron folds of SF = N_in/SIMD
synapse folds: NF * SF cycles per input vector. Its weights sit in one MRAM word per (nf, sf),
at address nf * SF + sf, bit p * SIMD + s holding the weight of neuron nf*PE + p, input
sf*SIMD + s. A conv layer is the same unit over its K*K*C_in patches (N_in = K*K*C_in,
N_out = C_out): OH*OW patches per image, OH*OW * NF * SF cycles, PE over output channels and
SIMD over the patch bits. Max-pool layers hold no weights (PoolFold).
"""
from dataclasses import dataclass

import numpy as np

from bnnmram.models.errors import BnnMramError

MAX_SIMD = 64
MAX_PE = 64


@dataclass(frozen=True)
class LayerFold:
    n_in: int
    n_out: int
    pe: int
    simd: int
    positions: int = 1   # input vectors per image: OH*OW patches of a conv layer, 1 for dense
    in_pixels: int = 0   # pixels its input stream carries per image, one per cycle (conv, flatten)
    kernel: int = 0      # conv layers: K, the input width W and the output rows OH
    in_width: int = 0
    out_rows: int = 0

    @property
    def nf(self) -> int:
        return self.n_out // self.pe

    @property
    def sf(self) -> int:
        return self.n_in // self.simd

    @property
    def window_idle(self) -> int:
        """Conv layers: cycles per image in which the MVTU waits for the sliding window, which
        takes one pixel per cycle: the (K-1)*W + K pixels up to an image's first patch and the
        K pixels up to each later row's first patch, each overlapped with the NF*SF cycles of
        the patch before it."""
        if not self.kernel:
            return 0
        c, k = self.nf * self.sf, self.kernel
        return max(0, (k - 1) * self.in_width + k - c) + (self.out_rows - 1) * max(0, k - c)

    @property
    def cycles(self) -> int:
        """Cycles per image in steady state: OH*OW * NF * SF plus the window's idle cycles, or
        the input pixels (one per cycle) if they take longer."""
        return max(self.positions * self.nf * self.sf + self.window_idle, self.in_pixels)

    @property
    def words(self) -> int:
        """MRAM words of this layer (depth)."""
        return self.nf * self.sf

    @property
    def word_bits(self) -> int:
        return self.pe * self.simd


@dataclass(frozen=True)
class PoolFold:
    """A max-pool layer: no weights, one input pixel per cycle."""
    in_pixels: int
    words: int = 0

    @property
    def cycles(self) -> int:
        return self.in_pixels


def check_fold(i: int, n_in: int, n_out: int, pe: int, simd: int, positions: int = 1,
               in_pixels: int = 0, geometry: tuple = (0, 0, 0)) -> LayerFold:
    ins, outs = ("inputs", "neurons") if positions == 1 else ("patch bits", "output channels")
    where = f"layer {i} ({n_in} {ins}, {n_out} {outs})"
    if pe < 1 or simd < 1:
        raise BnnMramError(f"{where}: PE={pe} and SIMD={simd} must be positive")
    if pe > n_out:
        raise BnnMramError(f"{where}: PE={pe} is larger than the {n_out} {outs}")
    if n_out % pe:
        raise BnnMramError(f"{where}: PE={pe} does not divide the {n_out} {outs}")
    if simd > n_in:
        raise BnnMramError(f"{where}: SIMD={simd} is wider than the {n_in} {ins}")
    if n_in % simd:
        raise BnnMramError(f"{where}: SIMD={simd} does not divide the {n_in} {ins}")
    return LayerFold(n_in, n_out, pe, simd, positions, in_pixels, *geometry)


def divisors(n, limit):
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def default_fold(n_in: int, n_out: int, budget: int) -> tuple[int, int]:
    """Smallest PE*SIMD meeting a cycle budget (wider SIMD first: cheaper than more PEs)."""
    best = None
    for simd in divisors(n_in, MAX_SIMD):
        for pe in divisors(n_out, MAX_PE):
            cycles = (n_in // simd) * (n_out // pe)
            key = (cycles > budget, pe * simd if cycles <= budget else cycles, -simd)
            if best is None or key < best[0]:
                best = (key, pe, simd)
    return best[1], best[2]


def cycles_per_image(folds: list) -> int:
    """Analytic steady-state cycles per image: the slowest layer sets the pace."""
    return max(f.cycles for f in folds)


def pack_words(weights: np.ndarray, fold: LayerFold, bits: int = 1) -> list[int]:
    """MRAM words (Python ints of PE*SIMD*bits bits) of one layer's weights [n_out, n_in]: weight
    k = p*SIMD + s of a word in bits [k*bits, (k+1)*bits) (bits = 4: the levels of a sampled macro)."""
    w = np.asarray(weights, np.uint8).reshape(fold.nf, fold.pe, fold.sf, fold.simd)
    w = w.transpose(0, 2, 1, 3).reshape(fold.words, fold.word_bits)  # [nf*sf, pe*simd]
    w = np.unpackbits(w[..., None], axis=-1, bitorder="little")[..., :bits].reshape(fold.words, -1)
    packed = np.packbits(w, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def unpack_words(words: list[int], fold: LayerFold, bits: int = 1) -> np.ndarray:
    """Inverse of pack_words: weights [n_out, n_in] from the MRAM words."""
    word_bits = fold.word_bits * bits
    nbytes = (word_bits + 7) // 8
    raw = np.frombuffer(b"".join(int(v).to_bytes(nbytes, "little") for v in words), np.uint8)
    b = np.unpackbits(raw.reshape(fold.words, nbytes), axis=1, bitorder="little")[:, :word_bits]
    b = b.reshape(fold.words, fold.word_bits, bits)
    values = np.packbits(b, axis=-1, bitorder="little")[..., 0] if bits > 1 else b[..., 0]
    values = values.reshape(fold.nf, fold.sf, fold.pe, fold.simd).transpose(0, 2, 1, 3)
    return values.reshape(fold.n_out, fold.n_in)
