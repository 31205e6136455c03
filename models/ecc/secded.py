"""SECDED (extended Hamming) codes: layout, a Python reference coder, and the exact effect on
error rates. The Amaranth generator (hdl/secded.py) uses the same layout.

Codeword bit 0 is the overall parity; bits 1..m are Hamming positions 1..m, parity bits at
powers of two, data bits in the other positions in order. k data bits need r check bits
with 2**r >= k + r + 1, so n = k + r + 1: (72, 64), (39, 32), (8, 4).
"""
import math
from functools import lru_cache


@lru_cache(maxsize=None)
def layout(k: int) -> tuple[int, int, tuple[int, ...]]:
    """(n, r, data positions) of the SECDED code for k data bits."""
    if k < 1:
        raise ValueError(f"SECDED needs at least 1 data bit, not {k!r}")
    r = 1
    while 2 ** r < k + r + 1:
        r += 1
    m = k + r
    data_pos = tuple(p for p in range(1, m + 1) if p & (p - 1))
    return m + 1, r, data_pos


def encode(data: int, k: int) -> int:
    n, r, data_pos = layout(k)
    word = 0
    for i, p in enumerate(data_pos):
        word |= ((data >> i) & 1) << p
    for j in range(r):
        par = 0
        for p in range(1, n):
            if p >> j & 1 and p != 1 << j:
                par ^= word >> p & 1
        word |= par << (1 << j)
    word |= bin(word).count("1") & 1  # overall parity in bit 0
    return word


def decode(word: int, k: int) -> tuple[int, bool, bool]:
    """(data, corrected a single error, detected an uncorrectable double error)."""
    n, r, data_pos = layout(k)
    syndrome = 0
    for p in range(1, n):
        if word >> p & 1:
            syndrome ^= p
    parity = bin(word).count("1") & 1
    single = parity == 1
    double = parity == 0 and syndrome != 0
    if single and syndrome:
        word ^= 1 << syndrome
    data = sum(((word >> p) & 1) << i for i, p in enumerate(data_pos))
    return data, single, double


def word_failure_probability(p: float, n: int) -> float:
    """Probability that a SECDED word of n bits has >= 2 errors (not correctable)."""
    return -math.expm1(n * math.log1p(-p)) - n * p * (1 - p) ** (n - 1) if p < 1 else 1.0


def effective_ber(p: float, k: int) -> float:
    """Data bit error rate after SECDED decoding at raw bit error rate p.

    A word with j >= 2 errors keeps its j errors (a double is detected, not corrected; with
    j >= 3 the decoder may also miscorrect one more bit: counted as j + 1); data bits carry
    k/n of them on average."""
    n, _, _ = layout(k)
    total = 0.0
    for j in range(2, n + 1):
        pj = math.comb(n, j) * p ** j * (1 - p) ** (n - j)
        total += pj * (j + (1 if j >= 3 else 0))
        if j > 12 and pj < 1e-30:
            break
    return total * (k / n) / k


def raw_ber_for(target: float, k: int) -> float:
    """Largest raw BER whose post-SECDED data BER is target (bisection on a log scale)."""
    lo, hi = 1e-15, 0.5
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if effective_ber(mid, k) > target:
            hi = mid
        else:
            lo = mid
    return lo
