"""`bnnmram demo`: the main job with defaults, each step's artefacts in one folder, and a report."""
import json
import time
from pathlib import Path

from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import kinds

from . import run_step
from ..args import positive, simulators

DEMO_ARCH = "784-256-256-256-10"
CONV_ARCH = "conv32k3-conv32k3-pool2-conv64k3-conv64k3-pool2-dense256-dense10"
CONV_SWEEP_IMAGES = 2000  # the conv sweep runs the golden model per pattern: a test subset
SWEEP_BERS = "1e-6,1e-5,1e-4,2e-4,5e-4,1e-3,2e-3,5e-3,1e-2,2e-2,5e-2,1e-1"
ERROR_AWARE_BER = "0.05"
FIGURE_NETS = [("mnist", "0", "mnist"), ("mnist", ERROR_AWARE_BER, "mnist-ea"),
               ("fashion-mnist", ERROR_AWARE_BER, "fashion-ea")]


def add_parser(sub):
    p = sub.add_parser("demo", help="the main job with defaults: train, gen, sim, synth, sweep, energy, report")
    p.add_argument("--out", default="build/demo")
    p.add_argument("--epochs", type=positive, default=20)
    p.add_argument("--images", type=positive, default=200, help="test images per Verilator run")
    p.add_argument("--icarus-images", type=positive, default=200, help="test images per Icarus run")
    p.add_argument("--sims", type=simulators, default=simulators("verilator,icarus"),
                   help="simulators, comma separated")
    p.add_argument("--trials", type=positive, default=3, help="fault patterns per BER in the sweeps")
    p.add_argument("--conv-epochs", type=positive, default=5, help="epochs of the demo's conv net (short schedule)")
    p.add_argument("--conv-images", type=positive, default=300, help="test images per Verilator run of the conv net")
    p.add_argument("--conv-icarus-images", type=positive, default=2,
                   help="test images per Icarus run of the conv net (Icarus evaluates its wide datapaths "
                        "net by net: about 20 s per image)")
    p.set_defaults(step=__name__)


def _step(title):
    print(f"\n=== demo: {title} ===", flush=True)


def trained_set_ok(net: Path) -> bool:
    """net.json, model.pt and train.json of one training run, all present and matching."""
    d = net.parent
    if not (net.exists() and (d / "model.pt").exists() and (d / "train.json").exists()):
        return False
    try:
        from bnnmram.models.net import netfile
        recorded = json.loads((d / "train.json").read_text()).get("net_sha256")
        return recorded == netfile.digest(netfile.load(net))
    except (BnnMramError, ValueError, AttributeError, OSError):
        return False


def ensure_demo_net(net: Path, epochs: int = 20) -> Path:
    """The demo net at `net` (with model.pt and train.json beside it), trained with defaults
    if missing or if the three files are not one run's set."""
    net = Path(net)
    if not trained_set_ok(net):
        run_step(["train", "--dataset", "fashion-mnist", "--arch", DEMO_ARCH, "--epochs", str(epochs),
                  "--seed", "0", "--out", str(net.parent), "--force"])
    return net


def cosimulate(prefix: Path, rtl, net, simulators, images: dict, dataset="fashion-mnist") -> list[dict]:
    """`bnnmram sim` on each simulator at BER 0 and 1e-3 (fault seed 1) into `<prefix>_<sim>_ber<B>`;
    each sim.json with its folder (`dir`) and exit code."""
    results = []
    for sim in simulators:
        for ber in (0.0, 1e-3):
            d = prefix.with_name(f"{prefix.name}_{sim}_ber{ber:g}")
            code = run_step(["sim", "--rtl", str(rtl), "--net", str(net), "--sim", sim, "--dataset", dataset,
                             "--images", str(images[sim]), "--ber", str(ber), "--seed", "1", "--out", str(d)])
            r = json.loads((d / "sim.json").read_text())
            r["dir"] = str(d)
            r["exit_code"] = code
            results.append(r)
    return results


