"""The flow steps behind each `bnnmram` subcommand."""
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from bnnmram.models.data import datasets
from bnnmram.models.net import cnn, golden, netfile, training
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import FaultConfig, faulty_net

from . import outputs
from .outputs import OutputDir


def given_condition(args, tech) -> dict:
    """The programming-condition options given (field -> value), refusing another technology's."""
    from bnnmram.gen.args import condition_flags
    own = {o.flag: o.field for o in tech.options}
    given = {}
    for flag in condition_flags():
        v = getattr(args, flag[2:].replace("-", "_"), None)
        if v is None:
            continue
        if flag not in own:
            raise BnnMramError(f"{flag} is not a programming condition of --memory {tech.name} "
                               f"(it takes {', '.join(own)})")
        given[own[flag]] = v
    return given


def fault_setting(args, memory: str | None = None) -> tuple[FaultConfig, object | None]:
    """(write-error model, programming condition or None) of infer/sim: ST-MRAM from --ber and
    its modes as before; a programming condition (--write-ua/--pulse-ns,
    --compliance-ua/--reset-v/--pulse-ns) through the technology's physics; --ber alone: the
    condition it stands for (none for BER 0, switch mode or per-direction rates)."""
    from bnnmram.models.memory import technology
    tech = technology(memory or args.memory or "stmram")
    given = given_condition(args, tech)
    rates = args.rate01 is not None or args.rate10 is not None or args.fault_mode != "ber"
    if given:
        if args.ber or rates:
            raise BnnMramError("give --ber (and its rates and mode) or a programming condition, not both")
        cond = tech.condition(**given)
        return tech.fault_config(cond, args.seed), cond
    if tech.name == "stmram":
        cfg = FaultConfig(seed=args.seed, ber=args.ber, mode=args.fault_mode, rate_01=args.rate01,
                          rate_10=args.rate10, init_state=args.init_state)
        return cfg, None if rates or args.ber == 0 else tech.condition_for_ber(args.ber)
    if rates:
        raise BnnMramError(f"--rate01/--rate10 and --fault-mode switch are ST-MRAM's; --memory {tech.name} "
                           "takes --ber or a programming condition")
    cond = None if args.ber == 0 else tech.condition_for_ber(args.ber)
    return (tech.error_free(args.seed) if cond is None else tech.fault_config(cond, args.seed)), cond


def fault_config(args, memory: str | None = None) -> FaultConfig:
    return fault_setting(args, memory)[0]


def fault_text(cfg: FaultConfig) -> str:
    """The realised error rates (and device codes) of a fault configuration, for progress lines."""
    r1, r0 = cfg.realised_rates
    dev = f", {cfg.device.cell} device codes {cfg.device.ports()}" if cfg.device is not None else ""
    return f"BER realised {r1:.3g}/{r0:.3g}, seed {cfg.seed}{dev}"


TRAIN_FILES = ["net.json", "model.pt", "train.json"]
DEFAULT_SC_SAMPLES = 16  # --input sc without --sc-samples


def input_choice(args) -> str:
    """The first layer's input kind from --input, --binarize-input and --sc-samples (one line
    if they contradict each other); fills in the default --sc-samples of sc nets."""
    kind = args.input or ("binarized" if args.binarize_input else "pixel")
    if args.binarize_input and kind != "binarized":
        raise BnnMramError(f"--binarize-input contradicts --input {kind}")
    if args.sc_samples is not None and kind != "sc":
        raise BnnMramError(f"--sc-samples needs --input sc (the input is {kind})")
    if kind == "sc" and args.sc_samples is None:
        args.sc_samples = DEFAULT_SC_SAMPLES
    return kind


