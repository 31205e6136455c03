"""Amaranth-simulator drivers shared by the component tests (the idiom of Amaranth's docs)."""
from amaranth.sim import Simulator

PERIOD_S = 1e-8


def run_to_end(dut, testbench, *processes):
    sim = Simulator(dut)
    sim.add_clock(PERIOD_S)
    sim.add_testbench(testbench)
    for p in processes:
        sim.add_testbench(p, background=True)
    sim.run()


async def put(ctx, stream, payload):
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def get(ctx, stream):
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload


async def program(ctx, top, net, folds, cfg):
    """Fault configuration, then every weight word of every weight layer through `prog`."""
    from bnnmram.hdl.folding import pack_words
    ctx.set(top.fault.seed, cfg.seed)
    ctx.set(top.fault.t01, cfg.t01)
    ctx.set(top.fault.t10, cfg.t10)
    for i, (l, f) in enumerate(zip(net.layers, folds)):
        if l.kind != "maxpool":
            for a, w in enumerate(pack_words(l.weights, f)):
                await put(ctx, top.prog, {"layer": i, "addr": a, "data": w})


def program_and_dump(macro, words, cfg, rounds=1, writes=None):
    """Write `words` to a weight macro `rounds` times with cfg's fault ports, then read every
    word back through the dump port (and, into the list `writes` if given, its write counter).
    While programming, dump_addr keeps moving, which must not disturb the writes (a macro with
    a shared read-back port serves it only while idle)."""
    dumped = []

    async def tb(ctx):
        for name, value in cfg.ports().items():
            ctx.set(getattr(macro.fault, name), value)
        for _ in range(rounds):
            for a, w in enumerate(words):
                ctx.set(macro.dump_addr, (5 * a + 3) % len(words))
                await put(ctx, macro.prog, {"addr": a, "data": w})
        await ctx.tick().repeat(macro.pulse_cycles + 3)
        for a in range(len(words)):
            ctx.set(macro.dump_addr, a)
            await ctx.tick()
            dumped.append(ctx.get(macro.dump_data))
            if writes is not None:
                writes.append(ctx.get(macro.dump_writes))
    run_to_end(macro, tb)
    return dumped