def run(args):
    from bnnmram.cosim import tools
    from bnnmram.hdl.generate import load_manifest
    from bnnmram.models.data import datasets
    from ..outputs import OutputDir
    from ..yosys import yosys_binary
    out = Path(args.out)
    report_dir = OutputDir(out, "demo", ["report.md"]).check()
    for sim in args.sims:  # every tool and data set the demo needs, before any work
        tools.prepare(sim)
    yosys_binary()
    datasets.load("fashion-mnist")
    datasets.load("mnist")
    t0 = time.time()
    net_dir = out / "net"
    net = net_dir / "net.json"
    _step("1/9 train (or reuse) the Fashion-MNIST BNN")
    if trained_set_ok(net):
        print(f"demo: reusing {net} (delete {net_dir} to retrain)")
    ensure_demo_net(net, args.epochs)
    train = json.loads((net_dir / "train.json").read_text())

    _step("2/9 generate the Verilog")
    rtl = out / "rtl"
    run_step(["gen", "--net", str(net), "--out", str(rtl)])
    man = load_manifest(rtl)

    _step(f"3/9 co-simulate {args.images} test images, BER 0 and 1e-3")
    sims = cosimulate(out / "sim", rtl, net, args.sims, {"verilator": args.images, "icarus": args.icarus_images})

    _step("4/9 synthesize with Yosys (MRAM macros as black boxes)")
    synths = {}
    for target in ("generic", "ice40", "xilinx"):
        run_step(["synth", "--rtl", str(rtl), "--target", target, "--out", str(out / f"synth_{target}")])
        synths[target] = json.loads((out / f"synth_{target}" / "synth.json").read_text())

    _step(f"5/9 accuracy vs BER sweeps ({args.trials} fault patterns per BER), standard and error-aware")
    nets = {"fashion-mnist": [str(net)], "mnist": []}
    for dataset, tber, name in FIGURE_NETS:
        d = out / "nets" / name
        if not trained_set_ok(d / "net.json"):
            run_step(["train", "--dataset", dataset, "--arch", DEMO_ARCH, "--epochs", str(args.epochs),
                  "--train-ber", tber, "--seed", "0", "--out", str(d), "--force"])
        nets[dataset].append(str(d / "net.json"))
    for dataset, paths in nets.items():
        argv = ["sweep", "--dataset", dataset, "--ber", SWEEP_BERS, "--trials", str(args.trials),
                "--out", str(out / f"sweep_{dataset}")]
        for p_ in paths:
            argv += ["--net", p_]
        run_step(argv)

    _step(f"6/9 conv BNN in software: train (or reuse, {args.conv_epochs} epochs), sweep on "
          f"{CONV_SWEEP_IMAGES} test images")
    conv = out / "nets" / "fashion-conv"
    if not trained_set_ok(conv / "net.json"):
        run_step(["train", "--dataset", "fashion-mnist", "--arch", CONV_ARCH, "--epochs", str(args.conv_epochs),
                  "--seed", "0", "--out", str(conv), "--force"])
    run_step(["sweep", "--dataset", "fashion-mnist", "--ber", SWEEP_BERS, "--trials", str(args.trials),
              "--limit", str(CONV_SWEEP_IMAGES), "--net", str(net), "--net", str(conv / "net.json"),
              "--out", str(out / "sweep_conv")])

    _step(f"7/9 conv BNN in hardware: generate, co-simulate {args.conv_images} test images on Verilator "
          f"({args.conv_icarus_images} on Icarus), BER 0 and 1e-3")
    conv_rtl = out / "rtl_conv"
    run_step(["gen", "--net", str(conv / "net.json"), "--out", str(conv_rtl)])
    conv_man = load_manifest(conv_rtl)
    conv_sims = cosimulate(out / "sim_conv", conv_rtl, conv / "net.json", args.sims,
                           {"verilator": args.conv_images, "icarus": args.conv_icarus_images})

    _step("8/9 energy and area of the programming options")
    run_step(["energy", "--net", str(net), "--rtl", str(rtl), "--sweep", str(out / "sweep_fashion-mnist" / "sweep.json"),
          "--out", str(out / "energy")])

    _step("9/9 report")
    report = out / "report.md"
    with report_dir:
        report_dir.write("report.md", _report(out, train, man, sims, time.time() - t0) +
                         _report_more(out, synths, conv_man, conv_sims))
        report_dir.commit()
    print(f"demo: report -> {report}")
    bad = [s for s in sims + conv_sims if not s["passed"]]
    if bad:
        raise BnnMramError(f"{len(bad)} co-simulation(s) failed; see {report}")


def _sim_rows(out, sims) -> str:
    return "\n".join(
        f"| {s['simulator']} | {s['ber']:g} | {s['images']} | {s['weights_flipped']} | {s['mismatches']} | "
        f"{len(s['readback_mismatches'])} | {s['accuracy']:.4f} | {s['golden_accuracy']:.4f} | "
        f"{s['cycles_per_image']:.1f} | {s['cycles_per_image_analytic']} | {s['images_per_second']} | "
        f"{'PASS' if s['passed'] else 'FAIL'} | `{Path(s['dir']).relative_to(out)}/sim.json` |"
        for s in sims)


SIM_HEADER = """| simulator | BER | images | weights flipped | mismatches | read-back mismatches | HW accuracy | golden accuracy | cycles/image measured | analytic | images/s | result | artefact |
|---|---|---|---|---|---|---|---|---|---|---|---|---|"""


def _layer_rows(man) -> str:
    rows = []
    for l in man["layers"]:
        if not kinds.KINDS[l["kind"]].has_weights:
            rows.append(f"| {l['index']} | pool{l['pool']} {'x'.join(map(str, l['in_shape']))} | bits | | | "
                        f"{l['cycles']} | |")
            continue
        size = f"{l['n_in']}x{l['n_out']}"
        if "kernel" in l:
            size = f"conv k{l['kernel']} {'x'.join(map(str, l['in_shape']))} -> {'x'.join(map(str, l['out_shape']))} ({size})"
        rows.append(f"| {l['index']} | {size} | {l['input']} | {l['pe']} | {l['simd']} | {l['cycles']} | "
                    f"{l['mram_words']} x {l['mram_word_bits']} |")
    return "\n".join(rows)


