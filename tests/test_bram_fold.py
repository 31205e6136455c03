"""gen.bram_fold: the folding that fits a net's macros into ECP5 block RAM within a cycle budget."""
import pytest

from bnnmram.gen.bram_fold import array_blocks, fit_folding, macro_blocks, main
from bnnmram.hdl.net_folding import fold_net
from bnnmram.models.errors import BnnMramError
from cli_helpers import run_cli
from nets import random_conv_net, random_net, save_random_net


def test_block_geometry():
    """DP16KD aspect ratios: 2048 x 9 bits per block at 2048 words, 1024 x 18 below, 512 x 36 only
    for the write counters (one read, one write port); tiny arrays go to LUT RAM."""
    assert array_blocks(2048, 24) == 3 and array_blocks(1024, 24) == 2 and array_blocks(36, 1024) == 57
    assert macro_blocks(512, 72) == 4 + 1 and macro_blocks(16, 16) == 0


@pytest.mark.parametrize("net", [random_net([256, 128, 64, 10], seed=1), random_conv_net(seed=2)],
                         ids=["mlp", "conv"])
def test_folding_meets_the_budget_and_a_looser_budget_needs_no_more_blocks(net):
    def blocks(folding):
        folds = fold_net(net, overrides=folding)
        return folds, sum(macro_blocks(f.words, f.word_bits) for i, f in enumerate(folds) if i in folding)
    fastest = max(f.cycles for f in fold_net(net, overrides={i: (l.n_out, l.n_in) for i, l in
                                                             enumerate(net.layers) if l.has_weights}))
    previous = None
    for budget in (fastest, 4 * fastest, 64 * fastest):
        folds, b = blocks(fit_folding(net, budget))
        assert max(f.cycles for f in folds) <= budget
        assert previous is None or b <= previous
        previous = b
    with pytest.raises(BnnMramError, match="raise --cycles"):
        fit_folding(net, fastest - 1)


def test_the_printed_options_generate(tmp_path, capsys):
    net = save_random_net(tmp_path / "net.json", [64, 32, 10], seed=4)
    main(["--net", str(net), "--cycles", "64"])
    out = capsys.readouterr().out
    options = out.strip().splitlines()[-1].removeprefix("gen options: ").split()
    assert run_cli(["gen", "--net", net, *options, "--out", tmp_path / "rtl"]) == 0
    assert "cycles/image" in out and "DP16KD" in out
