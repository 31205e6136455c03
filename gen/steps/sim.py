"""`bnnmram sim`: co-simulate the RTL against the golden model (cocotb on Icarus or Verilator)."""
import dataclasses
import json
from pathlib import Path

from bnnmram.models.data import datasets
from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import netfile

from ..conditions import (check_net_matches, endurance_report, fault_setting, fault_text, memory_report,
                          refuse_samples, refuse_write_errors_with_sampling)
from ..outputs import OutputDir
from ..args import DATA_DIR_HELP, add_fault_args, add_memory_args, ber, dataset, per256, positive, samples, seed

DEFAULT_SAMPLES = 8   # passes per image of a Bayesian net


def add_parser(sub):
    p = sub.add_parser("sim", help="co-simulate the RTL against the golden model (cocotb)")
    p.add_argument("--rtl", required=True)
    p.add_argument("--net", required=True)
    p.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    p.add_argument("--dataset", type=dataset, default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--images", type=positive, default=100)
    add_fault_args(p)
    add_memory_args(p)
    p.add_argument("--stalls", action="store_true", help="random input idles and output backpressure")
    p.add_argument("--gap-rate", type=per256, default=None,
                   help="with --stalls: chance per cycle, in 256ths, that an input gap burst of 1..31 cycles starts (default 8)")
    p.add_argument("--stall-rate", type=per256, default=None,
                   help="with --stalls: the same for output stalls (default 12)")
    p.add_argument("--samples", type=samples, default=None, help="Bayesian nets: T passes per image, each "
                   f"image sent T times, every pass checked (default {DEFAULT_SAMPLES})")
    p.add_argument("--sample-seed", type=seed, default=0, help="Bayesian nets: the read-time sampling seed "
                   "(driven on fault__seed; default 0)")
    p.add_argument("--read-ber", type=ber, default=None, help="RTL built with 'gen --read-errors': the bit "
                   "error rate of every inference read (driven on fault__t_read; default 0)")
    p.add_argument("--waves", action="store_true", help="dump waveforms (VCD/FST) in the build folder")
    p.add_argument("--verbose", action="store_true", help="show the cocotb log")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


def stall_rates(args) -> dict:
    """The bench's pause-generator rates (cosim.wrapper defaults unless given with --stalls)."""
    from bnnmram.cosim.wrapper import GAP_PER_256, STALL_PER_256
    if (args.gap_rate is not None or args.stall_rate is not None) and not args.stalls:
        raise BnnMramError("--gap-rate and --stall-rate need --stalls")
    return {"gap_per256": GAP_PER_256 if args.gap_rate is None else args.gap_rate,
            "stall_per256": STALL_PER_256 if args.stall_rate is None else args.stall_rate}


def sample_count(args, net) -> int | None:
    """T for a Bayesian net (--samples or the default), None for a deterministic one."""
    refuse_samples(net, args.net, args.samples)
    if not net.is_bayesian:
        return None
    return DEFAULT_SAMPLES if args.samples is None else args.samples


def read_error_rate(args, man: dict) -> float | None:
    """The read BER of RTL built with read errors (--read-ber, default 0); None for RTL without."""
    if not man["mram"].get("read_errors", False):
        if args.read_ber is not None:
            raise BnnMramError(f"--read-ber needs RTL built with read errors: {args.rtl} was not; run "
                               "'bnnmram gen --read-errors'")
        return None
    return args.read_ber or 0.0


def run(args):
    from bnnmram.cosim import runner, tools, vectors
    from bnnmram.hdl.generate import load_manifest
    out = Path(args.out)
    files = ["sim.json", "vectors.npz", f"sim_config_{args.sim}.json", f"results_{args.sim}.xml"]
    rates = stall_rates(args)
    od = OutputDir(out, "sim", files).check()
    net = netfile.load(args.net)
    t = sample_count(args, net)
    man = load_manifest(args.rtl)
    memory = vectors.check_rtl_matches(net, man, args.rtl, args.memory)
    read_ber = read_error_rate(args, man)
    ds = datasets.load(args.dataset, args.data_dir)
    check_net_matches(net, ds)
    cfg, cond = fault_setting(args, memory)
    if net.is_bayesian:
        refuse_write_errors_with_sampling(cfg)
        cfg = dataclasses.replace(cfg, seed=args.sample_seed)
    if cfg.switch_only and cfg.init_state != man["mram"]["init_state"]:
        raise BnnMramError(f"--init-state {cfg.init_state} differs from the RTL's MRAM initial state "
                           f"{man['mram']['init_state']} (set at 'bnnmram gen --mram-init')")
    tools.prepare(args.sim)
    x, y = ds.test_subset(args.images)
    with od:
        vec = vectors.write(od.stage("vectors.npz"), net, x, y, cfg, t, read_ber)
        result_path = od.stage("sim.json")
        config = {"simulator": args.sim, "manifest": str(Path(args.rtl).resolve() / "manifest.json"),
                  "vectors": str(vec.resolve()), "result": str(result_path.resolve()),
                  "ber": args.ber, "seed": args.seed, "read_ber": read_ber, "stalls": args.stalls,
                  **rates,
                  "memory": memory_report(memory, cfg, cond)}
        print(f"sim: {args.sim}, {len(y)} images" + (f" x {t} passes (sampling seed {cfg.seed})" if t else "")
              + f", {memory}, {fault_text(cfg)}" + ("" if read_ber is None else f", read BER {read_ber:.3g}")
              + f"{' with stalls' if args.stalls else ''}", flush=True)
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
    if t:
        print(f"sim: {result['passes']} passes ({t} per image) bit-exact: predictive accuracy "
              f"{result['predictive_accuracy']:.4f} (golden {result['golden_predictive_accuracy']:.4f}), "
              f"{result['cycles_per_pass']} cycles/pass")
    e = result["endurance"]
    print(f"sim: write counters read back: {e['words']} words, at most {e['writes_per_word_max']} "
          f"write(s) each" + ("" if e["endurance_cycles"] is None else
                              f", {e['words_beyond_endurance']} beyond the endurance of "
                              f"{e['endurance_cycles']:.2g} cycles"))
    for w in result.get("waves", []):
        print(f"sim: waveforms {w}")
    return 0 if result["passed"] else 1
