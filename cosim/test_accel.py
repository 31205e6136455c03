"""The cocotb test run by `bnnmram sim` and pytest: program, read back, stream images,
score every output bit-for-bit against the golden model. Config from BNNMRAM_SIM_CONFIG."""
import json
import time

import cocotb
import numpy as np

from bnnmram.cosim import checks
from bnnmram.cosim.testbench import AcceleratorTB
from bnnmram.cosim.wrapper import GAP_PER_256, STALL_PER_256

WARMUP_IMAGES = 2  # steady-state cycles/image are measured after these


@cocotb.test()
async def accelerator_matches_golden(dut):
    cfg, man, vec = checks.load_config()
    n_layers = len(man["layers"])
    tb = AcceleratorTB(dut, man, stalls=cfg["stalls"], seed=cfg["seed"],
                       gap_per256=cfg.get("gap_per256", GAP_PER_256), stall_per256=cfg.get("stall_per256", STALL_PER_256))
    log = dut._log
    t0 = time.time()
    await tb.start(dict(zip((str(n) for n in vec["fault_names"]), vec["fault"])))

    c0 = tb.cycle()
    prog_error = await tb.program([vec[f"weights{i}"] for i in range(n_layers)])
    prog_cycles = tb.cycle() - c0
    if prog_error:
        log.error("prog_error is set after programming only existing words")
    log.info("programmed %d MRAM words in %d cycles", sum(f.words for f in tb.folds.values()), prog_cycles)

    stored, writes = await tb.read_back()
    readback_mismatches, write_counts, miscounted = checks.read_back(man, vec, tb.folds, stored, writes, log)
    flipped = checks.weights_flipped(vec, n_layers)
    log.info("read-back: %d words checked, %d weights flipped by write errors",
             sum(f.words for f in tb.folds.values()), flipped)

    images = vec["images"]
    n = len(images)
    t_stream = time.time()
    c_stream = tb.cycle()
    await tb.stream(images)
    stream_seconds = time.time() - t_stream
    stream_cycles = tb.cycle() - c_stream

    mismatches = checks.results(vec, [(cls, scores) for _, cls, scores in tb.results], n_layers, log)
    cycles = [r[0] for r in tb.results]
    steady = cycles[WARMUP_IMAGES:] if n > WARMUP_IMAGES + 1 else cycles
    measured = (steady[-1] - steady[0]) / (len(steady) - 1) if len(steady) > 1 else None
    preds = np.array([r[1] for r in tb.results])
    samples = int(vec["samples"]) if "samples" in vec.files else 1   # passes per image (Bayesian nets)
    sampled = {}
    if "samples" in vec.files:   # each image was sent T times: one result per pass
        got = np.array([r[2] for r in tb.results], np.int64).reshape(-1, samples, len(tb.results[0][2]))
        want = vec["scores"].reshape(got.shape)
        labels = vec["labels"][::samples]
        sampled = {"samples": samples, "passes": n, "images": n // samples,
                   "predictive_accuracy": float((got.sum(1).argmax(1) == labels).mean()),
                   "golden_predictive_accuracy": float((want.sum(1).argmax(1) == labels).mean()),
                   "cycles_per_pass": measured}
        measured = None if measured is None else measured * samples
    result = {
        "simulator": cfg["simulator"], "images": n, "ber": cfg["ber"], "seed": cfg["seed"],
        "stalls": cfg["stalls"], "gap_per256": tb.rates[0] if cfg["stalls"] else None,
        "stall_per256": tb.rates[1] if cfg["stalls"] else None, "mismatches": len(mismatches), "mismatch_details": mismatches[:20],
        "readback_mismatches": readback_mismatches, "weights_flipped": flipped,
        "write_counts": {str(c): n for c, n in sorted(write_counts.items())},
        "write_count_mismatches": {str(i): a[:50] for i, a in miscounted.items()},
        "accuracy": float((preds == vec["labels"]).mean()),
        "golden_accuracy": float((vec["pred"] == vec["labels"]).mean()),
        "cycles_per_image": measured, "cycles_per_image_analytic": man["cycles_per_image"] * samples,
        "first_result_cycle": cycles[0] - c_stream if cycles else None,
        "programming_cycles": prog_cycles, "prog_error": prog_error, "stream_cycles": stream_cycles,
        "stream_seconds": round(stream_seconds, 3),
        "images_per_second": round(n / stream_seconds, 2) if stream_seconds else None,
        "cycles_per_second": round(stream_cycles / stream_seconds) if stream_seconds else None,
        "wall_seconds": round(time.time() - t0, 3),
    }
    if sampled:   # results are passes: per-image figures count images, not passes
        sampled["passes_per_second"] = result["images_per_second"]
        sampled["images_per_second"] = round(n / samples / stream_seconds, 2) if stream_seconds else None
        result.update(sampled)
    with open(cfg["result"], "w") as fh:
        json.dump(result, fh, indent=1)
    assert not prog_error, "prog_error set by programming existing words only"
    assert not readback_mismatches, f"MRAM read-back differs from the fault model: {readback_mismatches[0]}"
    assert not miscounted, f"write counters differ from one write per word: {miscounted}"
    assert not mismatches, f"{len(mismatches)} of {n} images mismatch; first: {mismatches[0]}"