def train(args):
    out = Path(args.out)
    net_path = out / "net.json"
    od = OutputDir(out, "train", TRAIN_FILES)
    if net_path.exists() and not args.force:
        raise BnnMramError(f"{net_path} exists; pass --force to overwrite it or choose another --out")
    if args.force:
        outputs.check_dir(out)
    else:
        od.check()
    arch = args.arch
    input_kind = input_choice(args)
    ds = datasets.load(args.dataset, args.data_dir)
    training.check_arch(arch, ds.train_x, ds.train_y, ds.shape)
    print(f"train: {ds.name} {len(ds.train_x)} train / {len(ds.test_x)} test images {'x'.join(map(str, ds.shape))}, "
          f"arch {cnn.spec_text(arch)}, {args.epochs} epochs, seed {args.seed}, input {input_kind}"
          + (f" ({args.sc_samples} samples/pixel, sc seed {args.sc_seed})" if input_kind == "sc" else ""), flush=True)
    t0 = time.time()

    def progress(epoch, loss, seconds):
        print(f"  epoch {epoch:3d}/{args.epochs}  loss {loss:.4f}  {seconds:6.1f} s", flush=True)

    model = training.train(arch, ds.train_x, ds.train_y, epochs=args.epochs, seed=args.seed,
                      batch=args.batch, lr=args.lr, binarize_input=input_kind == "binarized",
                      train_ber=args.train_ber, progress=progress, input_shape=ds.shape,
                      sc_samples=args.sc_samples if input_kind == "sc" else 0, sc_seed=args.sc_seed)
    train_seconds = time.time() - t0
    meta = {"dataset": ds.name, "epochs": args.epochs, "seed": args.seed, "train_ber": args.train_ber}
    net = training.export(model, meta)
    float_pred = model.predict(torch.from_numpy(np.array(ds.test_x)))
    g = golden.run(net, ds.test_x)
    report = {
        "dataset": ds.name, "arch": net.arch, "arch_spec": netfile.describe_arch(net),
        "input_shape": list(ds.shape),
        "epochs": args.epochs, "seed": args.seed, "batch": args.batch, "lr": args.lr,
        "binarize_input": input_kind == "binarized", "input": input_kind, "train_ber": args.train_ber,
        "sc": net.sc,
        "test_images": int(len(ds.test_y)),
        "test_accuracy": float((g.pred == ds.test_y).mean()),
        "float_test_accuracy": float((float_pred == ds.test_y).mean()),
        "golden_float_disagreements": int((g.pred != float_pred).sum()),
        "train_seconds": round(train_seconds, 2),
        "net": str(net_path),
        "net_sha256": netfile.digest(net),
    }
    if report["golden_float_disagreements"]:
        raise BnnMramError("integer golden model disagrees with the float BNN: export bug (nothing written)")
    # the three files replace any old set together (see gen.outputs)
    with od:
        od.write("net.json", netfile.dumps(net))
        torch.save(model.state_dict(), od.stage("model.pt"))
        od.write("train.json", json.dumps(report, indent=1) + "\n")
        od.commit()
    print(f"train: integer golden test accuracy {report['test_accuracy']:.4f} "
          f"(float {report['float_test_accuracy']:.4f}, {report['golden_float_disagreements']} "
          f"disagreements), {train_seconds:.1f} s -> {net_path}")


def check_net_matches(net, ds):
    if net.input_shape is not None and tuple(net.input_shape) != tuple(ds.shape):
        raise BnnMramError(f"net input shape {'x'.join(map(str, net.input_shape))} does not match dataset "
                           f"{ds.name} ({'x'.join(map(str, ds.shape))})")
    if net.arch[0] != ds.pixels:
        raise BnnMramError(f"net input size {net.arch[0]} does not match dataset {ds.name} "
                           f"({ds.pixels} pixels)")


def _check_npz_target(path: Path):
    """An existing --out file may be replaced only if it is an infer result (scores, pred, labels)."""
    outputs.check_file_target(path, ".npz")
    if path.exists():
        try:
            with np.load(path) as d:
                ours = set(d.files) == {"scores", "pred", "labels"}
        except Exception:
            ours = False
        if not ours:
            raise BnnMramError(f"--out {path} exists and is not a `bnnmram infer` result; "
                               "move it or choose another --out")