LAYER_HEADER = """| layer | size | input | PE | SIMD | cycles/image | MRAM words x bits |
|---|---|---|---|---|---|---|"""


def _report_more(out, synths, conv_man, conv_sims):
    g, i, x = synths["generic"], synths["ice40"], synths["xilinx"]
    sweeps = "".join(f"""
### {d}
{(out / f"sweep_{d}" / "sweep.md").read_text()}
![accuracy vs BER, {d}](sweep_{d}/sweep.png)
""" for d in ("fashion-mnist", "mnist"))
    conv = json.loads((out / "nets" / "fashion-conv" / "train.json").read_text())
    sweeps += f"""
### Conv BNN
`{conv['arch_spec']}` on Fashion-MNIST, trained here for {conv['epochs']} epochs in
{conv['train_seconds']:.0f} s (the demo's short schedule; the README's command trains the full one):
integer golden test accuracy **{conv['test_accuracy']:.4f}** on all 10,000 test images (float BNN
{conv['float_test_accuracy']:.4f}, {conv['golden_float_disagreements']} disagreements). Sweep on the first
{CONV_SWEEP_IMAGES} test images, beside the MLP on the same images (`sweep_conv/`):

{(out / "sweep_conv" / "sweep.md").read_text()}
![accuracy vs BER, conv vs MLP](sweep_conv/sweep.png)

#### Conv BNN in hardware (`rtl_conv/`, same fault seed 1)
Sliding windows, conv MVTUs, bit max-pools and a flatten, every weight in the MRAM macros:
analytic steady state **{conv_man['cycles_per_image']} cycles/image** (the slowest layer), latency at
most {conv_man['latency_cycles_max']} cycles, {conv_man['mram_bits']} MRAM weight bits.

{LAYER_HEADER}
{_layer_rows(conv_man)}

{SIM_HEADER}
{_sim_rows(out, conv_sims)}
"""
    en = (out / "energy" / "energy.md").read_text().split("\n", 1)[1].replace("(energy_vs_ber.png)", "(energy/energy_vs_ber.png)")
    return f"""
## Synthesis (Yosys, MRAM macros as black boxes: `synth_*/synth.json`, `synth_*/stat.txt`)

| target | cells | logic | flip-flops | other |
|---|---|---|---|---|
| generic (simple gates) | {g['cells']} | {g['transistors']} transistors (stat -tech cmos) | {g['flip_flops']} | memories mapped to flip-flops |
| ice40 | {i['cells']} | {i['lut4']} LUT4, {i['carry']} carry | {i['flip_flops']} | {i['bram']} BRAM |
| xilinx | {x['cells']} | {x['lut']} LUT, {x['carry']} carry | {x['flip_flops']} | {x['bram']} BRAM, {x['lutram']} LUTRAM, {x['dsp']} DSP |

## Accuracy vs bit error rate (`sweep_*/sweep.csv`, `sweep.json`, `sweep.png`)
What the seed papers found: standard BNNs keep their accuracy up to about 1e-4 to 1e-3 BER;
error-aware training extends tolerance to about 4e-2. Measured here:
{sweeps}
## Energy (`energy/energy.json`, `energy/energy.md`)
{en}"""


def _report(out, train, man, sims, seconds):
    return f"""# bnnmram demo report

Fashion-MNIST, `{'-'.join(map(str, man['arch']))}` BNN, generated accelerator co-simulated
bit-for-bit against the PyTorch integer golden model. Total time {seconds:.0f} s.

## Trained net
- integer golden test accuracy (10,000 images): **{train['test_accuracy']:.4f}**
  (float BNN {train['float_test_accuracy']:.4f}, {train['golden_float_disagreements']} disagreements)
- training: {train['epochs']} epochs, {train['train_seconds']:.0f} s

## Hardware
- analytic steady state: **{man['cycles_per_image']} cycles/image**, latency {man['latency_cycles']} cycles
- MRAM: {man['mram_bits']} weight bits; read latency {man['mram']['read_latency']} cycle(s),
  programming pulse {man['mram']['write_cycles']} cycles (at least the fault hashing time per word)

{LAYER_HEADER}
{_layer_rows(man)}

## Co-simulation (same images, fault seed 1)

{SIM_HEADER}
{_sim_rows(out, sims)}

## Artefacts
- net file: `net/net.json` (format: docs/netfile.md), training log: `net/train.json`, PyTorch weights `net/model.pt`
- Verilog: `rtl/{man['verilog']}`, manifest `rtl/manifest.json`, lint waivers `rtl/{man['lint_waivers']}`
- co-simulation results: `sim_*/sim.json`, test vectors `sim_*/vectors.npz`, cocotb results `sim_*/results_*.xml`
- conv net: `nets/fashion-conv/`, its Verilog `rtl_conv/`, co-simulations `sim_conv_*/`
"""
