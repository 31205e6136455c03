"""Area-time against FINN's CNV: the same layer shapes (CIFAR-10, 32x32x3: conv64, conv64, pool,
conv128, conv128, pool, conv256, conv256, dense512, dense512, dense10) with random weights,
folded near FINN's CNV-max rate (21,906 images/s at 200 MHz: about 9,130 cycles per image),
generated, synthesized for Xilinx with Yosys (MRAM macros as black boxes), and optionally
co-simulated on Verilator (bit-exact on random images).

    python -m bnnmram.gen.bench.cnv --out build/bench/cnv     (part of: make bench)
"""
import argparse
import json
from pathlib import Path

import numpy as np

from bnnmram.models.net import kinds, netfile
from bnnmram.models.net.netfile import Layer, Net
from ..steps import run_step

CNV = [("conv", 64, 3), ("conv", 64, 3), ("pool", 2), ("conv", 128, 3), ("conv", 128, 3), ("pool", 2),
       ("conv", 256, 3), ("conv", 256, 3), ("dense", 512), ("dense", 512), ("dense", 10)]
INPUT_SHAPE = (32, 32, 3)
# PE, SIMD per weight layer: every layer at or under about 9,130 cycles per image
FOLDING = {0: (8, 27), 1: (64, 64), 3: (32, 48), 4: (32, 64), 6: (8, 48), 7: (2, 48),
           8: (1, 32), 9: (1, 64), 10: (1, 2)}
# FINN (Umuroglu et al., FPGA 2017), CNV-max on the ZC706 (as published; see README)
FINN_CNV = {"images_per_second": 21906, "clock_mhz": 200, "luts": 46253, "bram36": 186}


def random_cnv(seed: int = 0) -> Net:
    """The CNV layer shapes with random weights and thresholds (8-bit pixel input layer)."""
    rng = np.random.default_rng(seed)
    layers, shape = [], INPUT_SHAPE
    for i, spec in enumerate(CNV):
        kind, inputs = kinds.TOKENS[spec[0]], "pixel" if i == 0 else "bits"
        geometry = kind.export_fields(spec, shape)
        if not kind.has_weights:
            layers.append(Layer(np.zeros((0, 0), np.uint8), inputs, **geometry))
            shape = layers[-1].out_shape
            continue
        n_in, n_out = kind.spec_n_in(spec, shape), spec[1]
        w = rng.integers(0, 2, (n_out, n_in), dtype=np.uint8)
        last = i == len(CNV) - 1
        spread = int(np.sqrt(n_in) * (255 if inputs == "pixel" else 1))
        t = None if last else rng.integers(-spread, spread + 1, n_out)
        f = None if last else rng.integers(0, 2, n_out).astype(bool)
        layers.append(Layer(w, inputs, t, f, **geometry))
        shape = layers[-1].out_shape
    return Net(layers, None, {"dataset": "random", "arch": "FINN CNV shapes"})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="build/bench/cnv")
    p.add_argument("--images", type=int, default=3, help="Verilator images (0: skip co-simulation)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net_path = out / "cnv_random.json"
    netfile.save(random_cnv(), net_path)
    rtl = out / "rtl"
    argv = ["gen", "--net", str(net_path), "--out", str(rtl)]
    for i, (pe, simd) in FOLDING.items():
        argv += ["--fold", f"{i}:{pe}:{simd}"]
    run_step(argv)
    man = json.loads((rtl / "manifest.json").read_text())
    run_step(["synth", "--rtl", str(rtl), "--target", "xilinx", "--out", str(out / "synth_xilinx")])
    syn = json.loads((out / "synth_xilinx" / "synth.json").read_text())
    sim = None
    if args.images:
        _cosim(net_path, rtl, out / "sim", args.images)
        sim = json.loads((out / "sim" / "sim.json").read_text())
    finn_cycles = FINN_CNV["clock_mhz"] * 1e6 / FINN_CNV["images_per_second"]
    ours = syn["lut"] * man["cycles_per_image"]
    finn = FINN_CNV["luts"] * finn_cycles
    doc = {"cycles_per_image": man["cycles_per_image"], "synth": syn, "finn_cnv": FINN_CNV,
           "finn_cycles_per_image": round(finn_cycles), "lut_cycles": ours, "finn_lut_cycles": round(finn),
           "ratio_ours_over_finn": round(ours / finn, 3), "sim": sim,
           "layers": [{k: l.get(k) for k in ("index", "kind", "pe", "simd", "cycles")} for l in man["layers"]]}
    (out / "bench_cnv.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"""
| | cycles/image | LUTs | flip-flops | BRAM36 | LUT x cycles/image |
|---|---|---|---|---|---|
| bnnmram (Yosys synth_xilinx, MRAM black-boxed) | {man['cycles_per_image']} | {syn['lut']} | {syn['flip_flops']} | {syn['bram']} (+{syn['lutram']} LUTRAM) | {ours / 1e6:.1f} M |
| FINN CNV-max (paper, Vivado, weights in BRAM/LUTRAM) | {finn_cycles:.0f} | {FINN_CNV['luts']} | | {FINN_CNV['bram36']} | {finn / 1e6:.1f} M |

ours / FINN = {ours / finn:.2f}""" + (f"; co-simulation: {sim['images']} images, {sim['mismatches']} mismatches, "
                                    f"{sim['cycles_per_image']} cycles/image measured" if sim else ""))


def _cosim(net_path, rtl, out, images):
    """Verilator on random 32x32x3 images against the golden model (no data set needed)."""
    from bnnmram.cosim import runner, vectors
    from bnnmram.models.faults.model import FaultConfig
    net = netfile.load(net_path)
    x = np.random.default_rng(1).integers(0, 256, (images, int(np.prod(INPUT_SHAPE))), dtype=np.uint8)
    out.mkdir(parents=True, exist_ok=True)
    vec = vectors.write(out / "vectors.npz", net, x, np.zeros(images, np.int64), FaultConfig(seed=1, ber=1e-3))
    cfg = {"simulator": "verilator", "manifest": str((rtl / "manifest.json").resolve()), "vectors": str(vec.resolve()),
           "result": str((out / "sim.json").resolve()), "ber": 1e-3, "seed": 1, "stalls": False}
    runner.run(rtl, "verilator", cfg, quiet=True)


if __name__ == "__main__":
    main()
