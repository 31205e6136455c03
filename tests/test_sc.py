"""Stochastic-computing (sc) input: the generator's definition and statistics, the net file,
training (golden = float), and both campaign engines against the golden model with errors."""
import json

import numpy as np
import pytest
import torch

from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.campaign import Campaign
from bnnmram.models.faults.conv_campaign import ConvCampaign
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.faults.read_errors import net_read_weights
from bnnmram.models.net import golden, netfile, stochastic, training
from bnnmram.models.net.cnn import parse_spec
from nets import random_conv_net, random_net

PIXELS = np.random.default_rng(0).integers(0, 256, (40, 100), dtype=np.uint8)


@pytest.mark.parametrize("n", stochastic.SAMPLES)
def test_counts_are_the_sum_of_n_comparisons(n):
    """The closed form the hardware computes equals the definition: N comparators p > r(i, k)."""
    r = stochastic.thresholds(77, PIXELS.shape[1], n)
    assert r.shape == (100, n) and int(r.max()) <= 255
    want = (PIXELS[:, :, None] > r[None]).sum(2)
    assert np.array_equal(stochastic.counts(PIXELS, 77, n), want)
    assert np.array_equal(stochastic.values(PIXELS, 77, n), 2 * want - n)


def test_every_threshold_value_is_equally_likely_and_samples_have_the_pixel_mean():
    """r(i, k) is uniform over 0..255 across pixels (chi-square), so a sample's mean over
    pixels of one value p is p/256; seeds give different thresholds."""
    r = stochastic.thresholds(3, 65536, 1)[:, 0]
    hist = np.bincount(r, minlength=256)
    chi2 = ((hist - 256) ** 2 / 256).sum()
    assert chi2 < 330, chi2           # 255 degrees of freedom: p ~ 0.001 at 330
    for p in (0, 1, 64, 200, 255):
        c = stochastic.counts(np.full((1, 65536), p, np.uint8), 3, 4)
        assert abs(c.mean() / 4 - p / 256) < 0.01, p
    assert not np.array_equal(stochastic.dither(3, 1000, 4), stochastic.dither(4, 1000, 4))
    # adjacent pixels' thresholds are uncorrelated
    assert abs(np.corrcoef(r[:-1].astype(float), r[1:].astype(float))[0, 1]) < 0.02


def test_training_samples_follow_the_same_rule(monkeypatch):
    """Fresh samples in training: 2c - N with u uniform in [0, S), the counts' rule."""
    px = torch.from_numpy(np.repeat(PIXELS, 50, 0))
    v = stochastic.random_values(px, 8, torch.Generator().manual_seed(1)).numpy()
    c = (v + 8) / 2
    assert np.array_equal(c, np.round(c)) and c.min() >= 0 and c.max() <= 8
    lo = (px.numpy() >> 5).astype(float)
    assert ((c == lo) | (c == lo + 1)).all()
    assert abs(c.mean() - (px.numpy() / 32).mean()) < 0.02


def test_bad_samples_are_refused():
    for bad in (0, 3, 128, 2.0, True, "4"):
        with pytest.raises(BnnMramError, match="power of two in 1..64"):
            stochastic.check_samples(bad)


def test_net_file_round_trip_and_checks(tmp_path):
    net = random_net([64, 16, 10], kind="sc", samples=8)
    p = netfile.save(net, tmp_path / "n.json")
    doc = json.loads(p.read_text())
    assert doc["sc"] == {"samples": 8, "seed": net.sc_seed} and doc["layers"][0]["input"] == "sc"
    back = netfile.load(p)
    assert back.layers[0].samples == 8 and back.sc_seed == net.sc_seed and back.layers[0].dot_peak == 64 * 8
    assert np.array_equal(golden.run(back, PIXELS[:, :64]).scores, golden.run(net, PIXELS[:, :64]).scores)

    def broken(edit, match):
        d = json.loads(p.read_text())
        edit(d)
        d["sha256"] = netfile._checksum(d)
        q = tmp_path / "bad.json"
        q.write_text(json.dumps(d))
        with pytest.raises(BnnMramError, match=match):
            netfile.load(q)
    broken(lambda d: d.pop("sc"), "needs sc")
    broken(lambda d: d["sc"].update(samples=3), "power of two")
    broken(lambda d: d["sc"].update(seed=-1), "seed")
    broken(lambda d: d["sc"].update(extra=1), "needs sc")
    broken(lambda d: d["layers"][0].update(thresholds=[64 * 8 + 2] * 16), "outside")
    plain = netfile.save(random_net([64, 16, 10]), tmp_path / "p.json")
    d = json.loads(plain.read_text())
    d["sc"] = {"samples": 4, "seed": 1}
    d["sha256"] = netfile._checksum(d)
    plain.write_text(json.dumps(d))
    with pytest.raises(BnnMramError, match="sc belongs to"):
        netfile.load(plain)


