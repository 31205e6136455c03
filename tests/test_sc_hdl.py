"""The sc input in hardware (Amaranth simulator): the encoder against models.net.stochastic,
whole sc accelerators bit-exact with write errors and stalls, cycles per image as analysed."""
import numpy as np
import pytest

from bnnmram.hdl.net_folding import fold_net
from bnnmram.hdl.sc_encoder import ScEncoder
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.net import golden, stochastic
from nets import SC_SEED, random_conv_net, random_net
from sim_helpers import put, run_to_end
from test_conv_hdl import _run_conv_accelerator
from test_hdl import _run_accelerator


@pytest.mark.parametrize("elems,lanes,samples", [(4, 1, 1), (4, 1, 16), (3, 3, 64), (6, 2, 4)])
def test_encoder_counts_equal_the_model_under_stalls(elems, lanes, samples):
    pixels = 12
    enc = ScEncoder(elems=elems, lanes=lanes, pixels=pixels, samples=samples, seed=SC_SEED)
    rng = np.random.default_rng(samples)
    images = rng.integers(0, 256, (3, pixels), dtype=np.uint8)
    images[0, :4] = [0, 255, 128, 1]
    words = [int.from_bytes(w.tobytes(), "little") for w in images.reshape(-1, elems)]
    got = []

    async def producer(ctx):
        for w in words:
            if rng.random() < 0.3:
                await ctx.tick().repeat(int(rng.integers(1, 4)))
            await put(ctx, enc.inp, w)

    async def consumer(ctx):
        while len(got) < len(words):
            ready = rng.random() < 0.6
            ctx.set(enc.out.ready, int(ready))
            *_, valid, payload = await ctx.tick().sample(enc.out.valid, enc.out.payload)
            if valid and ready:
                got.append(payload)
    run_to_end(enc, consumer, producer)
    b = stochastic.count_bits(samples)
    counts = [[(w >> (k * b)) & ((1 << b) - 1) for k in range(elems)] for w in got]
    assert np.array_equal(np.array(counts).reshape(images.shape), stochastic.counts(images, SC_SEED, samples))


@pytest.mark.parametrize("samples", [1, 8, 64])
def test_sc_mlp_accelerator_bit_exact_with_errors_and_stalls(samples):
    net = random_net([36, 12, 8, 5], seed=samples, kind="sc", samples=samples)
    folds = fold_net(net, overrides={0: (3, 4)})
    images = np.random.default_rng(3).integers(0, 256, (5, 36), dtype=np.uint8)
    cfg = FaultConfig(seed=4, ber=0.05)
    fnet = faulty_net(net, cfg)
    assert (fnet.layers[0].weights != net.layers[0].weights).any()
    g = golden.run(fnet, images)
    results, _ = _run_accelerator(net, folds, images, cfg, stall_seed=9)
    assert [r[0] for r in results] == list(g.pred)
    assert [r[1] for r in results] == g.scores.tolist()


@pytest.mark.parametrize("overrides", [{0: (3, 4), 1: (2, 2)}, {0: (1, 1)}], ids=["encoder-slowest", "mvtu-slowest"])
def test_sc_mlp_steady_state_equals_analytic_cycles(overrides):
    """One pixel a cycle through the encoder: layer 0 takes max(NF*SF, n_in) cycles."""
    net = random_net([36, 12, 8, 5], seed=1, kind="sc", samples=4)
    folds = fold_net(net, overrides=overrides)
    images = np.random.default_rng(2).integers(0, 256, (7, 36), dtype=np.uint8)
    results, cycles = _run_accelerator(net, folds, images, FaultConfig())
    assert [r[1] for r in results] == golden.run(net, images).scores.tolist()
    assert folds[0].cycles == max(folds[0].nf * folds[0].sf, 36)
    per_image = np.diff(cycles[2:])
    assert np.all(per_image == max(f.cycles for f in folds)), (per_image, [f.cycles for f in folds])


@pytest.mark.parametrize("samples", [2, 16])
def test_sc_conv_accelerator_bit_exact_with_errors_and_stalls(samples):
    net = random_conv_net(3, "sc", samples=samples)
    folds = fold_net(net)
    images = np.random.default_rng(1).integers(0, 256, (4, 8 * 8 * 2), dtype=np.uint8)
    cfg = FaultConfig(seed=5, ber=0.05)
    g = golden.run(faulty_net(net, cfg), images)
    results, cycles = _run_conv_accelerator(net, folds, images, cfg, stall_seed=7)
    assert [r[0] for r in results] == list(g.pred)
    assert [r[1] for r in results] == g.scores.tolist()
    results, cycles = _run_conv_accelerator(net, folds, images, FaultConfig())
    assert np.all(np.diff(cycles[1:]) == max(f.cycles for f in folds))