def infer(args):
    out = Path(args.out)
    _check_npz_target(out)
    net = netfile.load(args.net)
    ds = datasets.load(args.dataset, args.data_dir)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    x, y = ds.test_subset(args.limit)
    fnet = faulty_net(net, cfg)
    flipped = sum(int((a.weights != b.weights).sum()) for a, b in zip(net.layers, fnet.layers))
    total = sum(l.weights.size for l in net.layers)
    g = golden.run(fnet, x)
    acc = float((g.pred == y).mean())
    buf = io.BytesIO()
    np.savez(buf, scores=g.scores, pred=g.pred, labels=y)
    outputs.write_file_atomic(out, buf.getvalue())
    print(f"infer: {len(y)} images, accuracy {acc:.4f}; {flipped} of {total} weights flipped "
          f"({fault_text(cfg)}) -> {out}")


def _check_rtl_folder(out: Path, files):
    """`gen` reuses only a folder that it wrote itself, holding nothing else."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    if not out.is_dir():
        raise BnnMramError(f"--out {out} is a file; a folder is needed there")
    ours = set(files) | {"sim_build", outputs.STAMP}
    stamp = OutputDir(out, "gen", list(files)).stamp().get("files", {})
    if not all(stamp.get(f) == "gen" for f in files if (out / f).exists()) or not (out / "manifest.json").exists():
        raise BnnMramError(f"--out {out} is not empty and was not written by `bnnmram gen`; choose another --out")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in ours)
    if foreign:
        raise BnnMramError(f"--out {out} holds {foreign[0]}, which `bnnmram gen` did not write; "
                           "choose another --out")


def gen(args):
    from bnnmram.hdl.net_folding import fold_net
    from bnnmram.hdl.generate import FILES, generate
    from bnnmram.hdl.memory.macro import check_xnor_in_memory
    from bnnmram.hdl.mram import MramParams, hash_lanes_for
    out = Path(args.out)
    _check_rtl_folder(out, FILES)
    od = OutputDir(out, "gen", list(FILES)).check()
    if args.xnor_in_memory:   # refused before any work, with the macro's own check
        check_xnor_in_memory(args.memory)
    net = netfile.load(args.net)
    overrides = {}
    for layer, pe_simd in args.fold or []:
        if layer in overrides:
            raise BnnMramError(f"--fold gives layer {layer} twice")
        overrides[layer] = pe_simd
    folds = fold_net(net, args.pe, args.simd, overrides)
    for i, f in enumerate(folds):
        if net.layers[i].has_weights:
            hash_lanes_for(i, f.simd, args.mram_hash_lanes)
    t0 = time.time()
    print(f"gen: elaborating {len(folds)} layers: " + ", ".join(
        f"L{i} {_layer_text(l, f)} ({f.cycles} cycles)" for i, (l, f) in enumerate(zip(net.layers, folds))),
        flush=True)
    files, man = generate(net, folds, MramParams(args.mram_read_latency, args.mram_write_cycles,
                                                 args.mram_init, args.mram_hash_lanes, args.memory,
                                                 args.xnor_in_memory))
    with od:
        for name, text in files.items():
            od.write(name, text)
        od.commit()
    latency = (f"latency {man['latency_cycles']} cycles" if man["latency_cycles"] is not None
               else f"latency at most {man['latency_cycles_max']} cycles")
    print(f"gen: {out / man['verilog']} ({time.time() - t0:.1f} s): {man['cycles_per_image']} cycles/image "
          f"(analytic, steady state), {latency}, {man['mram_bits']} MRAM bits")


def _layer_text(layer, fold) -> str:
    """A layer in gen's progress line: its arch token (dense: inputs x neurons) and folding."""
    if not layer.has_weights:
        return netfile.describe_layer(layer)
    name = netfile.describe_layer(layer) if layer.in_shape else f"{fold.n_in}x{fold.n_out}"
    return f"{name} PE={fold.pe} SIMD={fold.simd}"


