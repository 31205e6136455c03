"""SC-BNN against the 8-bit pixel first layer, measured with bnnmram commands (issue: the
seed's 62 % less area, 2.1x less energy at -1.4 points).

    python -m bnnmram.gen.bench.sc --out build/sc [--epochs 20] [--samples 1,2,4,8,16,32] [--area-samples 1,4,16]

Steps (each prints its command; finished steps are reused, so an interrupted run resumes):
1. train the Fashion-MNIST MLP 784-256-256-256-10 with 8-bit pixels, binarized pixels and sc
   inputs for every N of --samples (`bnnmram train`);
2. generate the pixel net's and the sc nets' accelerators at the default folding (the same
   cycles per image), synthesize each (Yosys generic: transistors, hierarchical, so the first
   layer's modules are read off; xilinx: LUTs of the whole design and of the first layer's
   modules synthesized alone), MRAM macros as black boxes;
3. co-simulate each on Verilator (200 test images, BER 1e-3, bit-exact against the golden model,
   cycles per image measured);
4. energy per inference (models/mram/inference.py: logic by switched capacitance plus MRAM
   reads);
5. writes `sc.json` and `sc.md` (the tables for README and docs/figures).
The accuracy-vs-BER sweep of the same nets is a `bnnmram sweep` (docs/figures/README.md).
"""
import argparse
import json
from pathlib import Path

from bnnmram.models.mram.inference import ASSUMPTIONS, inference_energy
from bnnmram.models.net import netfile
from ..steps import run_step
from ..steps.demo import trained_set_ok
from ..yosys import synthesize

ARCH = "784-256-256-256-10"
SEED_PAPER = {"area_saving": 0.62, "energy_ratio": 2.1, "accuracy_cost_points": 1.4}


def step(argv):
    print("bench_sc: bnnmram " + " ".join(argv), flush=True)
    code = run_step(argv)
    if code:
        raise SystemExit(f"bench_sc: step failed ({code}): bnnmram {' '.join(argv)}")


def train(out: Path, name: str, extra: list, epochs: int) -> Path:
    net = out / "nets" / name / "net.json"
    if not trained_set_ok(net):
        step(["train", "--dataset", "fashion-mnist", "--arch", ARCH, "--epochs", str(epochs), "--seed", "0",
              "--out", str(net.parent), "--force"] + extra)
    return net


def first_layer_modules(man: dict) -> list[str]:
    """The Verilog modules of the first layer: its MVTU and, for sc nets, the encoder."""
    top = man["top"]
    return [f"{top}.layer0"] + ([f"{top}.sc_encoder"] if man["input"].get("sc") else [])


def area(out: Path, name: str, net: Path) -> dict:
    """Generic transistors and Xilinx LUTs of the whole accelerator and of its first layer."""
    rtl = out / "rtl" / name
    if not (rtl / "manifest.json").exists():
        step(["gen", "--net", str(net), "--out", str(rtl)])
    man = json.loads((rtl / "manifest.json").read_text())
    res = {"cycles_per_image": man["cycles_per_image"], "weight_bits": man["mram_bits"]}
    for target in ("generic", "xilinx"):
        d = out / "synth" / f"{name}-{target}"
        if not (d / "synth.json").exists():
            step(["synth", "--rtl", str(rtl), "--target", target, "--out", str(d)])
        res[target] = json.loads((d / "synth.json").read_text())
    mods = res["generic"]["modules"]
    res["first_layer_transistors"] = sum(int(str(mods[m]["transistors"]).rstrip("+")) for m in first_layer_modules(man))
    res["first_layer_lut"] = 0
    for m in first_layer_modules(man):
        d = out / "synth" / f"{name}-xilinx-{m.split('.')[-1]}"
        if not (d / "synth.json").exists():
            print(f"bench_sc: Yosys xilinx on module {m} alone", flush=True)
            mram = man["layers"][0]["mram_module"]   # black box inside the first layer's MVTU
            r = synthesize(rtl / man["verilog"], m, d, "xilinx", [mram] if mram.startswith(m + ".") else [])
            (d / "synth.json").write_text(json.dumps(r, indent=1) + "\n")
        res["first_layer_lut"] += json.loads((d / "synth.json").read_text())["lut"]
    sim = out / "sim" / name
    if not (sim / "sim.json").exists():
        step(["sim", "--rtl", str(rtl), "--net", str(net), "--dataset", "fashion-mnist", "--sim", "verilator",
              "--images", "200", "--ber", "1e-3", "--seed", "1", "--out", str(sim)])
    r = json.loads((sim / "sim.json").read_text())
    res["cosim"] = {k: r[k] for k in ("images", "ber", "mismatches", "weights_flipped", "cycles_per_image",
                                      "cycles_per_image_analytic", "passed")}
    e = inference_energy(res["generic"]["transistors"], man["cycles_per_image"], man["mram_bits"])
    e1 = inference_energy(res["first_layer_transistors"], man["cycles_per_image"], 0)
    res["energy_pj"] = {"logic": round(e.logic_pj, 1), "mram_read": round(e.mram_read_pj, 1),
                        "total": round(e.total_pj, 1), "first_layer_logic": round(e1.logic_pj, 1)}
    return res


