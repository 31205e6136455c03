"""Folding arithmetic: word packing, cycle counts, errors naming layer and numbers."""
import numpy as np
import pytest

from bnnmram.hdl.folding import check_fold, cycles_per_image, pack_words, unpack_words

from bnnmram.hdl.net_folding import fold_net
from bnnmram.models.errors import BnnMramError


def test_pack_unpack_and_word_organisation():
    f = check_fold(0, 12, 6, pe=3, simd=4)
    w = np.random.default_rng(0).integers(0, 2, (6, 12), dtype=np.uint8)
    words = pack_words(w, f)
    assert len(words) == f.nf * f.sf == 6
    assert np.array_equal(unpack_words(words, f), w)
    # word nf*SF+sf bit p*SIMD+s is the weight of neuron nf*PE+p, input sf*SIMD+s
    nf, sf, p, s = 1, 2, 2, 3
    assert (words[nf * f.sf + sf] >> (p * f.simd + s)) & 1 == w[nf * f.pe + p, sf * f.simd + s]


@pytest.mark.parametrize("pe,simd,msg", [
    (3, 4, "PE=3 does not divide the 10 neurons"),
    (16, 4, "PE=16 is larger than the 10 neurons"),
    (2, 7, "SIMD=7 does not divide the 12 inputs"),
    (2, 13, "SIMD=13 is wider than the 12 inputs"),
])
def test_impossible_folding_names_layer_and_numbers(pe, simd, msg):
    with pytest.raises(BnnMramError, match=f"layer 2 \\(12 inputs, 10 neurons\\): {msg}"):
        check_fold(2, 12, 10, pe, simd)


def test_default_folding_balances_to_first_layer(small_net):
    _, net, _ = small_net
    folds = fold_net(net)
    assert cycles_per_image(folds) == folds[0].cycles
    assert all(f.cycles <= folds[0].cycles for f in folds)
    assert [f.cycles for f in fold_net(net, overrides={1: (1, 8)})][1] == 32 * (64 // 8)
    with pytest.raises(BnnMramError, match="layer 7"):
        fold_net(net, overrides={7: (1, 1)})
