"""The flow steps behind each `bnnmram` subcommand."""
import json
import time
from pathlib import Path

import numpy as np
import torch

from models import bnn, datasets, golden, netfile
from models.errors import BnnMramError
from models.faults import FaultConfig, faulty_net


def fault_config(args) -> FaultConfig:
    return FaultConfig(seed=args.seed, ber=args.ber, mode=args.fault_mode, rate_01=args.rate01,
                       rate_10=args.rate10, init_state=args.init_state)


def train(args):
    out = Path(args.out)
    net_path = out / "net.json"
    if net_path.exists() and not args.force:
        raise BnnMramError(f"{net_path} exists; pass --force to overwrite it or choose another --out")
    arch = bnn.parse_arch(args.arch)
    ds = datasets.load(args.dataset)
    print(f"train: {ds.name} {len(ds.train_x)} train / {len(ds.test_x)} test images, arch "
          f"{'-'.join(map(str, arch))}, {args.epochs} epochs, seed {args.seed}", flush=True)
    t0 = time.time()

    def progress(epoch, loss, seconds):
        print(f"  epoch {epoch:3d}/{args.epochs}  loss {loss:.4f}  {seconds:6.1f} s", flush=True)

    model = bnn.train(arch, ds.train_x, ds.train_y, epochs=args.epochs, seed=args.seed,
                      batch=args.batch, lr=args.lr, binarize_input=args.binarize_input,
                      train_ber=args.train_ber, progress=progress)
    train_seconds = time.time() - t0
    meta = {"dataset": ds.name, "epochs": args.epochs, "seed": args.seed, "train_ber": args.train_ber}
    net = bnn.export(model, meta)
    out.mkdir(parents=True, exist_ok=True)
    netfile.save(net, net_path)
    torch.save(model.state_dict(), out / "model.pt")
    float_pred = model.predict(torch.from_numpy(np.array(ds.test_x)))
    g = golden.run(net, ds.test_x)
    report = {
        "dataset": ds.name, "arch": arch, "epochs": args.epochs, "seed": args.seed,
        "binarize_input": args.binarize_input, "train_ber": args.train_ber,
        "test_images": int(len(ds.test_y)),
        "test_accuracy": float((g.pred == ds.test_y).mean()),
        "float_test_accuracy": float((float_pred == ds.test_y).mean()),
        "golden_float_disagreements": int((g.pred != float_pred).sum()),
        "train_seconds": round(train_seconds, 2),
        "net": str(net_path),
    }
    (out / "train.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"train: integer golden test accuracy {report['test_accuracy']:.4f} "
          f"(float {report['float_test_accuracy']:.4f}, {report['golden_float_disagreements']} "
          f"disagreements), {train_seconds:.1f} s -> {net_path}")
    if report["golden_float_disagreements"]:
        raise BnnMramError("integer golden model disagrees with the float BNN: export bug")


def test_images(ds, limit):
    x, y = ds.test_x, ds.test_y
    return (x[:limit], y[:limit]) if limit else (x, y)


def check_net_matches(net, ds):
    if net.arch[0] != ds.pixels:
        raise BnnMramError(f"net input size {net.arch[0]} does not match dataset {ds.name} "
                           f"({ds.pixels} pixels)")


def infer(args):
    net = netfile.load(args.net)
    ds = datasets.load(args.dataset)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    x, y = test_images(ds, args.limit)
    g = golden.run(faulty_net(net, cfg), x)
    acc = float((g.pred == y).mean())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, scores=g.scores, pred=g.pred, labels=y)
    r01, r10 = cfg.realised_rates
    print(f"infer: {len(y)} images, accuracy {acc:.4f} (BER realised {r01:.3g}/{r10:.3g}, "
          f"seed {cfg.seed}) -> {out}")


def _fold_override(text: str):
    try:
        layer, pe, simd = (int(v) for v in text.split(":"))
    except ValueError:
        raise BnnMramError(f"--fold {text!r} must be LAYER:PE:SIMD, e.g. 0:16:16") from None
    return layer, (pe, simd)


def gen(args):
    from hdl.folding import fold_net
    from hdl.generate import generate
    from hdl.mram import MramParams
    net = netfile.load(args.net)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise BnnMramError(f"{out} is not empty and holds no bnnmram RTL; choose another --out")
    overrides = dict(_fold_override(t) for t in args.fold or [])
    folds = fold_net(net, args.pe, args.simd, overrides)
    t0 = time.time()
    print(f"gen: elaborating {len(folds)} layers: " + ", ".join(
        f"L{i} {f.n_in}x{f.n_out} PE={f.pe} SIMD={f.simd} ({f.cycles} cycles)" for i, f in enumerate(folds)),
        flush=True)
    man = generate(net, folds, out, MramParams(args.mram_read_latency, args.mram_write_cycles,
                                               args.mram_init, args.mram_hash_lanes))
    print(f"gen: {out / man['verilog']} ({time.time() - t0:.1f} s): {man['cycles_per_image']} cycles/image "
          f"(analytic, steady state), latency {man['latency_cycles']} cycles, {man['mram_bits']} MRAM bits")