def sim(args):
    from bnnmram.cosim import runner, tools, vectors
    from bnnmram.hdl.generate import load_manifest
    out = Path(args.out)
    files = ["sim.json", "vectors.npz", f"sim_config_{args.sim}.json", f"results_{args.sim}.xml"]
    rates = stall_rates(args)
    od = OutputDir(out, "sim", files).check()
    net = netfile.load(args.net)
    man = load_manifest(args.rtl)
    memory = vectors.check_rtl_matches(net, man, args.rtl, args.memory)
    ds = datasets.load(args.dataset, args.data_dir)
    check_net_matches(net, ds)
    cfg, cond = fault_setting(args, memory)
    if cfg.switch_only and cfg.init_state != man["mram"]["init_state"]:
        raise BnnMramError(f"--init-state {cfg.init_state} differs from the RTL's MRAM initial state "
                           f"{man['mram']['init_state']} (set at 'bnnmram gen --mram-init')")
    tools.prepare(args.sim)
    x, y = ds.test_subset(args.images)
    with od:
        vec = vectors.write(od.stage("vectors.npz"), net, x, y, cfg)
        result_path = od.stage("sim.json")
        config = {"simulator": args.sim, "manifest": str(Path(args.rtl).resolve() / "manifest.json"),
                  "vectors": str(vec.resolve()), "result": str(result_path.resolve()),
                  "ber": args.ber, "seed": args.seed, "stalls": args.stalls,
                  **rates,
                  "memory": memory_report(memory, cfg, cond)}
        print(f"sim: {args.sim}, {len(y)} images, {memory}, {fault_text(cfg)}"
              f"{' with stalls' if args.stalls else ''}", flush=True)
        result = runner.run(args.rtl, args.sim, config, waves=args.waves, quiet=not args.verbose,
                            config_path=od.stage(files[2]), xml_path=od.stage(files[3]))
        config["vectors"], config["result"] = str((out / "vectors.npz").resolve()), str((out / "sim.json").resolve())
        result["endurance"] = endurance_report(config["memory"].get("endurance_cycles"),
                                               result.get("write_counts", {}))
        od.write(files[2], json.dumps(config, indent=1) + "\n")
        od.write("sim.json", json.dumps(result, indent=1) + "\n")
        od.commit()
    print(f"sim: {result['mismatches']} mismatches, {len(result['readback_mismatches'])} read-back "
          f"mismatches, {result['weights_flipped']} weights flipped, accuracy {result['accuracy']:.4f} "
          f"(golden {result['golden_accuracy']:.4f}), {result['cycles_per_image']} cycles/image measured vs "
          f"{result['cycles_per_image_analytic']} analytic, {result['images_per_second']} images/s -> "
          f"{out / 'sim.json'}")
    e = result["endurance"]
    print(f"sim: write counters read back: {e['words']} words, at most {e['writes_per_word_max']} "
          f"write(s) each" + ("" if e["endurance_cycles"] is None else
                              f", {e['words_beyond_endurance']} beyond the endurance of "
                              f"{e['endurance_cycles']:.2g} cycles"))
    for w in result.get("waves", []):
        print(f"sim: waveforms {w}")
    return 0 if result["passed"] else 1


def stall_rates(args) -> dict:
    """The bench's pause-generator rates (cosim.wrapper defaults unless given with --stalls)."""
    from bnnmram.cosim.wrapper import GAP_PER_256, STALL_PER_256
    if (args.gap_rate is not None or args.stall_rate is not None) and not args.stalls:
        raise BnnMramError("--gap-rate and --stall-rate need --stalls")
    return {"gap_per256": GAP_PER_256 if args.gap_rate is None else args.gap_rate,
            "stall_per256": STALL_PER_256 if args.stall_rate is None else args.stall_rate}


def memory_report(memory: str, cfg: FaultConfig, cond) -> dict:
    """sim_config's `memory`: the technology, its condition and what the model gives there
    (programming energy, the write cycles a word survives at that condition)."""
    from bnnmram.models.memory import technology
    tech = technology(memory)
    r1, r0 = cfg.realised_rates
    out = {"technology": memory, "ber_write1": r1, "ber_write0": r0, "fault_ports": cfg.ports()}
    if cond is not None:
        d = tech.describe(cond)
        out.update({"condition": d["condition"], "program_energy_pj_per_bit": d["program_energy_pj_per_bit"],
                    "endurance_cycles": d["endurance_cycles"]})
    return out


