"""Port payloads of a generated accelerator, from its manifest alone: the MRAM organisation of
each weight layer, `prog` words, input words, and the decoding of `out` results. One coding
for the cocotb testbench and the plain C++ harness driver."""
import numpy as np

from bnnmram.hdl.folding import LayerFold, pack_words
from bnnmram.models.net import kinds


def weight_folds(man: dict) -> dict[int, LayerFold]:
    """MRAM organisation of each weight layer by net layer index (max-pool layers have none)."""
    return {l["index"]: LayerFold(l["n_in"], l["n_out"], l["pe"], l["simd"])
            for l in man["layers"] if kinds.KINDS[l["kind"]].has_weights}


def bits_per_weight(man: dict) -> dict[int, int]:
    """Stored bits per weight of each weight layer: 1, or 4 (the level) in a sampled macro."""
    return {l["index"]: l.get("mram_bits_per_weight", 1) for l in man["layers"] if kinds.KINDS[l["kind"]].has_weights}


def prog_words(man: dict, weights) -> list[int]:
    """Every `prog__payload` that writes the weights (weights[i]: bits, or levels in a sampled
    macro, [n_out, n_in] of layer i)."""
    lb, ab = man["prog"]["layer_bits"], man["prog"]["addr_bits"]
    bits = bits_per_weight(man)
    return [i | addr << lb | word << (lb + ab)
            for i, fold in weight_folds(man).items()
            for addr, word in enumerate(pack_words(weights[i], fold, bits[i]))]


def input_words(man: dict, image: np.ndarray) -> np.ndarray:
    """One image's input words as rows of bytes (byte k of word j = image byte j*bytes_per_word + k)."""
    inp = man["input"]
    return np.asarray(image, np.uint8).reshape(inp["words_per_image"], inp["bytes_per_word"])


def decode_result(man: dict, payload: int) -> tuple[int, list[int]]:
    """(class, signed scores) of one `out__payload`."""
    out = man["output"]
    cb, sb = out["class_bits"], out["score_bits"]
    scores = [(payload >> (cb + j * sb)) & ((1 << sb) - 1) for j in range(out["classes"])]
    return payload & ((1 << cb) - 1), [s - (1 << sb) if s >> (sb - 1) else s for s in scores]
