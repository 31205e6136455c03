"""A net's folding for an ECP5's block RAM: the PE/SIMD per weight layer that keeps every layer
within a cycle budget per image and needs the fewest DP16KD blocks for its memory macros, as
`bnnmram pnr` maps RTL built with `gen --mram-shared-readback` (docs/asic.md, "Block RAM").

A macro array of D words of W bits goes into DP16KD blocks of one aspect ratio (true dual port:
16384x1, 8192x2, 4096x4, 2048x9, 1024x18, for the weights' read-write + inference read ports;
the write counters, D words of 24 bits with one read and one write, may also use the pseudo dual
port 512x36). Wide, shallow arrays waste most of each block's depth, so the best folding keeps
arrays deep. Cost = blocks + PE*SIMD / BITS_PER_BLOCK: a block (0.5 % of an LFE5U-85F's 208) is
worth about 100 bits of word width, whose XNOR-popcount tree and write-path shift registers
take a few hundred LUTs and flip-flops (about 0.4 % of its 83,640 LUTs). One bit per weight:
deterministic nets (a Bayesian net's sampled macros store 4-bit levels).

    python -m bnnmram.gen.bram_fold --net NET --cycles 38400
"""
import argparse
import math

from bnnmram.hdl import kinds
from bnnmram.hdl.folding import divisors
from bnnmram.hdl.net_folding import fold_net, layer_stream
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import WRITE_BITS
from bnnmram.models.net import netfile
from bnnmram.models.net.netfile import Net

TRUE_DUAL_PORT = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18)]   # (words, bits) per DP16KD
PSEUDO_DUAL_PORT = TRUE_DUAL_PORT + [(512, 36)]
BITS_PER_BLOCK = 100  # word bits (PE*SIMD) that cost as much as one block
LUT_RAM_BITS = 1024   # arrays this small Yosys puts in LUT RAM (TRELLIS_DPR16X4), not block RAM


def array_blocks(words: int, bits: int, shapes=TRUE_DUAL_PORT) -> int:
    """DP16KD blocks for an array of `words` x `bits` in the best single aspect ratio."""
    if words * bits <= LUT_RAM_BITS:
        return 0
    return min(math.ceil(words / d) * math.ceil(bits / w) for d, w in shapes)


def macro_blocks(words: int, word_bits: int) -> int:
    """DP16KD blocks of one shared-read-back macro: its weight array and its write counters."""
    return array_blocks(words, word_bits) + array_blocks(words, WRITE_BITS, PSEUDO_DUAL_PORT)


def fit_folding(net: Net, cycles: int) -> dict[int, tuple[int, int]]:
    """{layer: (PE, SIMD)} for every weight layer: each layer's cycles per image <= `cycles` at
    the least cost (blocks + PE*SIMD / BITS_PER_BLOCK). One line if no folding meets it."""
    folding = {}
    for i, layer in enumerate(net.layers):
        if not layer.has_weights:
            continue
        stream = layer_stream(net, i)
        best = None
        for pe in divisors(layer.n_out, layer.n_out):
            for simd in divisors(layer.n_in, layer.n_in):
                fold = kinds.of(layer).fold(i, layer, pe, simd, stream)
                if fold.cycles > cycles:
                    continue
                key = (macro_blocks(fold.words, fold.word_bits) + pe * simd / BITS_PER_BLOCK, -simd)
                if best is None or key < best[0]:
                    best = (key, (pe, simd))
        if best is None:
            raise BnnMramError(f"layer {i} needs more than {cycles} cycles per image at any folding; "
                               "raise --cycles")
        folding[i] = best[1]
    return folding


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", required=True)
    p.add_argument("--cycles", type=int, required=True, help="cycle budget per image of every layer")
    args = p.parse_args(argv)
    net = netfile.load(args.net)
    folding = fit_folding(net, args.cycles)
    folds = fold_net(net, overrides=folding)
    total = 0
    for i, f in enumerate(folds):
        if i in folding:
            b = macro_blocks(f.words, f.word_bits)
            total += b
            print(f"layer {i}: PE={f.pe} SIMD={f.simd}: {f.words} words x {f.word_bits} bits, "
                  f"{f.cycles} cycles/image, {b} DP16KD (weights and write counters)")
    print(f"{max(f.cycles for f in folds)} cycles/image, {total} DP16KD for the macros (LFE5U-85F: 208)")
    print("gen options: " + " ".join(f"--fold {i}:{pe}:{simd}" for i, (pe, simd) in folding.items())
          + " --mram-shared-readback")


if __name__ == "__main__":
    main()
