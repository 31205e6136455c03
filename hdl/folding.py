"""FINN-style folding: PE output neurons in parallel, SIMD inputs per cycle, written once.

A layer with N_in inputs and N_out neurons runs NF = N_out/PE neuron folds of SF = N_in/SIMD
synapse folds: NF * SF cycles per image. Its weights sit in one MRAM word per (nf, sf), at
address nf * SF + sf, bit p * SIMD + s holding the weight of neuron nf*PE + p, input sf*SIMD + s.
"""
from dataclasses import dataclass

import numpy as np

from models.errors import BnnMramError
from models.net.netfile import Net

MAX_SIMD = 64
MAX_PE = 64


@dataclass(frozen=True)
class LayerFold:
    n_in: int
    n_out: int
    pe: int
    simd: int

    @property
    def nf(self) -> int:
        return self.n_out // self.pe

    @property
    def sf(self) -> int:
        return self.n_in // self.simd

    @property
    def cycles(self) -> int:
        """Cycles per image in steady state."""
        return self.nf * self.sf

    @property
    def words(self) -> int:
        """MRAM words of this layer (depth)."""
        return self.nf * self.sf

    @property
    def word_bits(self) -> int:
        return self.pe * self.simd


def check_fold(i: int, n_in: int, n_out: int, pe: int, simd: int) -> LayerFold:
    where = f"layer {i} ({n_in} inputs, {n_out} neurons)"
    if pe < 1 or simd < 1:
        raise BnnMramError(f"{where}: PE={pe} and SIMD={simd} must be positive")
    if pe > n_out:
        raise BnnMramError(f"{where}: PE={pe} is larger than the {n_out} neurons")
    if n_out % pe:
        raise BnnMramError(f"{where}: PE={pe} does not divide the {n_out} neurons")
    if simd > n_in:
        raise BnnMramError(f"{where}: SIMD={simd} is wider than the {n_in} inputs")
    if n_in % simd:
        raise BnnMramError(f"{where}: SIMD={simd} does not divide the {n_in} inputs")
    return LayerFold(n_in, n_out, pe, simd)


def _divisors(n, limit):
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def default_fold(n_in: int, n_out: int, budget: int) -> tuple[int, int]:
    """Smallest PE*SIMD meeting a cycle budget (wider SIMD first: cheaper than more PEs)."""
    best = None
    for simd in _divisors(n_in, MAX_SIMD):
        for pe in _divisors(n_out, MAX_PE):
            cycles = (n_in // simd) * (n_out // pe)
            key = (cycles > budget, pe * simd if cycles <= budget else cycles, -simd)
            if best is None or key < best[0]:
                best = (key, pe, simd)
    return best[1], best[2]


def fold_net(net: Net, pe: int | None = None, simd: int | None = None,
             overrides: dict | None = None, budget: int | None = None) -> list[LayerFold]:
    """Per-layer folding: per-layer overrides {i: (pe, simd)}, else the global PE/SIMD, else a
    default that balances every layer to the first layer's cycle count (PE 16, SIMD 16)."""
    overrides = dict(overrides or {})
    n = len(net.layers)
    bad = [i for i in overrides if not 0 <= i < n]
    if bad:
        raise BnnMramError(f"folding override for layer {bad[0]}, but the net has layers 0..{n - 1}")
    l0 = net.layers[0]
    p0, s0 = overrides.get(0, (pe or max(_divisors(l0.n_out, 16)), simd or max(_divisors(l0.n_in, 16))))
    if budget is None:
        budget = -(-l0.n_in // max(s0, 1)) * -(-l0.n_out // max(p0, 1))
    folds = []
    for i, l in enumerate(net.layers):
        if i in overrides:
            p, s = overrides[i]
        elif i == 0:
            p, s = p0, s0
        elif pe is not None or simd is not None:
            dp, ds = default_fold(l.n_in, l.n_out, budget)
            p, s = pe or dp, simd or ds
        else:
            p, s = default_fold(l.n_in, l.n_out, budget)
        folds.append(check_fold(i, l.n_in, l.n_out, p, s))
    return folds


def cycles_per_image(folds: list[LayerFold]) -> int:
    """Analytic steady-state cycles per image: the slowest layer sets the pace."""
    return max(f.cycles for f in folds)


def pack_words(weights: np.ndarray, fold: LayerFold) -> list[int]:
    """MRAM words (Python ints of PE*SIMD bits) of one layer's bits [n_out, n_in]."""
    w = np.asarray(weights, np.uint8).reshape(fold.nf, fold.pe, fold.sf, fold.simd)
    w = w.transpose(0, 2, 1, 3).reshape(fold.words, fold.word_bits)  # [nf*sf, pe*simd]
    packed = np.packbits(w, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def unpack_words(words: list[int], fold: LayerFold) -> np.ndarray:
    """Inverse of pack_words: bits [n_out, n_in] from the MRAM words."""
    nbytes = (fold.word_bits + 7) // 8
    raw = np.frombuffer(b"".join(int(v).to_bytes(nbytes, "little") for v in words), np.uint8)
    bits = np.unpackbits(raw.reshape(fold.words, nbytes), axis=1, bitorder="little")[:, :fold.word_bits]
    bits = bits.reshape(fold.nf, fold.sf, fold.pe, fold.simd).transpose(0, 2, 1, 3)
    return bits.reshape(fold.n_out, fold.n_in)
