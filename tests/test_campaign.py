"""The campaign engine: exact against the golden model, reproducible, statistics."""
import json

import numpy as np
import pytest

from bnnmram.gen.cli import main
from bnnmram.models.net import golden
from bnnmram.models.faults.campaign import Campaign
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.faults.sweep import parse_bers


@pytest.mark.parametrize("fixture", ["small_net", "binarized_net"])
def test_engine_equals_golden_image_by_image(request, fixture, digits):
    _, net, _ = request.getfixturevalue(fixture)
    camp = Campaign(net, digits.test_x, digits.test_y)
    for seed, ber in [(0, 0.0), (1, 1e-3), (2, 1e-2), (3, 5e-2), (4, 0.2), (5, 0.5)]:
        cfg = FaultConfig(seed=seed, ber=ber)
        want = golden.run(faulty_net(net, cfg), digits.test_x).pred
        assert np.array_equal(camp.predict(cfg).numpy(), want), (seed, ber)
    cfg = FaultConfig(seed=9, mode="switch", rate_01=0.1, rate_10=0.02)
    assert np.array_equal(camp.predict(cfg).numpy(), golden.run(faulty_net(net, cfg), digits.test_x).pred)


def test_any_order_of_patterns(small_net, digits):
    """Results do not depend on what ran before: a seed's first pattern on the full hashes
    (BER above the candidates' 1/8), then BER 0, then a low BER of the same seed."""
    _, net, _ = small_net
    camp = Campaign(net, digits.test_x, digits.test_y)
    for cfg in [FaultConfig(seed=5, ber=0.3), FaultConfig(seed=5, ber=0.0), FaultConfig(seed=5, ber=0.05),
                FaultConfig(seed=6, ber=0.0), FaultConfig(seed=5, ber=0.02)]:
        want = golden.run(faulty_net(net, cfg), digits.test_x).pred
        assert np.array_equal(camp.predict(cfg).numpy(), want), cfg


def test_only_some_layers(small_net, digits):
    _, net, _ = small_net
    camp = Campaign(net, digits.test_x, digits.test_y, layers=[1])
    cfg = FaultConfig(seed=1, ber=0.1)
    bits = camp.faulty_bits(cfg)
    assert np.array_equal(bits[0], net.layers[0].weights) and not np.array_equal(bits[1], net.layers[1].weights)
    want = golden.run(net.with_weights(bits), digits.test_x).pred
    assert np.array_equal(camp.predict(cfg).numpy(), want)


def test_sweep_command_reproducible(small_net, tmp_path):
    def sweep(out):
        with pytest.raises(SystemExit) as e:
            main(["sweep", "--net", str(small_net[2]), "--dataset", "digits", "--ber", "0,1e-3,...,1e-1",
                  "--trials", "4", "--seed", "5", "--out", str(out)])
        assert e.value.code == 0
        return (out / "sweep.csv").read_text(), json.loads((out / "sweep.json").read_text())
    csv_a, doc = sweep(tmp_path / "a")
    csv_b, _ = sweep(tmp_path / "b")
    assert csv_a == csv_b
    net = doc["nets"][0]
    assert [r["ber"] for r in net["per_ber"]] == [0, 1e-3, 1e-2, 1e-1]
    assert net["per_ber"][0]["mean"] == net["clean_accuracy"] and net["per_ber"][0]["std"] == 0
    assert all(r["ci95"][0] <= r["mean"] <= r["ci95"][1] for r in net["per_ber"])
    assert (tmp_path / "a" / "sweep.png").stat().st_size > 10_000


def test_parse_bers():
    assert parse_bers("1e-6,1e-5,...,1e-1") == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    assert parse_bers("0.5,1e-2") == [1e-2, 0.5]
    for bad in ("x", "...,1e-2", "1e-3,2"):
        with pytest.raises(BnnMramError):
            parse_bers(bad)


def test_threshold_errors_option(small_net, digits):
    from bnnmram.models.faults.model import stored_thresholds, threshold_width
    _, net, _ = small_net
    l0 = net.layers[0]
    t, f = stored_thresholds(l0, 0, FaultConfig(ber=0.0))
    assert np.array_equal(t, l0.thresholds) and np.array_equal(f, l0.flip)
    t1, f1 = stored_thresholds(l0, 0, FaultConfig(ber=1.0))  # every bit inverted
    w = threshold_width(l0)
    assert np.array_equal(t1, -l0.thresholds - 1) and np.array_equal(f1, ~l0.flip)
    camp = Campaign(net, digits.test_x, digits.test_y, thresholds=True)
    cfg = FaultConfig(seed=2, ber=0.01)
    want = golden.run(faulty_net(net, cfg, thresholds=True), digits.test_x).pred
    assert np.array_equal(camp.predict(cfg).numpy(), want)
    t2, _ = stored_thresholds(l0, 0, FaultConfig(seed=2, ber=0.05))
    assert (t2 != l0.thresholds).sum() > 0 and w == int(64 * 255 + 2).bit_length() + 1