def endurance_report(endurance_cycles: float | None, write_counts: dict[str, int]) -> dict:
    """sim.json's `endurance`: the write counters read back from the macros ({count: words})
    against the cycles a word survives (None: no programming condition, not judged)."""
    counts = {int(c): n for c, n in write_counts.items()}
    out = {"writes_per_word_max": max(counts, default=0), "words": sum(counts.values()),
           "endurance_cycles": endurance_cycles}
    if endurance_cycles is not None:
        out["words_beyond_endurance"] = sum(n for c, n in counts.items() if c > endurance_cycles)
        out["endurance_used"] = max(counts, default=0) / endurance_cycles
    return out


SWEEP_FILES = ["sweep.csv", "sweep.json", "sweep.md", "sweep.png"]


def _labels(args, nets, dsets) -> list[str]:
    """One distinct legend label per net: given, or dataset + arch (+ folder if two clash)."""
    if args.label:
        if len(set(args.label)) != len(args.label):
            raise BnnMramError(f"--label values must differ: {args.label}")
        return list(args.label)
    labels = [_net_label(net, dsets[i % len(dsets)]) for i, net in enumerate(nets)]
    for i, l in enumerate(labels):
        if labels.count(l) > 1:
            labels = [f"{x} ({args.net[j]})" if x == l else x for j, x in enumerate(labels)]
    return labels


def sweep_points(args) -> list:
    """The sweep's x positions: --ber's rates (for a resistive --memory, the conditions they
    stand for), or every combination of the programming-condition lists given."""
    import math
    from bnnmram.models.faults.sweep import MAX_RATES
    from bnnmram.models.memory import points, technology
    memory = args.memory or "stmram"
    tech = technology(memory)
    grid = given_condition(args, tech)
    if args.read_errors and memory != "stmram":
        raise BnnMramError(f"--read-errors is modelled for ST-MRAM only, not --memory {memory}")
    if not grid:
        return points.ber_points(memory, args.ber)
    if math.prod(len(v) for v in grid.values()) > MAX_RATES:
        raise BnnMramError(f"the programming-condition lists give more than {MAX_RATES} points")
    return points.condition_points(memory, grid)