def sim(args):
    from cosim import runner, vectors
    from hdl.generate import load_manifest
    net = netfile.load(args.net)
    man = load_manifest(args.rtl)
    vectors.check_rtl_matches(net, man, args.rtl)
    ds = datasets.load(args.dataset)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    if cfg.switch_only and cfg.init_state != man["mram"]["init_state"]:
        raise BnnMramError(f"--init-state {cfg.init_state} differs from the RTL's MRAM initial state "
                           f"{man['mram']['init_state']} (set at 'bnnmram gen --mram-init')")
    x, y = test_images(ds, args.images)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vec = vectors.write(out / "vectors.npz", net, x, y, cfg)
    config = {"simulator": args.sim, "manifest": str(Path(args.rtl).resolve() / "manifest.json"),
              "vectors": str(vec.resolve()), "result": str((out / "sim.json").resolve()),
              "ber": args.ber, "seed": args.seed, "stalls": args.stalls}
    print(f"sim: {args.sim}, {len(y)} images, BER {args.ber:g} seed {args.seed}"
          f"{' with stalls' if args.stalls else ''}", flush=True)
    result = runner.run(args.rtl, args.sim, config, waves=args.waves, quiet=not args.verbose)
    (out / "sim.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"sim: {result['mismatches']} mismatches, {len(result['readback_mismatches'])} read-back "
          f"mismatches, accuracy {result['accuracy']:.4f} (golden {result['golden_accuracy']:.4f}), "
          f"{result['cycles_per_image']} cycles/image measured vs {result['cycles_per_image_analytic']} "
          f"analytic, {result['images_per_second']} images/s -> {out / 'sim.json'}")
    for w in result.get("waves", []):
        print(f"sim: waveforms {w}")
    return 0 if result["passed"] else 1


def sweep(args):
    from tqdm import tqdm
    from models import sweep as sw
    from models.campaign import Campaign
    bers = sw.parse_bers(args.ber)
    n = len(args.net)
    dsets = args.dataset or ["fashion-mnist"]
    if len(dsets) not in (1, n):
        raise BnnMramError(f"give one --dataset, or one per --net ({n})")
    if args.label and len(args.label) != n:
        raise BnnMramError(f"give one --label per --net ({n})")
    nets = [netfile.load(p) for p in args.net]
    layers = None
    if args.layers:
        try:
            layers = sorted({int(v) for v in args.layers.split(",")})
        except ValueError:
            raise BnnMramError(f"--layers {args.layers!r} must be a comma list of layer numbers") from None
        for net in nets:
            if layers[-1] >= len(net.layers) or layers[0] < 0:
                raise BnnMramError(f"--layers {args.layers}: the net has layers 0..{len(net.layers) - 1}")
    results = []
    bar = tqdm(total=n * args.trials * len(bers), unit="trial", desc="sweep")
    for i, net in enumerate(nets):
        ds = datasets.load(dsets[i % len(dsets)])
        check_net_matches(net, ds)
        x, y = test_images(ds, args.limit)
        label = args.label[i] if args.label else _net_label(net, ds.name)
        camp = Campaign(net, x, y, layers, thresholds=args.thresholds, read_errors=args.read_errors)
        results.append(sw.run(camp, label, bers, args.trials, args.seed, progress=bar.update))
    bar.close()
    doc = sw.write(Path(args.out), results, args.seed, "read" if args.read_errors else "write",
                   args.thresholds, layers)
    for s in doc["nets"]:
        print(f"sweep: {s['label']}: error-free {s['clean_accuracy']:.4f}, tolerated BER "
              f"{s['tolerated_ber']} (mean within 1 point)")
    print(f"sweep: {args.out}/sweep.csv, sweep.json, sweep.md, sweep.png")


def synth(args):
    from hdl.generate import load_manifest
    from .synth import synthesize
    man = load_manifest(args.rtl)
    boxes = [] if args.keep_mram else [l["mram_module"] for l in man["layers"]]
    out = Path(args.out)
    r = synthesize(Path(args.rtl) / man["verilog"], man["top"], out, args.target, boxes)
    r["mram_bits"] = man["mram_bits"]
    (out / "synth.json").write_text(json.dumps(r, indent=1) + "\n")
    key = {"generic": "transistors", "ice40": "lut4", "xilinx": "lut"}[args.target]
    print(f"synth: {args.target}: {r['cells']} cells, {key} {r[key]}, flip-flops {r['flip_flops']}, "
          f"MRAM bits {r['mram_bits']} (black box) in {r['yosys_seconds']} s -> {out / 'synth.json'}")