PATHS = {  # forced thresholds of the engine's cost model -> the path every layer takes
    "always-dense": dict(DENSE_CLEAN=0.0, INCREMENTAL_CHANGES=-1),
    "always-incremental": dict(DENSE_CLEAN=float("inf"), INCREMENTAL_CHANGES=float("inf")),
}


@pytest.mark.parametrize("path", PATHS)
def test_every_engine_path_is_exact(small_net, digits, monkeypatch, path):
    """Force the dense products and popcounts, or the incremental kernels, at every BER."""
    import bnnmram.models.faults.campaign as campaign
    for name, value in PATHS[path].items():
        monkeypatch.setattr(campaign, name, value)
    _, net, _ = small_net
    camp = Campaign(net, digits.test_x, digits.test_y)
    for seed, ber in [(1, 1e-3), (2, 3e-3), (3, 1e-2), (4, 3e-2), (5, 0.1), (6, 0.5)]:
        cfg = FaultConfig(seed=seed, ber=ber)
        want = golden.run(faulty_net(net, cfg), digits.test_x).pred
        assert np.array_equal(camp.predict(cfg).numpy(), want), (seed, ber)
    for seed in range(3):  # one layer at a time: clean inputs into faulty layers, and the reverse
        for layer in range(len(net.layers)):
            cfg = FaultConfig(seed=seed, ber=0.01)
            camp_l = Campaign(net, digits.test_x, digits.test_y, layers=[layer])
            want = golden.run(net.with_weights(camp_l.faulty_bits(cfg)), digits.test_x).pred
            assert np.array_equal(camp_l.predict(cfg).numpy(), want), (seed, layer)
    cfg = FaultConfig(seed=7, ber=0.02)
    camp_t = Campaign(net, digits.test_x, digits.test_y, thresholds=True)
    assert np.array_equal(camp_t.predict(cfg).numpy(),
                          golden.run(faulty_net(net, cfg, thresholds=True), digits.test_x).pred)


def test_compiled_hash_equals_the_fault_model():
    from bnnmram.models.faults import kernels
    from bnnmram.models.faults.model import layer_hash
    for shape, layer, seed, write in [((7, 13), 0, 0, 0), ((256, 784), 3, 2**32 - 1, 0),
                                      ((10, 256), 127, 12345, 5), ((3, 70), 200, 7, 2**24 + 3)]:
        h = np.empty(shape, np.uint32)
        kernels.layer_hash(shape[0], shape[1], layer, seed, write, h)
        assert np.array_equal(h, layer_hash(shape, layer, seed, write))


