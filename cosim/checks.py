"""What every cocotb bench checks against the vectors (the golden model's side), whatever drives
the ports: the MRAM read back against the fault model, the write counters, every result."""
import json
import os

import numpy as np

from bnnmram.cosim.payloads import bits_per_weight
from bnnmram.hdl.folding import pack_words, unpack_words


def load_config() -> tuple[dict, dict, object]:
    """(config, manifest, vectors) of the run: the config file BNNMRAM_SIM_CONFIG names."""
    with open(os.environ["BNNMRAM_SIM_CONFIG"]) as fh:
        cfg = json.load(fh)
    with open(cfg["manifest"]) as fh:
        man = json.load(fh)
    return cfg, man, np.load(cfg["vectors"])


def read_back(man: dict, vec, folds: dict, stored: dict, writes: dict, log) -> tuple[list, dict, dict]:
    """(read-back mismatches per layer, histogram of write counts, words whose count is not 1)
    of the dumped words `stored` and counters `writes` ({layer: [value per address]})."""
    mismatches = []
    bits = bits_per_weight(man)
    for i, f in folds.items():
        got = unpack_words(stored[i], f, bits[i])
        want = vec[f"stored{i}"]
        bad = np.argwhere(got != want)
        if len(bad):
            n, k = bad[0]
            words = sorted({int((k // f.simd) + f.sf * (n // f.pe)) for n, k in bad})
            want_words = pack_words(want, f, bits[i])
            mismatches.append({"layer": i, "bits": int(len(bad)), "words": words[:50],
                               "first_word_expected": hex(want_words[words[0]]),
                               "first_word_got": hex(stored[i][words[0]]),
                               "first_neuron": int(n),
                               "first_input": int(k), "expected": int(want[n, k]),
                               "got": int(got[n, k])})
            log.error("read-back: layer %d has %d stored bits differing from the fault model "
                      "(first: neuron %d input %d expected %d got %d)", i, len(bad), n, k,
                      want[n, k], got[n, k])
    # each word was programmed once: its write counter must read 1
    write_counts = {}
    for i, counts in writes.items():
        for c in counts:
            write_counts[c] = write_counts.get(c, 0) + 1
    miscounted = {i: [a for a, c in enumerate(counts) if c != 1] for i, counts in writes.items()}
    miscounted = {i: a for i, a in miscounted.items() if a}
    for i, a in miscounted.items():
        log.error("write counters: layer %d has %d words whose count is not 1 after one programming "
                  "(first: word %d reads %d)", i, len(a), a[0], writes[i][a[0]])
    return mismatches, write_counts, miscounted


def weights_flipped(vec, n_layers: int) -> int:
    return int(sum((vec[f"stored{i}"] != vec[f"weights{i}"]).sum() for i in range(n_layers)))


def results(vec, got: list, n_layers: int, log) -> list[dict]:
    """Mismatches of the results `got` [(class, scores)] against the vectors, in order."""
    mismatches = []
    for k, (cls, scores) in enumerate(got):
        want_s = [int(v) for v in vec["scores"][k]]
        want_c = int(vec["pred"][k])
        if cls != want_c or scores != want_s:
            mismatches.append({"image": k, "layer": n_layers - 1, "expected_class": want_c,
                               "got_class": cls, "expected_scores": want_s, "got_scores": scores})
            if len(mismatches) <= 10:
                log.error("image %d (output layer %d): expected class %d scores %s, got class %d "
                          "scores %s", k, n_layers - 1, want_c, want_s, cls, scores)
    missing = len(vec["scores"]) - len(got)
    if missing > 0:
        mismatches.append({"image": len(got), "missing_results": missing})
        log.error("%d results never arrived", missing)
    return mismatches