def _net_label(net, dataset):
    tb = net.meta.get("train_ber", 0) or 0
    return f"{dataset} {'-'.join(map(str, net.arch))}" + (f", error-aware {tb:g}" if tb else "")


def register_more(sub, add_fault_args, ber, seed, positive):
    g = sub.add_parser("gen", help="generate the accelerator's Verilog and manifest")
    g.add_argument("--net", required=True)
    g.add_argument("--pe", type=positive, default=None, help="PE for every layer (default: balanced)")
    g.add_argument("--simd", type=positive, default=None, help="SIMD for every layer (default: balanced)")
    g.add_argument("--fold", action="append", metavar="LAYER:PE:SIMD", help="per-layer folding override")
    g.add_argument("--mram-read-latency", type=positive, default=1, help="MRAM read latency, cycles")
    g.add_argument("--mram-write-cycles", type=positive, default=4, help="MRAM programming pulse, cycles")
    g.add_argument("--mram-init", type=int, choices=(0, 1), default=0, help="MRAM content before programming")
    g.add_argument("--mram-hash-lanes", type=positive, default=8,
                   help="fault hashes per cycle while programming (simulation speed vs write time)")
    g.add_argument("--out", required=True)
    g.set_defaults(func=gen)

    s = sub.add_parser("sim", help="co-simulate the RTL against the golden model (cocotb)")
    s.add_argument("--rtl", required=True)
    s.add_argument("--net", required=True)
    s.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    s.add_argument("--dataset", default="fashion-mnist")
    s.add_argument("--images", type=positive, default=100)
    add_fault_args(s)
    s.add_argument("--stalls", action="store_true", help="random input idles and output backpressure")
    s.add_argument("--waves", action="store_true", help="dump waveforms (VCD/FST) in the build folder")
    s.add_argument("--verbose", action="store_true", help="show the cocotb log")
    s.add_argument("--out", required=True)
    s.set_defaults(func=sim)

    w = sub.add_parser("sweep", help="Monte Carlo accuracy vs BER campaign (the papers' figure)")
    w.add_argument("--net", action="append", required=True, help="net file; repeat to compare nets")
    w.add_argument("--dataset", action="append", help="dataset per --net (one applies to all)")
    w.add_argument("--label", action="append", help="legend label per --net")
    w.add_argument("--ber", default="1e-6,1e-5,...,1e-1", help="rates: comma list, '...' fills decades")
    w.add_argument("--trials", type=positive, default=10, help="fault patterns per BER")
    w.add_argument("--seed", type=seed, default=0, help="trial t uses fault seed SEED+t")
    w.add_argument("--layers", default=None, help="only these layers get errors, e.g. 0,1")
    w.add_argument("--thresholds", action="store_true",
                   help="thresholds stored in MRAM too: their bits get write errors (sweep model only)")
    w.add_argument("--read-errors", action="store_true",
                   help="the BER is of weight reads at each inference (every image its own errors), "
                        "not of writes (sweep model only)")
    w.add_argument("--limit", type=positive, default=None, help="first K test images only")
    w.add_argument("--out", required=True)
    w.set_defaults(func=sweep)

    y = sub.add_parser("synth", help="Yosys area of the generated logic (MRAM macros as black boxes)")
    y.add_argument("--rtl", required=True)
    y.add_argument("--target", choices=("generic", "ice40", "xilinx"), default="generic")
    y.add_argument("--keep-mram", action="store_true", help="synthesize the behavioural MRAM macros too")
    y.add_argument("--out", required=True)
    y.set_defaults(func=synth)

    from . import energy
    e = sub.add_parser("energy", help="energy/area table: strong, ECC, write-verify, weak programming")
    e.add_argument("--net", required=True)
    e.add_argument("--rtl", default=None, help="generated RTL (sizes the ECC decoders per read cycle)")
    e.add_argument("--sweep", default=None, help="sweep.json giving the tolerated BER (else a sweep runs)")
    e.add_argument("--dataset", default="fashion-mnist")
    e.add_argument("--trials", type=positive, default=5, help="fault patterns per BER of that sweep")
    e.add_argument("--seed", type=seed, default=0)
    e.add_argument("--inferences-per-load", type=positive, default=1,
                   help="system energy scenario: inferences per full weight load")
    e.add_argument("--out", required=True)
    e.set_defaults(func=energy.run)

    from . import demo
    d = sub.add_parser("demo", help="the main job with defaults: train, gen, sim, report")
    d.add_argument("--out", default="build/demo")
    d.add_argument("--epochs", type=positive, default=20)
    d.add_argument("--images", type=positive, default=200, help="test images per Verilator run")
    d.add_argument("--icarus-images", type=positive, default=200, help="test images per Icarus run")
    d.add_argument("--sims", default="verilator,icarus", help="simulators, comma separated")
    d.add_argument("--trials", type=positive, default=3, help="fault patterns per BER in the sweeps")
    d.set_defaults(func=demo.run)
