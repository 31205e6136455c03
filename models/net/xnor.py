"""The XNOR-popcount identity, written once: for +-1 vectors coded as bits (1 = +1, 0 = -1),
dot(w, x) = 2 * popcount(xnor(w, x)) - N. Golden model, generator and testbench import it."""


def dot_from_popcount(popcount, n):
    """Signed +-1 dot product of two N-element vectors from the popcount of their XNOR."""
    return 2 * popcount - n


def popcount_threshold(threshold, n, flip):
    """Move a dot-product threshold to the popcount domain (integers, exact).

    Not flipped: dot >= T  <=>  popcount >= ceil((T + N) / 2).
    Flipped:     dot <= T  <=>  popcount <= floor((T + N) / 2).
    """
    s = int(threshold) + int(n)
    return s // 2 if flip else -((-s) // 2)