def test_pack_bits_layout():
    from bnnmram.models.faults.campaign import pack_bits
    bits = (np.random.default_rng(0).random((5, 130)) < 0.5).astype(np.uint8)
    words = pack_bits(bits)
    assert words.shape == (5, 3) and words.dtype == np.uint64
    for k in (0, 1, 63, 64, 129):
        assert np.array_equal((words[:, k // 64] >> np.uint64(k % 64)) & np.uint64(1), bits[:, k])


@pytest.mark.parametrize("shape", [(130, 67), (136, 64), (8, 784), (64, 8)])
def test_transpose(shape):
    """Blocks of 64 x 64 elements, or of 8 x 8 bytes in words where both sides allow."""
    from bnnmram.models.faults.campaign import _transposed
    a = np.random.default_rng(1).integers(-128, 128, shape).astype(np.int8)
    assert np.array_equal(_transposed(a), a.T)
    pixels = a.view(np.uint8).copy()
    pixels.flags.writeable = False  # as data sets load
    assert np.array_equal(_transposed(pixels, xor=0x80), (pixels.astype(np.int16) - 128).astype(np.int8).T)


def test_first_layer_int16_sums_never_overflow(monkeypatch):
    """The first layer sums flipped inputs in int16. Dark pixels (input -128) into 784-input
    neurons whose weights are mostly -1, at BER 0.5: about 350 flips each add -2 * 128, a sum
    far outside int16. Even with the dense product switched off the engine must stay exact
    (such neurons go dense), and the int16 kernel must still take the layers it can (BER 0.1)."""
    import bnnmram.models.faults.campaign as campaign
    from bnnmram.models.net.netfile import Layer, Net
    monkeypatch.setattr(campaign, "DENSE_CLEAN", float("inf"))
    rng = np.random.default_rng(3)
    net = Net([Layer((rng.random((16, 784)) < 0.1).astype(np.uint8), "pixel", rng.integers(-500, 500, 16),
                     rng.random(16) < 0.3),
               Layer((rng.random((10, 16)) < 0.5).astype(np.uint8), "bits")])
    images = np.where(rng.random((300, 784)) < 0.95, 0, rng.integers(0, 256, (300, 784))).astype(np.uint8)
    camp = Campaign(net, images, np.zeros(300, np.int64))
    used = []
    monkeypatch.setattr(campaign.kernels, "clean_input_packed",
                        lambda *a, f=campaign.kernels.clean_input_packed: (used.append(1), f(*a)))
    for seed, ber in [(1, 0.5), (2, 0.1)]:
        cfg = FaultConfig(seed=seed, ber=ber)
        want = golden.run(faulty_net(net, cfg), images)
        assert np.array_equal(camp.predict(cfg).numpy(), want.pred), ber
        assert len(used) == (ber == 0.1)


def test_one_layer_net_and_too_wide_hidden_layers(digits):
    """A net of a single (output) layer runs through the engine exactly; a hidden layer
    wider than the int16 dots allow is refused in one line, not computed wrongly."""
    from bnnmram.models.net.netfile import Layer, Net
    rng = np.random.default_rng(5)
    net = Net([Layer((rng.random((10, 64)) < 0.5).astype(np.uint8), "pixel")])
    camp = Campaign(net, digits.test_x, digits.test_y)
    for seed, ber in [(0, 0.0), (1, 0.01), (2, 0.3)]:
        cfg = FaultConfig(seed=seed, ber=ber)
        assert np.array_equal(camp.predict(cfg).numpy(), golden.run(faulty_net(net, cfg), digits.test_x).pred)
    wide = Net([Layer((rng.random((2**15, 8)) < 0.5).astype(np.uint8), "pixel", np.zeros(2**15, np.int64),
                      np.zeros(2**15, bool)),
                Layer((rng.random((4, 2**15)) < 0.5).astype(np.uint8), "bits", np.zeros(4, np.int64), np.zeros(4, bool)),
                Layer((rng.random((10, 4)) < 0.5).astype(np.uint8), "bits")])
    with pytest.raises(BnnMramError, match="hidden layer of 32768 inputs"):
        Campaign(wide, np.zeros((16, 8), np.uint8), np.zeros(16, np.int64))


@pytest.mark.parametrize("fixture", ["small_net", "binarized_net"])
def test_read_errors_equal_golden_image_by_image(request, fixture, digits):
    """Read errors: every image sees its own faulty reads; the engine must equal the golden
    model run on each image's own weights (models.faults.read_errors, numbered by position)."""
    from bnnmram.models.faults.read_errors import net_read_weights
    _, net, _ = request.getfixturevalue(fixture)
    n = 600
    x = np.concatenate([digits.test_x] * (n // len(digits.test_x) + 1))[:n]
    y = np.concatenate([digits.test_y] * (n // len(digits.test_y) + 1))[:n]
    for layers in (None, [1]):
        camp = Campaign(net, x, y, layers=layers, read_errors=True)
        for seed, ber in [(1, 0.01), (2, 0.1)]:
            cfg = FaultConfig(seed=seed, ber=ber)
            pred = camp.predict(cfg).numpy()
            assert np.array_equal(pred, camp.predict(cfg).numpy())  # reproducible
            if ber == 0.1:
                assert (pred != camp.clean_pred.numpy()).any()
            want = golden.run(net, x, weights=net_read_weights(net, seed, ber, range(n), layers)).pred
            assert np.array_equal(pred, want), (layers, ber)
        assert np.array_equal(camp.predict(FaultConfig(seed=3, ber=0.0)).numpy(), golden.run(net, x).pred)


def test_read_flips_statistics_and_independence():
    """Each read errs at the quantised rate, independently per image; a higher rate errs on a
    superset; write errors of the same seed are another stream."""
    from scipy import stats
    from bnnmram.models.faults.model import layer_hash
    from bnnmram.models.faults.read_errors import read_flips
    shape = (64, 100)
    for ber in (1e-3, 0.05, 0.5):
        flips = np.stack([read_flips(shape, 1, 7, ber, n) for n in range(200)])
        assert stats.binomtest(int(flips.sum()), flips.size, FaultConfig(ber=ber).realised_rates[0]).pvalue > 1e-4
        assert not np.array_equal(flips[0], flips[1])
        assert (read_flips(shape, 1, 7, ber, 3) <= read_flips(shape, 1, 7, min(1.0, 2 * ber), 3)).all()
    assert np.array_equal(read_flips(shape, 1, 7, 0.3, 5), read_flips(shape, 1, 7, 0.3, 5 + 2**24))
    writes = layer_hash(shape, 1, 7) < np.uint32(0.3 * 2**32)
    assert not np.array_equal(read_flips(shape, 1, 7, 0.3, 0), writes)
    assert read_flips(shape, 1, 7, 1.0, 9).all() and not read_flips(shape, 1, 7, 0.0, 9).any()


def test_read_errors_reject_unsupported_options(small_net, digits):
    _, net, _ = small_net
    with pytest.raises(BnnMramError, match="read errors"):
        Campaign(net, digits.test_x, digits.test_y, thresholds=True, read_errors=True)
    camp = Campaign(net, digits.test_x, digits.test_y, read_errors=True)
    with pytest.raises(BnnMramError, match="read errors"):
        camp.predict(FaultConfig(mode="switch", rate_01=0.1))