def markdown(doc) -> str:
    acc = doc["accuracy"]
    lines = ["| first layer input | test accuracy (%) | vs 8-bit pixels (points) |", "|---|---|---|"]
    for name, a in acc.items():
        lines.append(f"| {name} | {100 * a:.2f} | {100 * (a - acc['pixel']):+.2f} |")
    lines += ["", "| design | cycles/image | transistors (generic) | of which first layer | Xilinx LUTs | "
              "first layer LUTs | logic pJ/inference | + MRAM reads = total pJ |", "|---|---|---|---|---|---|---|---|"]
    for name, a in doc["area"].items():
        lines.append(f"| {name} | {a['cycles_per_image']} | {a['generic']['transistors']:,} | {a['first_layer_transistors']:,} | "
                     f"{a['xilinx']['lut']:,} | {a['first_layer_lut']:,} | {a['energy_pj']['logic']:,.0f} | "
                     f"{a['energy_pj']['total']:,.0f} |")
    lines += ["", "| design | Verilator images | BER | mismatches | weights flipped | cycles/image measured (analytic) |",
              "|---|---|---|---|---|---|"]
    for name, a in doc["area"].items():
        c = a["cosim"]
        lines.append(f"| {name} | {c['images']} | {c['ber']:g} | {c['mismatches']} | {c['weights_flipped']} | "
                     f"{c['cycles_per_image']} ({c['cycles_per_image_analytic']}) |")
    lines += ["", "| | seed (SC-BNN, ASIC) | measured here |", "|---|---|---|"]
    for name, c in doc["comparison"].items():
        lines.append(f"| {name} | area -{100 * SEED_PAPER['area_saving']:.0f} %, energy "
                     f"{SEED_PAPER['energy_ratio']}x less, -{SEED_PAPER['accuracy_cost_points']} points | "
                     f"area {100 * c['area_change']:+.1f} % (first layer {100 * c['first_layer_area_change']:+.1f} %, "
                     f"Xilinx LUTs {100 * c['lut_change']:+.1f} %), energy {c['energy_ratio']:.2f}x less "
                     f"(logic alone {c['logic_energy_ratio']:.2f}x), {c['accuracy_points']:+.2f} points |")
    lines += ["", "Energy model: " + " ".join(ASSUMPTIONS)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="build/sc")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--samples", default="1,2,4,8,16,32", help="N values to train")
    p.add_argument("--area-samples", default="1,4,16", help="N values to synthesize")
    args = p.parse_args(argv)
    out = Path(args.out)
    samples = [int(s) for s in args.samples.split(",")]
    nets = {"pixel": train(out, "pixel", [], args.epochs),
            "binarized": train(out, "binarized", ["--input", "binarized"], args.epochs)}
    for n in samples:
        nets[f"sc{n}"] = train(out, f"sc{n}", ["--input", "sc", "--sc-samples", str(n)], args.epochs)
    accuracy = {k: json.loads((v.parent / "train.json").read_text())["test_accuracy"] for k, v in nets.items()}
    names = ["pixel"] + [f"sc{n}" for n in (int(s) for s in args.area_samples.split(",")) if f"sc{n}" in nets]
    areas = {k: area(out, k, nets[k]) for k in names}
    base = areas["pixel"]
    comparison = {}
    for k in names[1:]:
        a = areas[k]
        comparison[k] = {
            "area_change": a["generic"]["transistors"] / base["generic"]["transistors"] - 1,
            "first_layer_area_change": a["first_layer_transistors"] / base["first_layer_transistors"] - 1,
            "lut_change": a["xilinx"]["lut"] / base["xilinx"]["lut"] - 1,
            "energy_ratio": base["energy_pj"]["total"] / a["energy_pj"]["total"],
            "logic_energy_ratio": base["energy_pj"]["logic"] / a["energy_pj"]["logic"],
            "accuracy_points": 100 * (accuracy[k] - accuracy["pixel"]),
        }
    doc = {"arch": ARCH, "epochs": args.epochs, "accuracy": accuracy, "area": areas, "comparison": comparison,
           "seed_paper": SEED_PAPER, "energy_assumptions": ASSUMPTIONS,
           "nets": {k: {"path": str(v), "sha256": netfile.digest(netfile.load(v))} for k, v in nets.items()}}
    (out / "sc.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "sc.md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
