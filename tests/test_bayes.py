"""Bayesian BNNs: the levels, the read-time sampling definition (reference, compiled sampler,
docs' pseudo-code), T passes per image against the golden model on each pass's own weights,
the predictive measures, training and the v3 net file."""
from fractions import Fraction

import numpy as np
import pytest
import torch

from bnnmram.models.bayes import metrics, predictive, sampling
from bnnmram.models.net import golden, levels, netfile, training
from nets import bayesian, random_conv_net, random_net
from test_faults import _documented_hash


def test_read_thresholds_are_the_rounded_level_fractions():
    t = levels.read_thresholds()
    assert [int(v) for v in t] == [round(Fraction(q * 2**32, levels.TOP)) for q in range(levels.LEVELS)]
    assert t[0] == 0 and t[-1] == 2**32


def test_a_sample_follows_the_documented_definition():
    rng = np.random.default_rng(3)
    q = rng.integers(0, 16, (5, 9)).astype(np.uint8)
    seed, layer = 0xDEADBEEF, 2
    for r in (0, 1, 77, 2**24 - 1, 2**24 + 3):
        got = sampling.sample_weights(q, seed, layer, r)
        want = [[int(_documented_hash(seed ^ 0x53414D50, layer, j, i, r % 2**24)
                     < round(Fraction(int(q[j, i]) * 2**32, 15))) for i in range(9)] for j in range(5)]
        assert got.tolist() == want


def test_the_compiled_sampler_equals_the_reference():
    rng = np.random.default_rng(4)
    q = rng.integers(0, 16, (23, 41)).astype(np.uint8)
    s = sampling.Sampler(q, 99, 5)
    rs = np.array([0, 3, 1000, 2**24 + 1])
    drawn = s.draw(rs)
    for p, r in enumerate(rs):
        assert np.array_equal(drawn[p], sampling.sample_weights(q, 99, 5, r))
    assert s.varying == int(((q > 0) & (q < 15)).sum())


def test_levels_read_one_at_their_probability_and_the_ends_never_vary():
    q = np.repeat(np.arange(16, dtype=np.uint8)[:, None], 400, axis=1)
    drawn = sampling.Sampler(q, 5, 0).draw(np.arange(60)).mean(axis=(0, 2))
    assert drawn[0] == 0 and drawn[15] == 1
    assert np.abs(drawn - np.arange(16) / 15).max() < 0.02   # 24,000 reads per level
    # another seed or read index gives other draws
    assert not np.array_equal(sampling.sample_weights(q, 5, 0, 0), sampling.sample_weights(q, 6, 0, 0))


@pytest.mark.parametrize("make", [lambda: random_net([20, 12, 8, 4], seed=1), lambda: random_net([20, 9, 4], 2, "sc"),
                                  lambda: random_net([20, 9, 4], 3, "binarized"), lambda: random_conv_net(4)],
                         ids=["mlp", "sc", "binarized", "conv"])
def test_every_pass_equals_the_golden_model_on_its_own_weights(make):
    net = bayesian(make(), seed=7)
    images = np.random.default_rng(8).integers(0, 256, (5, net.layers[0].in_size), dtype=np.uint8)
    t, seed = 3, 11
    scores = predictive.sample_scores(net, images, t, seed, first_image=2)
    for n in range(len(images)):
        for k in range(t):
            r = (2 + n) * t + k
            w = [l.weights if l.levels is None else sampling.sample_weights(l.levels, seed, i, r)
                 for i, l in enumerate(net.layers)]
            assert np.array_equal(scores[n, k], golden.run(net.with_weights(w), images[n:n + 1]).scores[0])
    assert len({scores[:, k].tobytes() for k in range(t)}) > 1   # the passes differ


