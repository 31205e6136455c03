"""The write-error model: determinism, statistics, limits, failure-to-switch."""
import numpy as np
import pytest
from scipy.stats import binom

from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import ONE, FaultConfig, fault_hash, rate_threshold, stored_bits


def test_hash_is_a_pure_function_of_coordinates():
    n, k = np.meshgrid(np.arange(40), np.arange(70), indexing="ij")
    a = fault_hash(7, 2, n, k, 0)
    assert np.array_equal(a, fault_hash(7, 2, n, k, 0))
    assert np.array_equal(a[3:5, 10:20], fault_hash(7, 2, n[3:5, 10:20], k[3:5, 10:20], 0))
    for other in (fault_hash(8, 2, n, k, 0), fault_hash(7, 3, n, k, 0), fault_hash(7, 2, n, k, 1)):
        assert (a != other).mean() > 0.99


@pytest.mark.parametrize("ber", [1e-4, 1e-3, 1e-2, 0.3])
def test_flip_count_is_binomial(ber):
    bits = np.random.default_rng(0).integers(0, 2, (512, 1024), dtype=np.uint8)
    flips = int((stored_bits(bits, 1, FaultConfig(seed=3, ber=ber)) != bits).sum())
    p = rate_threshold(ber) / ONE
    lo, hi = binom.interval(1 - 1e-6, bits.size, p)
    assert lo <= flips <= hi, (flips, lo, hi)


def test_ber_zero_and_one():
    bits = np.random.default_rng(1).integers(0, 2, (64, 100), dtype=np.uint8)
    assert np.array_equal(stored_bits(bits, 0, FaultConfig(ber=0.0)), bits)
    assert np.array_equal(stored_bits(bits, 0, FaultConfig(ber=1.0)), 1 - bits)


def test_threshold_quantisation_and_bad_rates():
    assert rate_threshold(0) == 0 and rate_threshold(1) == 2**32
    assert abs(FaultConfig(ber=1e-3).realised_rates[0] - 1e-3) < 2**-32
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(BnnMramError, match="bit error rate"):
            FaultConfig(ber=bad)


def test_switch_mode_only_switching_writes_fail():
    bits = np.random.default_rng(2).integers(0, 2, (128, 256), dtype=np.uint8)
    # rate 1 for 0->1, 0 for 1->0, array starting at 0: every 1 fails, every 0 is kept
    cfg = FaultConfig(mode="switch", rate_01=1.0, rate_10=0.0, init_state=0)
    assert not stored_bits(bits, 0, cfg).any()
    # starting at 1, writing 1 never switches, so never fails; writing 0 (rate 0) is kept
    cfg1 = FaultConfig(mode="switch", rate_01=1.0, rate_10=0.0, init_state=1)
    assert np.array_equal(stored_bits(bits, 0, cfg1), bits)
    # asymmetric rates: only switching bits can flip, at about their own rate
    cfg2 = FaultConfig(seed=5, mode="switch", rate_01=0.2, rate_10=0.05, init_state=0)
    got = stored_bits(bits, 0, cfg2)
    assert not (got != bits)[bits == 0].any()
    assert abs((got != bits)[bits == 1].mean() - 0.2) < 0.02


def test_same_seed_same_flips_different_seed_other_flips():
    bits = np.zeros((256, 256), np.uint8)
    a = stored_bits(bits, 0, FaultConfig(seed=1, ber=0.01))
    assert np.array_equal(a, stored_bits(bits, 0, FaultConfig(seed=1, ber=0.01)))
    assert not np.array_equal(a, stored_bits(bits, 0, FaultConfig(seed=2, ber=0.01)))
    # a higher BER flips a superset of the weights (same hash, larger threshold)
    b = stored_bits(bits, 0, FaultConfig(seed=1, ber=0.05))
    assert (b >= a).all()


def _documented_hash(seed, layer, neuron, index, write):
    """docs/fault-model.md's pseudo-code, in plain Python integers."""
    mask = 0xFFFFFFFF
    v0 = (layer << 24 | (write & 0xFFFFFF)) & mask
    v1 = (neuron << 16 | index) & mask
    for r in range(8):
        v0 = ((((v0 >> 8) | (v0 << 24)) & mask) + v1) & mask ^ ((seed + r * 0x9E3779B9) & mask)
        v1 = (((v1 << 3) | (v1 >> 29)) & mask) ^ v0
    return v0 ^ v1


def test_hash_equals_the_documented_pseudo_code():
    from bnnmram.models.faults import kernels
    rng = np.random.default_rng(5)
    cases = [(0, 0, 0, 0, 0), (2**32 - 1, 255, 65535, 65535, 2**24 - 1), (11, 3, 4, 5, 2**24 + 7)] + \
        [tuple(int(v) for v in rng.integers(0, [2**32, 256, 65536, 65536, 2**25])) for _ in range(200)]
    assert [int(fault_hash(*c)) for c in cases] == [_documented_hash(*c) for c in cases]
    seed, layer, write = cases[-1][0], cases[-1][1], cases[-1][4]
    compiled = np.empty((3, 70), np.uint32)
    kernels.layer_hash(3, 70, layer, seed, write, compiled)
    assert compiled.tolist() == [[_documented_hash(seed, layer, j, i, write) for i in range(70)] for j in range(3)]
