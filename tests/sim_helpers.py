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