def test_the_predictive_summary():
    scores = np.array([[[3, 1, 0], [3, 1, 0]], [[0, 5, 1], [4, 0, 0]]])
    p = predictive.summarise(scores, 1.0)
    assert p.pred.tolist() == [0, 1]                 # argmax of the summed scores (first wins ties: [4, 5, 1])
    assert p.mutual_information[0] == pytest.approx(0, abs=1e-12)   # two equal passes
    assert p.mutual_information[1] > 0.5
    assert np.allclose(p.probs.sum(1), 1)
    assert p.entropy[1] == pytest.approx(predictive.entropy(p.probs[1]))
    # the first t passes
    assert predictive.summarise(scores, 1.0).first(1, 1.0).scores.shape == (2, 1, 3)


def test_metrics_on_known_cases():
    y = np.array([0, 1, 1, 0])
    onehot = np.eye(2)[y]
    assert metrics.nll(onehot, y) == 0 and metrics.ece(onehot, y) == 0 and metrics.accuracy(y, y) == 1
    wrong = np.eye(2)[1 - y]
    assert metrics.ece(wrong, y) == 1 and metrics.nll(wrong, y) == pytest.approx(-np.log(metrics.NLL_FLOOR))
    # 70 % confident, right 7 times in 10: calibrated
    p = np.tile([0.7, 0.3], (10, 1))
    assert metrics.ece(p, np.array([0] * 7 + [1] * 3)) == pytest.approx(0, abs=1e-12)
    assert metrics.ece(p, np.array([0] * 4 + [1] * 6)) == pytest.approx(0.3)
    conf, acc, count = metrics.reliability(p, np.array([0] * 4 + [1] * 6))
    assert count.sum() == 10 and count[10] == 10 and acc[10] == pytest.approx(0.4)
    assert metrics.ood_auroc(np.array([0.1, 0.2]), np.array([0.5, 0.9])) == 1
    assert metrics.ood_auroc(np.array([0.5, 0.9]), np.array([0.1, 0.2])) == 0


def test_version_3_round_trip(tmp_path):
    for net in (bayesian(random_net([20, 12, 4])), bayesian(random_conv_net(1, "sc"))):
        path = netfile.save(net, tmp_path / "net.json")
        back = netfile.load(path)
        assert back.is_bayesian and back.score_scale == 0.25
        for a, b in zip(net.layers, back.layers):
            assert (a.levels is None) == (b.levels is None)
            if a.levels is not None:
                assert np.array_equal(a.levels, b.levels) and np.array_equal(a.weights, b.weights)
        assert netfile.to_dict(back)["version"] == 3
        assert not back.with_weights([l.weights for l in back.layers]).is_bayesian


@pytest.mark.parametrize("arch,shape", [([64, 32, 10], None), ("conv4k3-pool2-dense16-dense10", (8, 8, 1))])
def test_bayesian_training_exports_levels_the_float_model_agrees_with(digits, arch, shape, tmp_path):
    from bnnmram.models.net import cnn
    a = cnn.parse_spec(arch) if isinstance(arch, str) else arch
    model = training.train(a, digits.train_x, digits.train_y, epochs=10, seed=2, bayesian=True, lr=2e-2,
                           input_shape=shape)
    net = netfile.load(netfile.save(training.export(model, {}), tmp_path / "net.json"))
    assert net.is_bayesian and net.score_scale == pytest.approx(float(model.log_scale.detach().exp()))
    for l, m in zip([l for l in net.layers if l.has_weights], model.fcs):
        assert l.levels is not None and np.array_equal(l.weights, levels.map_bits(l.levels))
    q = np.concatenate([l.levels.ravel() for l in net.layers if l.levels is not None])
    assert ((q > 0) & (q < 15)).any()           # some weights are uncertain
    # the float model in evaluation uses the most probable weights: the golden model on the file's
    float_pred = model.predict(torch.from_numpy(np.array(digits.test_x)))
    assert np.array_equal(golden.run(net, digits.test_x).pred, float_pred)
    # and a few passes classify far above chance
    p = predictive.run(net, digits.test_x[:200], 4, 0, net.score_scale)
    assert metrics.accuracy(p.pred, digits.test_y[:200]) > 0.5


# ---------------------------------------------------------------- the command line

