"""The cocotb test of an AXI4-Stream top (`gen --bus axis`), run by `bnnmram sim`: cocotbext-axi's
AxiStreamSource programs the MRAM on s_axis_prog (one burst, tlast on its last word) and sends
the images on s_axis (one frame per image, tlast on its last word); AxiStreamSink takes the
results from m_axis; with stalls, their pause generators idle the sources and stall the sink.
Every result is checked bit-for-bit against the golden model, the MRAM read back through the
dump ports, the status bits checked. Config from BNNMRAM_SIM_CONFIG (as test_accel)."""
import json
import random
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from bnnmram.cosim import checks
from bnnmram.cosim.payloads import bits_per_weight, decode_result, input_words, prog_words, weight_folds
from bnnmram.cosim.wrapper import GAP_PER_256, STALL_PER_256

CLOCK_NS = 10
WARMUP_IMAGES = 2


def _bytes(value: int, bits: int) -> bytes:
    return int(value).to_bytes(bits // 8, "little")


def _pauses(rng: random.Random, per256: int, n=4093):
    """A pause pattern like the native bench's: bursts of 1..31 cycles starting at per256/256 a cycle."""
    out = []
    while len(out) < n:
        if rng.randrange(256) < per256:
            out += [True] * rng.randint(1, 31)
        else:
            out.append(False)
    return iter(out * 1000)


async def _read_back(dut, folds, bits: dict):
    """Every stored word and write counter through the 1-cycle dump ports: address set before
    edge k, data read just after it."""
    words, writes = {}, {}
    for i, f in folds.items():
        layer, counts = [], []
        dut.dump_layer.value = i
        for addr in range(f.words):
            dut.dump_addr.value = addr
            await RisingEdge(dut.clk)
            await ReadOnly()
            layer.append(dut.dump_data.value.to_unsigned() & ((1 << (f.word_bits * bits[i])) - 1))
            counts.append(dut.dump_writes.value.to_unsigned())
            await FallingEdge(dut.clk)
        words[i], writes[i] = layer, counts
    return words, writes


@cocotb.test()
async def axis_accelerator_matches_golden(dut):
    cfg, man, vec = checks.load_config()
    log = dut._log
    n_layers = len(man["layers"])
    folds = weight_folds(man)
    bits = bits_per_weight(man)
    t0 = time.time()
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst.value = 1
    for name, value in zip((str(n) for n in vec["fault_names"]), vec["fault"]):
        getattr(dut, man["fault_ports"][name]).value = int(value)
    dut.dump_layer.value = 0
    dut.dump_addr.value = 0
    prog = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_prog"), dut.clk, dut.rst)
    src = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
    rng = random.Random(cfg["seed"])
    gap, stall = cfg.get("gap_per256", GAP_PER_256), cfg.get("stall_per256", STALL_PER_256)
    if cfg["stalls"]:
        prog.set_pause_generator(_pauses(rng, gap))
        src.set_pause_generator(_pauses(rng, gap))
        sink.set_pause_generator(_pauses(rng, stall))
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    # programming: one burst, tlast on its last word; then status.programmed
    status = man["axis"]["status"]
    prog_bits = len(dut.s_axis_prog_tdata)
    c0 = int(get_sim_time("ns")) // CLOCK_NS
    words = prog_words(man, [vec[f"weights{i}"] for i in range(n_layers)])
    await prog.send(AxiStreamFrame(b"".join(_bytes(w, prog_bits) for w in words)))
    await prog.wait()
    for _ in range(100000):
        await RisingEdge(dut.clk)
        await ReadOnly()
        if (dut.status.value.to_unsigned() >> status["programmed"]["bit"]) & 1:
            break
    programmed = (dut.status.value.to_unsigned() >> status["programmed"]["bit"]) & 1
    prog_error = (dut.status.value.to_unsigned() >> status["prog_error"]["bit"]) & 1
    prog_cycles = int(get_sim_time("ns")) // CLOCK_NS - c0
    await FallingEdge(dut.clk)
    if not programmed or prog_error:
        log.error("after the programming burst: status.programmed %d, status.prog_error %d", programmed, prog_error)

    stored, writes = await _read_back(dut, folds, bits)
    readback_mismatches, write_counts, miscounted = checks.read_back(man, vec, folds, stored, writes, log)
    flipped = checks.weights_flipped(vec, n_layers)

    # images: one frame each (tlast on its last word); results from m_axis
    images = vec["images"]
    n = len(images)
    in_bits, out_bits = len(dut.s_axis_tdata), len(dut.m_axis_tdata)
    t_stream, c_stream = time.time(), int(get_sim_time("ns")) // CLOCK_NS
    for img in images:
        await src.send(AxiStreamFrame(b"".join(row.tobytes() for row in input_words(man, img))))
    got, stamps = [], []
    for _ in range(n):
        frame = await sink.recv()
        got.append(decode_result(man, int.from_bytes(bytes(frame.tdata), "little")))
        stamps.append(int(get_sim_time("ns")) // CLOCK_NS)
        if len(frame.tdata) != out_bits // 8:
            log.error("a result frame of %d bytes, not one beat of %d", len(frame.tdata), out_bits // 8)
            got[-1] = (-1, got[-1][1])
    stream_seconds = time.time() - t_stream
    stream_cycles = int(get_sim_time("ns")) // CLOCK_NS - c_stream
    await ReadOnly()
    framing_error = (dut.status.value.to_unsigned() >> status["framing_error"]["bit"]) & 1
    if framing_error:
        log.error("status.framing_error set by images framed with tlast on their last words")

    mismatches = checks.results(vec, got, n_layers, log)
    # steady state from the sink's arrival cycles (the sink's own sampling makes them exact to a cycle)
    steady = stamps[WARMUP_IMAGES:] if n > WARMUP_IMAGES + 1 else stamps
    measured = (steady[-1] - steady[0]) / (len(steady) - 1) if len(steady) > 1 else None
    preds = np.array([g[0] for g in got])
    result = {
        "simulator": cfg["simulator"], "bus": "axis", "images": n, "ber": cfg["ber"], "seed": cfg["seed"],
        "stalls": cfg["stalls"], "gap_per256": gap if cfg["stalls"] else None,
        "stall_per256": stall if cfg["stalls"] else None, "mismatches": len(mismatches),
        "mismatch_details": mismatches[:20], "readback_mismatches": readback_mismatches,
        "weights_flipped": flipped, "write_counts": {str(c): k for c, k in sorted(write_counts.items())},
        "write_count_mismatches": {str(i): a[:50] for i, a in miscounted.items()},
        "accuracy": float((preds == vec["labels"]).mean()),
        "golden_accuracy": float((vec["pred"] == vec["labels"]).mean()),
        "cycles_per_image": measured, "cycles_per_image_analytic": man["cycles_per_image"],
        "first_result_cycle": stamps[0] - c_stream if stamps else None,
        "programming_cycles": prog_cycles, "prog_error": int(prog_error or not programmed),
        "status_programmed": int(programmed), "framing_error": int(framing_error),
        "stream_cycles": stream_cycles, "stream_seconds": round(stream_seconds, 3),
        "images_per_second": round(n / stream_seconds, 2) if stream_seconds else None,
        "cycles_per_second": round(stream_cycles / stream_seconds) if stream_seconds else None,
        "wall_seconds": round(time.time() - t0, 3),
        "tdata_bits": {"s_axis": in_bits, "m_axis": out_bits, "s_axis_prog": prog_bits},
    }
    with open(cfg["result"], "w") as fh:
        json.dump(result, fh, indent=1)
    assert programmed and not prog_error, "programming burst not written cleanly"
    assert not framing_error, "framing_error set"
    assert not readback_mismatches, f"MRAM read-back differs from the fault model: {readback_mismatches[0]}"
    assert not miscounted, f"write counters differ from one write per word: {miscounted}"
    assert not mismatches, f"{len(mismatches)} of {n} images mismatch; first: {mismatches[0]}"
