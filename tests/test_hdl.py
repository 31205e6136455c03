"""Amaranth-simulator tests of each component against the Python models (seconds)."""
import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from bnnmram.hdl.accelerator import Accelerator
from bnnmram.hdl.fault_hash import fault_hash as hdl_hash
from bnnmram.hdl.folding import check_fold, pack_words, unpack_words
from bnnmram.hdl.net_folding import fold_net
from bnnmram.hdl.mram import MramMacro, MramParams
from bnnmram.hdl.mvtu import MVTU
from bnnmram.hdl.pixel_buffer import PixelBuffer
from bnnmram.models.net import golden
from bnnmram.models.faults.model import FaultConfig, fault_hash, faulty_net, stored_bits
from sim_helpers import get, program, put, run_to_end
from sim_helpers import program_and_dump as _program_and_dump


def test_hash_logic_equals_python_model():
    m = Module()
    seed, layer, neuron, index, write = Signal(32), Signal(8), Signal(16), Signal(16), Signal(24)
    out = Signal(32)
    m.d.comb += out.eq(hdl_hash(m, "h", seed, layer, neuron, index, write))
    rng = np.random.default_rng(0)
    cases = [(0, 0, 0, 0, 0), (2**32 - 1, 255, 65535, 65535, 2**24 - 1)] + \
        [tuple(int(v) for v in rng.integers(0, [2**32, 256, 65536, 65536, 300])) for _ in range(30)]
    got = []

    async def tb(ctx):
        for c in cases:
            for sig, v in zip((seed, layer, neuron, index, write), c):
                ctx.set(sig, v)
            await ctx.delay(1e-9)
            got.append(ctx.get(out))
    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    assert got == [int(fault_hash(*c)) for c in cases]


@pytest.mark.parametrize("cfg,init,lanes,stages,shared", [
    (FaultConfig(seed=3, ber=0.05), 0, None, 0, False),   # auto: 6 lanes, one chunk per row
    (FaultConfig(seed=9, ber=0.3), 1, 3, 0, False),
    (FaultConfig(seed=4, mode="switch", rate_01=0.4, rate_10=0.1, init_state=1), 1, 2, 0, True),
    (FaultConfig(seed=9, ber=0.3), 1, 3, 4, False),       # the hash pipelined over 4 cycles
    (FaultConfig(seed=4, mode="switch", rate_01=0.4, rate_10=0.1, init_state=1), 1, 2, 8, False),
    (FaultConfig(seed=5, ber=0.2), 0, None, 3, True),     # one chunk per row, 3 uneven stages
])
def test_mram_macro_write_errors_match_python_model(cfg, init, lanes, stages, shared):
    """shared: read-back through the write path's port (gen --mram-shared-readback)."""
    f = check_fold(2, 24, 6, pe=3, simd=6)
    w = np.random.default_rng(1).integers(0, 2, (6, 24), dtype=np.uint8)
    macro = MramMacro(layer=2, pe=3, simd=6, sf=f.sf, depth=f.words, init_state=init,
                      hash_lanes=lanes, write_cycles=2, hash_stages=stages, shared_readback=shared)
    assert macro.pulse_cycles == max(2, 18 // macro.lanes + stages)
    got = unpack_words(_program_and_dump(macro, pack_words(w, f), cfg), f)
    want = stored_bits(w, 2, cfg, old=np.full_like(w, init))
    assert np.array_equal(got, want)
    assert (got != w).any()


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("stages", [-1, 9])
def test_hash_stages_outside_0_to_8_are_refused(stages):
    from bnnmram.models.errors import BnnMramError
    import gc
    with pytest.raises(BnnMramError, match=f"fault-hash pipeline stages must be 0..8.*not {stages}"):
        MramMacro(layer=2, pe=3, simd=6, sf=4, depth=4, hash_stages=stages)
    gc.collect()   # the half-built macro's UnusedElaboratable warning, here under this test's filter


@pytest.mark.parametrize("n", [1, 2, 5, 10, 16])
def test_first_argmax_tree_picks_the_first_maximum(n):
    """The output layer's class: the comparator tree gives torch.argmax's first maximum, ties
    included (few distinct values make ties common)."""
    from amaranth.hdl import signed
    from bnnmram.hdl.mvtu import first_argmax
    m = Module()
    values = [Signal(signed(6), name=f"v{j}") for j in range(n)]
    cls = Signal(5)
    m.d.comb += cls.eq(first_argmax(values, 5))
    rng = np.random.default_rng(n)
    cases = [rng.integers(-3, 3, n) for _ in range(60)] + [np.full(n, -32), np.arange(n) % 4]
    got = []

    async def tb(ctx):
        for c in cases:
            for sig, v in zip(values, c):
                ctx.set(sig, int(v))
            await ctx.delay(1e-9)
            got.append(ctx.get(cls))
    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    assert got == [int(np.argmax(c)) for c in cases]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10])