@pytest.mark.parametrize("n", [1, 16])
def test_trained_mlp_golden_equals_float(digits, n):
    model = training.train([64, 32, 10], digits.train_x, digits.train_y, epochs=8, seed=2, sc_samples=n, sc_seed=11)
    net = training.export(model)
    assert net.layers[0].input == "sc" and net.layers[0].samples == n and net.sc_seed == 11
    g = golden.run(net, digits.test_x)
    assert np.array_equal(g.pred, model.predict(torch.from_numpy(digits.test_x)))
    assert (g.pred == digits.test_y).mean() > 0.7


def test_trained_conv_net_golden_equals_float(digits):
    model = training.train(parse_spec("conv8k3-pool2-dense10"), digits.train_x, digits.train_y, epochs=3, seed=1,
                      input_shape=digits.shape, sc_samples=4, sc_seed=9)
    net = training.export(model)
    assert net.layers[0].input == "sc" and net.layers[0].kind == "conv"
    g = golden.run(net, digits.test_x)
    assert np.array_equal(g.pred, model.predict(torch.from_numpy(digits.test_x)))


def test_sc_and_binarized_are_exclusive(digits):
    with pytest.raises(BnnMramError, match="not both"):
        training.train([64, 10], digits.train_x, digits.train_y, epochs=1, binarize_input=True, sc_samples=4)


CFGS = [FaultConfig(seed=1, ber=1e-3), FaultConfig(seed=2, ber=0.02), FaultConfig(seed=3, ber=0.2),
        FaultConfig(seed=5, mode="switch", rate_01=0.1, rate_10=0.03, init_state=1)]


@pytest.mark.parametrize("n", [1, 4, 64])
def test_mlp_campaign_equals_golden(n):
    net = random_net([100, 40, 20, 7], seed=n, kind="sc", samples=n)
    labels = np.zeros(len(PIXELS), np.int64)
    for opts in ({}, {"thresholds": True}):
        camp = Campaign(net, PIXELS, labels, **opts)
        assert np.array_equal(camp.clean_pred.numpy(), golden.run(net, PIXELS).pred)
        for cfg in CFGS:
            want = golden.run(faulty_net(net, cfg, thresholds=bool(opts)), PIXELS).pred
            assert np.array_equal(camp.predict(cfg).numpy(), want), (opts, cfg)


def test_mlp_read_errors_equal_golden():
    net = random_net([100, 30, 7], seed=3, kind="sc", samples=16)
    x = np.concatenate([PIXELS] * (600 // len(PIXELS) + 1))[:600]
    camp = Campaign(net, x, np.zeros(len(x), np.int64), read_errors=True)
    cfg = FaultConfig(seed=2, ber=0.1)
    pred = camp.predict(cfg).numpy()
    assert (pred != camp.clean_pred.numpy()).any()
    want = golden.run(net, x, weights=net_read_weights(net, 2, 0.1, range(len(x)))).pred
    assert np.array_equal(pred, want)


@pytest.mark.parametrize("n", [2, 32])
def test_conv_campaign_equals_golden(n):
    net = random_conv_net(seed=n, kind="sc", shape=(10, 10, 1), samples=n)
    labels = np.zeros(len(PIXELS), np.int64)
    camp = ConvCampaign(net, PIXELS, labels, thresholds=True)
    assert np.array_equal(camp.clean_pred.numpy(), golden.run(net, PIXELS).pred)
    for cfg in CFGS:
        want = golden.run(faulty_net(net, cfg, thresholds=True), PIXELS).pred
        assert np.array_equal(camp.predict(cfg).numpy(), want), cfg


def test_documented_known_answer():
    """docs/netfile.md's table of r(i, k) for seed 0, N = 4 (a third party's check)."""
    doc = (__import__("pathlib").Path(__file__).parents[1] / "docs" / "netfile.md").read_text()
    assert "`37 101 165 229`, `4 68 132 196`, `17 81 145 209`, `40 104 168 232`" in doc
    assert stochastic.thresholds(0, 4, 4).tolist() == [[37, 101, 165, 229], [4, 68, 132, 196],
                                                       [17, 81, 145, 209], [40, 104, 168, 232]]
