"""Amaranth-simulator tests of the conv hardware: sliding window, bit max-pool, flatten, and
whole conv accelerators against the golden model (errors, stalls, analytic cycles)."""
import numpy as np
import pytest
import torch

from bnnmram.hdl.accelerator import Accelerator
from bnnmram.hdl.flatten import Flatten
from bnnmram.hdl.folding import PoolFold
from bnnmram.hdl.net_folding import fold_net
from bnnmram.hdl.maxpool import MaxPool
from bnnmram.hdl.mram import MramParams
from bnnmram.hdl.sliding_window import SlidingWindow
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import FaultConfig, faulty_net
from bnnmram.models.net import golden
from bnnmram.models.net.conv import maxpool_bits, patch_index
from nets import random_conv_net, random_spec_net
from sim_helpers import program, run_to_end


def _stream(unit, items, n_out, rng, stalls):
    """Drive `items` (ints) into unit.inp and collect n_out payloads from unit.out, with random
    input gaps and output backpressure if stalls."""
    got = []

    async def producer(ctx):
        for v in items:
            if stalls and rng.random() < 0.3:
                await ctx.tick().repeat(int(rng.integers(1, 5)))
            ctx.set(unit.inp.valid, 1)
            ctx.set(unit.inp.payload, int(v))
            await ctx.tick().until(unit.inp.ready)
            ctx.set(unit.inp.valid, 0)

    async def consumer(ctx):
        while len(got) < n_out:
            ready = not stalls or rng.random() < 0.6
            ctx.set(unit.out.ready, int(ready))
            *_, valid, payload = await ctx.tick().sample(unit.out.valid, unit.out.payload)
            if valid and ready:
                got.append(int(payload))
    run_to_end(unit, consumer, producer)
    return got


def _pack(values, bits):
    """Ints of little-endian `bits`-wide fields: rows of `values` -> one int per row."""
    return [sum(int(v) << (bits * j) for j, v in enumerate(row)) for row in values]


@pytest.mark.parametrize("h,w,c,k,elem", [(5, 6, 2, 3, 8), (4, 4, 3, 2, 1), (3, 5, 1, 1, 8), (6, 4, 2, 4, 1)])
@pytest.mark.parametrize("stalls", [False, True])
def test_sliding_window_emits_golden_patches(h, w, c, k, elem, stalls):
    rng = np.random.default_rng(h * 100 + w * 10 + k)
    images = rng.integers(0, 1 << elem, (3, h * w * c))
    unit = SlidingWindow(height=h, width=w, channels=c, kernel=k, elem_bits=elem)
    pixels = [p for img in images for p in _pack(img.reshape(h * w, c), elem)]
    idx = patch_index((h, w, c), k)                       # [OH*OW, K*K*C] flat input indices
    want = [p for img in images for p in _pack(img[idx], elem)]
    assert _stream(unit, pixels, len(want), rng, stalls) == want


@pytest.mark.parametrize("h,w,c,p", [(4, 6, 3, 2), (6, 6, 2, 3), (2, 2, 5, 2)])
@pytest.mark.parametrize("stalls", [False, True])
def test_maxpool_is_the_or_of_each_window(h, w, c, p, stalls):
    rng = np.random.default_rng(h + w + p)
    images = rng.integers(0, 2, (3, h * w * c), dtype=np.uint8)
    unit = MaxPool(height=h, width=w, channels=c, pool=p)
    pixels = [v for img in images for v in _pack(img.reshape(h * w, c), 1)]
    pooled = maxpool_bits(torch.from_numpy(images), (h, w, c), p).numpy()
    want = [v for img in pooled for v in _pack(img.reshape(-1, c), 1)]
    assert _stream(unit, pixels, len(want), rng, stalls) == want


@pytest.mark.parametrize("n,c", [(6, 3), (2, 4), (1, 5)])
def test_flatten_keeps_channel_last_order(n, c):
    rng = np.random.default_rng(n * c)
    images = rng.integers(0, 2, (4, n * c), dtype=np.uint8)
    unit = Flatten(pixels=n, channels=c)
    pixels = [v for img in images for v in _pack(img.reshape(n, c), 1)]
    assert _stream(unit, pixels, 4, rng, True) == _pack(images, 1)


def _run_conv_accelerator(net, folds, images, cfg, *, stall_seed=None, mram=MramParams()):
    top = Accelerator(net, folds, mram)
    rng = np.random.default_rng(stall_seed or 0)
    c = net.layers[0].in_shape[2]
    results, cycles = [], []

    async def driver(ctx):
        await program(ctx, top, net, folds, cfg)
        await ctx.tick().repeat(20)
        for img in images:
            for px in _pack(img.reshape(-1, c), 8):
                if stall_seed is not None and rng.random() < 0.3:
                    ctx.set(top.inp.valid, 0)
                    await ctx.tick().repeat(int(rng.integers(1, 8)))
                ctx.set(top.inp.payload, px)
                ctx.set(top.inp.valid, 1)
                await ctx.tick().until(top.inp.ready)
        ctx.set(top.inp.valid, 0)

    async def monitor(ctx):
        cycle = 0
        while len(results) < len(images):
            ready = stall_seed is None or rng.random() < 0.6
            ctx.set(top.out.ready, int(ready))
            *_, valid, payload = await ctx.tick().sample(top.out.valid, top.out.payload)
            cycle += 1
            if valid and ready:
                results.append((payload.cls, [int(s) for s in payload.scores]))
                cycles.append(cycle)
    run_to_end(top, monitor, driver)
    return results, cycles