def test_first_argmax_tree_with_a_register_inside(n):
    """--datapath-stage: the tree registered halfway (scores in an array of signed elements, as
    the output layer holds them) gives the same first maximum one cycle later."""
    from amaranth.hdl import signed
    from amaranth.lib import data
    from amaranth.utils import ceil_log2
    from bnnmram.hdl.mvtu import first_argmax
    m = Module()
    scores = Signal(data.ArrayLayout(signed(6), n))
    cls = Signal(5)
    m.d.comb += cls.eq(first_argmax([scores[j] for j in range(n)], 5, m, ceil_log2(n) // 2))
    rng = np.random.default_rng(n)
    cases = [rng.integers(-20, 20, n) for _ in range(40)] + [np.full(n, -32), -(np.arange(n) % 4)]
    got = []

    async def tb(ctx):
        for c in cases:
            for j, v in enumerate(c):
                ctx.set(scores[j], int(v))
            await ctx.tick()
            got.append(ctx.get(cls))
    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    assert got == [int(np.argmax(c)) for c in cases]


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("lanes", [4, 5, 7, 12])
def test_mram_hash_lanes_that_do_not_divide_simd_are_refused(lanes):
    from bnnmram.models.errors import BnnMramError
    with pytest.raises(BnnMramError, match=f"hash lanes {lanes} cannot be built in layer 2.*1, 2, 3, 6"):
        MramMacro(layer=2, pe=3, simd=6, sf=4, depth=4, hash_lanes=lanes)


@pytest.mark.parametrize("rounds,shared", [(2, True), (257, False)])  # 257: the count must not wrap at 8 bits
def test_mram_rewrite_uses_write_count(rounds, shared):
    """Programming a word again draws fresh errors: write k of the model, not write 0; the
    dump port's write counter reads `rounds` for every word."""
    f = check_fold(0, 16, 4, pe=2, simd=8)
    w = np.zeros((4, 16), np.uint8)
    cfg = FaultConfig(seed=1, ber=0.3)
    macro = MramMacro(layer=0, pe=2, simd=8, sf=f.sf, depth=f.words, shared_readback=shared)
    writes = []
    got = unpack_words(_program_and_dump(macro, pack_words(w, f), cfg, rounds=rounds, writes=writes), f)
    assert writes == [rounds] * f.words
    assert np.array_equal(got, stored_bits(w, 0, cfg, write=rounds - 1))
    assert not np.array_equal(got, stored_bits(w, 0, cfg, write=0))


def test_pixel_buffer_ping_pong_keeps_images_apart():
    buf = PixelBuffer(width=8, words=3)
    images = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    seen = []

    async def producer(ctx):
        for img in images:
            for v in img:
                await put(ctx, buf.inp, v)

    async def consumer(ctx):
        for _ in images:
            await ctx.tick().until(buf.avail)
            words = []
            for rep in range(2):           # the layer re-reads the image per neuron fold
                for a in range(3):
                    ctx.set(buf.rd_addr, a)
                    await ctx.tick()
                    words.append(ctx.get(buf.rd_data))
            ctx.set(buf.release, 1)
            await ctx.tick()
            ctx.set(buf.release, 0)
            seen.append(words)
    run_to_end(buf, consumer, producer)
    assert seen == [img * 2 for img in images]


def _run_accelerator(net, folds, images, cfg, *, stall_seed=None, mram=MramParams()):
    top = Accelerator(net, folds, mram)
    rng = np.random.default_rng(stall_seed or 0)
    results, cycles = [], []

    async def driver(ctx):
        await program(ctx, top, net, folds, cfg)
        await ctx.tick().repeat(20)
        for img in images:
            for row in img.reshape(folds[0].sf, folds[0].simd):
                if stall_seed is not None and rng.random() < 0.3:
                    await ctx.tick().repeat(int(rng.integers(1, 8)))
                await put(ctx, top.inp, int.from_bytes(row.astype(np.uint8).tobytes(), "little"))

    async def monitor(ctx):
        cycle = 0
        for _ in images:
            while True:
                if stall_seed is not None and rng.random() < 0.5:
                    ctx.set(top.out.ready, 0)
                    await ctx.tick().repeat(int(rng.integers(1, 12)))
                ctx.set(top.out.ready, 1)
                *_, valid, payload = await ctx.tick().sample(top.out.valid, top.out.payload)
                cycle += 1
                if valid:
                    break
            ctx.set(top.out.ready, 0)
            results.append((payload.cls, [int(s) for s in payload.scores]))
            cycles.append(cycle)
    run_to_end(top, monitor, driver)
    return results, cycles


@pytest.mark.parametrize("fixture", ["small_net", "binarized_net"])
def test_accelerator_bit_exact_with_errors_and_stalls(request, fixture, digits):
    _, net, _ = request.getfixturevalue(fixture)
    folds = fold_net(net)
    images = digits.test_x[:6]
    cfg = FaultConfig(seed=11, ber=0.03)
    g = golden.run(faulty_net(net, cfg), images)
    results, _ = _run_accelerator(net, folds, images, cfg, stall_seed=5)
    assert [r[0] for r in results] == list(g.pred)
    assert [r[1] for r in results] == [list(s) for s in g.scores]


@pytest.mark.parametrize("fixture", ["small_net", "binarized_net"])
def test_datapath_stage_bit_exact_with_errors_and_stalls(request, fixture, digits):
    """gen --datapath-stage: signed +-pixel and popcount partial sums through their register,
    the class and scores through theirs; results as the golden model's, under stalls."""
    _, net, _ = request.getfixturevalue(fixture)
    folds = fold_net(net)
    images = digits.test_x[:6]
    cfg = FaultConfig(seed=11, ber=0.03)
    g = golden.run(faulty_net(net, cfg), images)
    results, _ = _run_accelerator(net, folds, images, cfg, stall_seed=5, mram=MramParams(datapath_stage=1))
    assert [r[0] for r in results] == list(g.pred)
    assert [r[1] for r in results] == [list(s) for s in g.scores]


def test_layers_overlap_images_steady_state_meets_analytic(small_net, digits):
    _, net, _ = small_net
    folds = fold_net(net, overrides={0: (4, 16), 1: (4, 16), 2: (2, 8)})
    images = digits.test_x[:8]
    g = golden.run(net, images)
    results, cycles = _run_accelerator(net, folds, images, FaultConfig(), mram=MramParams(read_latency=2))
    assert [r[1] for r in results] == [list(s) for s in g.scores]
    per_image = np.diff(cycles[2:])
    slowest = max(f.cycles for f in folds)
    assert slowest < sum(f.cycles for f in folds)          # the test means something
    assert np.all(per_image == slowest), (per_image, [f.cycles for f in folds])


@pytest.mark.parametrize("pe,simd", [(1, 24), (3, 8), (6, 4)])
def test_mvtu_xnor_popcount_threshold_unit(pe, simd):
    """One hidden layer alone: random weights, thresholds at and beyond the edges, both
    comparison directions, random input vectors; output bits vs the golden model."""
    from bnnmram.models.net.netfile import Layer
    rng = np.random.default_rng(pe * 100 + simd)
    n_in, n_out = 24, 6
    w = rng.integers(0, 2, (n_out, n_in), dtype=np.uint8)
    t = np.array([-n_in - 1, n_in + 1, 0, 3, -5, 2], np.int64)
    flip = np.array([False, True, True, False, True, False])
    hidden = Layer(w, "bits", t, flip)
    fold = check_fold(1, n_in, n_out, pe, simd)
    unit = MVTU(hidden, 1, fold)
    vectors = rng.integers(0, 2, (12, n_in), dtype=np.uint8)
    got = []

    async def driver(ctx):
        for a, word in enumerate(pack_words(w, fold)):
            await put(ctx, unit.prog, {"addr": a, "data": word})
        await ctx.tick().repeat(unit.mram.pulse_cycles + 3)
        for v in vectors:
            await put(ctx, unit.inp, int("".join(map(str, v[::-1])), 2))

    async def monitor(ctx):
        for _ in vectors:
            got.append(await get(ctx, unit.out))
    run_to_end(unit, monitor, driver)
    dot = (2 * vectors.astype(int) - 1) @ (2 * w.astype(int) - 1).T
    want = np.where(flip, dot <= t, dot >= t).astype(int)
    assert [[(g >> j) & 1 for j in range(n_out)] for g in got] == want.tolist()
    assert want[:, 0].all() and want[:, 1].all()  # the always-on thresholds (both directions)


def test_programming_port_flags_bad_words_busy_and_reset(small_net):
    """A prog word for a layer or address that does not exist is consumed, stored nowhere and
    sets the sticky prog_error; prog_busy covers every write; rst clears prog_error but keeps
    the weights."""
    from amaranth.hdl import ClockDomain
    from amaranth.sim import Simulator
    _, net, _ = small_net
    folds = fold_net(net, overrides={2: (2, 8)})   # layer 2: 20 words under a 5-bit address
    top = Accelerator(net, folds)
    m = Module()
    m.domains.sync = cd = ClockDomain()
    m.submodules.top = top
    words = [pack_words(l.weights, f) for l, f in zip(net.layers, folds)]
    short = next(i for i, f in enumerate(folds) if f.words < 2 ** top.addr_bits)
    seen = {}

    async def tb(ctx):
        async def dump(layer):
            got = []
            for a in range(folds[layer].words):
                ctx.set(top.dump_layer, layer)
                ctx.set(top.dump_addr, a)
                await ctx.tick()
                got.append(ctx.get(top.dump_data) & ((1 << folds[layer].word_bits) - 1))
            return got

        busy_cycles = 0
        for i, ws in enumerate(words):
            for a, w in enumerate(ws):
                await put(ctx, top.prog, {"layer": i, "addr": a, "data": w})
        seen["error_after_good"] = ctx.get(top.prog_error)
        seen["busy_after_last_word"] = ctx.get(top.prog_busy)   # its write is in progress
        while ctx.get(top.prog_busy):
            busy_cycles += 1
            await ctx.tick()
        seen["busy_cycles"] = busy_cycles
        await put(ctx, top.prog, {"layer": len(words), "addr": 0, "data": 0})       # no such layer
        await put(ctx, top.prog, {"layer": short, "addr": folds[short].words, "data": 0})  # no such word
        for _ in range(20):
            seen["busy_after_bad"] = seen.get("busy_after_bad", 0) | ctx.get(top.prog_busy)
            await ctx.tick()
        seen["error_after_bad"] = ctx.get(top.prog_error)
        seen["before_reset"] = [await dump(i) for i in range(len(words))]
        ctx.set(cd.rst, 1)
        await ctx.tick()
        ctx.set(cd.rst, 0)
        await ctx.tick()
        seen["error_after_reset"] = ctx.get(top.prog_error)
        seen["after_reset"] = [await dump(i) for i in range(len(words))]
        # busy while a write is in progress
        ctx.set(top.prog.payload, {"layer": 0, "addr": 0, "data": words[0][0]})
        ctx.set(top.prog.valid, 1)
        await ctx.tick()
        ctx.set(top.prog.valid, 0)
        seen["busy_during_write"] = ctx.get(top.prog_busy)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert seen["error_after_good"] == 0
    assert seen["busy_after_last_word"] == 1
    assert 1 <= seen["busy_cycles"] <= max(u.mram.pulse_cycles for u in top.units) + 1
    assert seen["error_after_bad"] == 1 and seen["busy_after_bad"] == 0
    assert seen["before_reset"] == words          # the bad words stored nothing
    assert seen["error_after_reset"] == 0
    assert seen["after_reset"] == words           # weights survive rst
    assert seen["busy_during_write"] == 1