def test_train_bayesian_and_infer_samples(tmp_path, capsys, digits):
    from cli_helpers import run_cli
    out = tmp_path / "net"
    assert run_cli(["train", "--dataset", "digits", "--arch", "64-32-10", "--epochs", "3", "--bayesian",
                    "--kl-weight", "0.2", "--lr", "0.02", "--out", out]) == 0
    net = netfile.load(out / "net.json")
    assert net.is_bayesian and net.meta["kl_weight"] == 0.2
    npz = tmp_path / "p.npz"
    assert run_cli(["infer", "--net", out / "net.json", "--dataset", "digits", "--limit", "30", "--samples", "4",
                    "--sample-seed", "3", "--out", npz]) == 0
    d = np.load(npz)
    assert d["scores"].shape == (30, 4, 10) and d["probs"].shape == (30, 10)
    want = predictive.run(net, digits.test_x[:30], 4, 3, net.score_scale)
    assert np.array_equal(d["scores"], want.scores) and np.array_equal(d["pred"], want.pred)
    assert np.allclose(d["entropy"], want.entropy) and np.allclose(d["mutual_information"], want.mutual_information)
    assert "T = 4: accuracy" in capsys.readouterr().out
    # an infer result may be replaced by another (with or without --samples)
    assert run_cli(["infer", "--net", out / "net.json", "--dataset", "digits", "--limit", "30", "--out", npz]) == 0
    assert set(np.load(npz).files) == {"scores", "pred", "labels"}


@pytest.mark.parametrize("argv,expect", [
    (["infer", "--net", "DET", "--dataset", "digits", "--samples", "4", "--out", "OUT/i.npz"], "--samples needs a Bayesian net"),
    (["infer", "--net", "BAYES", "--dataset", "digits", "--samples", "0", "--out", "OUT/i.npz"], "samples per image must be in 1..1024"),
    (["infer", "--net", "BAYES", "--dataset", "digits", "--samples", "2", "--ber", "1e-3", "--out", "OUT/i.npz"],
     "write errors beside read-time sampling are not modelled"),
    (["gen", "--net", "BAYES", "--memory", "stmram", "--out", "OUT/rtl"], "samples its weights in 1T1R RRAM cells (--memory rram)"),
    (["gen", "--net", "BAYES", "--memory", "rram2t2r", "--out", "OUT/rtl"], "not --memory rram2t2r"),
    (["gen", "--net", "BAYES", "--memory", "rram", "--mram-hash-stages", "4", "--out", "OUT/rtl"],
     "sampled macros program without the write-error hash"),
    (["energy", "--net", "DET", "--samples", "4", "--out", "OUT/e"], "--samples needs a Bayesian net"),
    (["sweep", "--net", "BAYES", "--dataset", "digits", "--ber", "1e-2", "--trials", "1", "--out", "OUT/s"], "`bnnmram sweep` takes"),
    (["train", "--dataset", "digits", "--arch", "64-10", "--kl-weight", "1", "--out", "OUT/t"], "--kl-weight needs --bayesian"),
    (["train", "--dataset", "digits", "--arch", "64-10", "--bayesian", "--kl-weight", "-1", "--out", "OUT/t"], "KL weight must be in [0, 1000]"),
], ids=["deterministic", "samples 0", "with write errors", "gen stmram", "gen 2t2r", "gen hash stages", "energy samples", "sweep",
        "kl without bayes", "kl negative"])
def test_bayesian_refusals(capsys, tmp_path, argv, expect):
    from cli_helpers import assert_one_line_error, run_cli_err, snapshot
    det = netfile.save(random_net([64, 16, 10]), tmp_path / "det.json")
    bay = netfile.save(bayesian(random_net([64, 16, 10])), tmp_path / "bayes.json")
    argv = [str(a).replace("DET", str(det)).replace("BAYES", str(bay)).replace("OUT", str(tmp_path / "o")) for a in argv]
    before = snapshot(tmp_path)
    code, err = run_cli_err(capsys, argv)
    assert_one_line_error(code, err, argv[0], expect)
    assert snapshot(tmp_path) == before