def sweep(args):
    from tqdm import tqdm
    from bnnmram.models.faults import sweep as sw
    from bnnmram.models.faults.reference import campaign_for
    n = len(args.net)
    dsets = args.dataset or ["fashion-mnist"]
    if len(dsets) not in (1, n):
        raise BnnMramError(f"give one --dataset, or one per --net ({n})")
    if args.label and len(args.label) != n:
        raise BnnMramError(f"give one --label per --net ({n})")
    od = OutputDir(args.out, "sweep", SWEEP_FILES).check()
    nets = [netfile.load(p) for p in args.net]
    layers = args.layers
    if layers:
        for p_, net in zip(args.net, nets):
            if layers[-1] >= len(net.layers):
                raise BnnMramError(f"--layers {','.join(map(str, layers))}: {p_} has layers 0..{len(net.layers) - 1}")
    data = {name: datasets.load(name, args.data_dir) for name in dict.fromkeys(dsets)}
    for i, net in enumerate(nets):
        check_net_matches(net, data[dsets[i % len(dsets)]])
    if args.read_errors and not all(net.is_dense for net in nets):
        raise BnnMramError("--read-errors: read errors at each inference are modelled for MLPs only "
                           "(conv nets: write errors)")
    if args.per_layer and layers:
        raise BnnMramError("give --per-layer or --layers, not both")
    labels = _labels(args, nets, dsets)
    points = sweep_points(args)
    # runs: (net index, layers with errors, label); --per-layer: each weighted layer alone
    runs = [(i, layers, labels[i]) for i in range(n)] if not args.per_layer else [
        (i, [k], f"{labels[i]}: layer {k} {netfile.describe_layer(l)}")
        for i, net in enumerate(nets) for k, l in enumerate(net.layers) if l.has_weights]
    sources = [{"path": str(args.net[i]), "sha256": netfile.digest(nets[i]), "dataset": dsets[i % len(dsets)],
                "layers": run_layers} for i, run_layers, _ in runs]
    if args.workers or args.scheduler:   # the points as Dask tasks (gen.sweep_shards)
        from . import sweep_shards
        keys = [(str(Path(args.net[i]).resolve()), src["sha256"], src["dataset"], args.data_dir, args.limit,
                 None if run_layers is None else tuple(run_layers), args.thresholds, args.read_errors)
                for (i, run_layers, _), src in zip(runs, sources)]
        results = sweep_shards.sweep(keys, [r[2] for r in runs], points, args.trials, args.seed,
                                     args.scheduler, args.workers)
    else:
        results = []
        bar = tqdm(total=len(runs) * args.trials * len(points), unit="trial", desc="sweep")
        for i, run_layers, label in runs:
            x, y = data[dsets[i % len(dsets)]].test_subset(args.limit)
            camp = campaign_for(nets[i], x, y, run_layers, thresholds=args.thresholds, read_errors=args.read_errors)
            results.append(sw.run(camp, label, points, args.trials, args.seed, progress=bar.update))
        bar.close()
    doc = sw.document(results, args.seed, "read" if args.read_errors else "write", args.thresholds,
                      None if args.per_layer else layers, sources, per_layer=args.per_layer)
    if (args.memory or "stmram") != "stmram":
        doc["memory"] = args.memory
    with od:
        od.write("sweep.csv", sw.csv_text(results, args.seed, sources))
        od.write("sweep.json", json.dumps(doc, indent=1) + "\n")
        od.write("sweep.md", sw.markdown(doc))
        sw.plot(doc, od.stage("sweep.png"))
        od.commit()
    for s in doc["nets"]:
        print(f"sweep: {s['label']}: error-free {s['clean_accuracy']:.4f}, tolerated BER "
              f"{s['tolerated_ber']} (mean within 1 point)")
    print(f"sweep: {args.out}/sweep.csv, sweep.json, sweep.md, sweep.png")


SYNTH_FILES = ["synth.json", "stat.txt", "stat.json", "yosys.log", "synth.ys"]


def synth(args):
    import shutil
    import tempfile
    from bnnmram.hdl.generate import load_manifest
    from .synth import synthesize, yosys_binary
    od = OutputDir(args.out, "synth", SYNTH_FILES).check()
    man = load_manifest(args.rtl)
    yosys_binary()
    boxes = [] if args.keep_mram else [l["mram_module"] for l in man["layers"] if "mram_module" in l]
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix=".synth-", dir=outputs.make_dir(out)))
    with od:
        r = synthesize(Path(args.rtl) / man["verilog"], man["top"], work, args.target, boxes)
        r["mram_bits"] = man["mram_bits"]
        for name in SYNTH_FILES[1:]:
            os.replace(work / name, od.stage(name))
        od.write("synth.json", json.dumps(r, indent=1) + "\n")
        od.commit()
    shutil.rmtree(work, ignore_errors=True)
    key = {"generic": "transistors", "ice40": "lut4", "xilinx": "lut"}[args.target]
    print(f"synth: {args.target}: {r['cells']} cells, {key} {r[key]}, flip-flops {r['flip_flops']}, "
          f"MRAM bits {r['mram_bits']} (black box) in {r['yosys_seconds']} s -> {out / 'synth.json'}")


def _net_label(net, dataset):
    tb = net.meta.get("train_ber", 0)
    tb = tb if isinstance(tb, (int, float)) and not isinstance(tb, bool) else 0
    return f"{dataset} {netfile.describe_arch(net)}" + (f", error-aware {tb:g}" if tb else "")