@pytest.mark.parametrize("kind", ["pixel", "binarized"])
def test_conv_accelerator_bit_exact_with_errors_and_stalls(kind):
    net = random_conv_net(3, kind)
    folds = fold_net(net)
    images = np.random.default_rng(1).integers(0, 256, (5, 8 * 8 * 2), dtype=np.uint8)
    cfg = FaultConfig(seed=5, ber=0.05)
    g = golden.run(faulty_net(net, cfg), images)
    assert (faulty_net(net, cfg).layers[0].weights != net.layers[0].weights).any()  # errors landed
    results, _ = _run_conv_accelerator(net, folds, images, cfg, stall_seed=7)
    assert [r[0] for r in results] == list(g.pred)
    assert [r[1] for r in results] == g.scores.tolist()


@pytest.mark.parametrize("overrides", [{}, {2: (1, 1)}, {2: (1, 2)}, {0: (4, 18), 2: (3, 4), 3: (1, 4)}],
                         ids=["default", "conv2-slowest", "conv2-close", "conv0-fast"])
def test_conv_steady_state_equals_analytic_cycles(overrides):
    """Measured cycles between results equal the analytic figure exactly, whichever layer is
    the slowest (including the sliding window's idle cycles)."""
    net = random_conv_net(4)
    folds = fold_net(net, overrides=overrides)
    images = np.random.default_rng(2).integers(0, 256, (6, 8 * 8 * 2), dtype=np.uint8)
    results, cycles = _run_conv_accelerator(net, folds, images, FaultConfig())
    assert [r[1] for r in results] == golden.run(net, images).scores.tolist()
    per_image = np.diff(cycles[2:])
    assert np.all(per_image == max(f.cycles for f in folds)), (per_image, [f.cycles for f in folds])


@pytest.mark.parametrize("overrides", [{}, {0: (4, 18), 2: (3, 4), 3: (1, 4)}], ids=["default", "conv0-fast"])
def test_conv_datapath_stage_keeps_results_and_rate(overrides):
    """gen --datapath-stage (partial sums and the class registered): the same scores with
    errors, and the analytic rate, also where a conv layer takes a patch every cycle."""
    net = random_conv_net(4)
    folds = fold_net(net, overrides=overrides)
    images = np.random.default_rng(3).integers(0, 256, (6, 8 * 8 * 2), dtype=np.uint8)
    cfg = FaultConfig(seed=2, ber=0.05)
    results, cycles = _run_conv_accelerator(net, folds, images, cfg, mram=MramParams(datapath_stage=1))
    assert [r[1] for r in results] == golden.run(faulty_net(net, cfg), images).scores.tolist()
    per_image = np.diff(cycles[2:])
    assert np.all(per_image == max(f.cycles for f in folds)), (per_image, [f.cycles for f in folds])


def test_conv_folding_per_layer():
    net = random_conv_net(1)
    folds = fold_net(net)
    assert isinstance(folds[1], PoolFold) and folds[1].cycles == 6 * 6
    f0 = folds[0]
    assert (f0.positions, f0.in_pixels, f0.kernel, f0.in_width, f0.out_rows) == (36, 64, 3, 8, 6)
    assert f0.cycles == max(36 * f0.nf * f0.sf + f0.window_idle, 64)
    with pytest.raises(BnnMramError, match="layer 1, a max-pool layer"):
        fold_net(net, overrides={1: (1, 1)})
    with pytest.raises(BnnMramError, match=r"layer 0 \(18 patch bits, 4 output channels\): SIMD=4 does not divide"):
        fold_net(net, overrides={0: (1, 4)})


EDGE_SHAPES = [
    ("conv3k1-conv2k3-pool2-dense4", (6, 6, 2), "pixel"),     # 1x1 conv: no line buffer
    ("conv2k4-dense3", (4, 6, 1), "binarized"),                # kernel = height: one output row
    ("conv3k2-pool3-dense4-dense3", (7, 7, 1), "pixel"),       # pool to one pixel: flatten of 1
    ("conv2k3-conv3k2-dense3", (5, 5, 3), "binarized"),        # conv to flatten, no pool
]


@pytest.mark.parametrize("spec,shape,kind", EDGE_SHAPES, ids=[e[0] for e in EDGE_SHAPES])
def test_conv_edge_shapes_bit_exact_and_lint_clean(spec, shape, kind, tmp_path):
    """Unusual shapes stay bit-exact with errors and stalls, and their Verilog lints clean."""
    from bnnmram.cosim.lint import lint
    from bnnmram.hdl.generate import generate
    net = random_spec_net(spec, shape, seed=len(spec), kind=kind)
    folds = fold_net(net)
    images = np.random.default_rng(3).integers(0, 256, (4, int(np.prod(shape))), dtype=np.uint8)
    cfg = FaultConfig(seed=2, ber=0.05)
    g = golden.run(faulty_net(net, cfg), images)
    results, _ = _run_conv_accelerator(net, folds, images, cfg, stall_seed=4)
    assert [r[1] for r in results] == g.scores.tolist()
    files, _ = generate(net, folds)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert lint(tmp_path) == []
