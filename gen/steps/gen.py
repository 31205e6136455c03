"""`bnnmram gen`: the accelerator's Verilog, lint waivers and manifest for a net and a folding."""
import time
from pathlib import Path

from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import netfile

from .. import outputs
from ..outputs import OutputDir
from ..args import MEMORIES, fold, positive


def add_parser(sub):
    p = sub.add_parser("gen", help="generate the accelerator's Verilog and manifest")
    p.add_argument("--net", required=True)
    p.add_argument("--pe", type=positive, default=None, help="PE for every layer (default: balanced)")
    p.add_argument("--simd", type=positive, default=None, help="SIMD for every layer (default: balanced)")
    p.add_argument("--fold", type=fold, action="append", metavar="LAYER:PE:SIMD", help="per-layer folding override")
    p.add_argument("--mram-read-latency", type=positive, default=1, help="MRAM read latency, cycles")
    p.add_argument("--mram-write-cycles", type=positive, default=4, help="MRAM programming pulse, cycles")
    p.add_argument("--mram-init", type=int, choices=(0, 1), default=0, help="MRAM content before programming")
    p.add_argument("--mram-hash-lanes", type=positive, default=None,
                   help="fault hashes per cycle while programming; must divide every layer's SIMD "
                        "(default: the largest divisor of each SIMD up to 8)")
    p.add_argument("--mram-hash-stages", type=int, default=0, metavar="S",
                   help="pipeline the write-error hash over S cycles (0..8, default 0: one cycle); each "
                        "write's pulse lasts at least PE*SIMD/lanes + S cycles. For FPGA emulation at "
                        "speed (bnnmram pnr): 4 gives two ARX rounds per cycle")
    p.add_argument("--datapath-stage", action="store_true",
                   help="one more register per layer for a faster clock: hidden layers register their PE "
                        "partial sums before the accumulators, the output layer its class and scores before "
                        "the FIFO; +1 latency cycle per layer, cycles per image unchanged")
    p.add_argument("--mram-shared-readback", action="store_true",
                   help="read-back (dump_*) through each macro's write-path port instead of its own: valid "
                        "only while programming is idle (prog_busy and prog__valid low), one read-write "
                        "port per array, so bnnmram pnr maps each array to one block-RAM copy instead of "
                        "three (FPGA emulation of large nets)")
    p.add_argument("--memory", choices=MEMORIES, default=None,
                   help="weight memory macro: stmram (default; rram for a Bayesian net), rram (HfO2 1T1R), "
                        "rram2t2r (HfO2 2T2R, PCSA)")
    p.add_argument("--xnor-in-memory", action="store_true",
                   help="rram2t2r: the sense amplifier computes XNOR(weight, input) for the layers with "
                        "bit inputs, and the MVTU skips its XNOR gates")
    p.add_argument("--bus", choices=("native", "axis"), default="native",
                   help="top-level streams: native valid/ready (default) or AXI4-Stream (s_axis images, "
                        "m_axis results, s_axis_prog programming, each with tlast, and a status output)")
    p.add_argument("--read-errors", action="store_true",
                   help="stmram: every inference read may be sensed inverted, at the run-time rate on "
                        "fault__t_read (docs/fault-model.md, 'Read errors at each inference'; one hash and "
                        "comparator per read bit)")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


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


def _layer_text(layer, fold) -> str:
    """A layer in gen's progress line: its arch token (dense: inputs x neurons) and folding."""
    if not layer.has_weights:
        return netfile.describe_layer(layer)
    name = netfile.describe_layer(layer) if layer.in_shape else f"{fold.n_in}x{fold.n_out}"
    return f"{name} PE={fold.pe} SIMD={fold.simd}"


def sampled_memory(args) -> str:
    """A Bayesian net's weights are levels of 1T1R RRAM cells programmed near their switching
    point, sampled at every read: --memory rram (the default for such a net), nothing else."""
    if args.memory not in (None, "rram"):
        raise BnnMramError(f"a Bayesian net samples its weights in 1T1R RRAM cells (--memory rram), "
                           f"not --memory {args.memory}")
    if args.xnor_in_memory:
        raise BnnMramError("a Bayesian net's macro reads levels, not bits: no --xnor-in-memory")
    return "rram"


def run(args):
    from bnnmram.hdl.net_folding import fold_net
    from bnnmram.hdl.generate import FILES, generate
    from bnnmram.hdl.memory.macro import check_xnor_in_memory
    from bnnmram.hdl.mram import MramParams, hash_lanes_for
    from bnnmram.hdl.fault_hash import stage_rounds
    out = Path(args.out)
    _check_rtl_folder(out, FILES)
    od = OutputDir(out, "gen", list(FILES)).check()
    if args.xnor_in_memory:   # refused before any work, with the macro's own check
        check_xnor_in_memory(args.memory or "stmram")
    stage_rounds(args.mram_hash_stages)
    net = netfile.load(args.net)
    memory = sampled_memory(args) if net.is_bayesian else args.memory or "stmram"
    if args.bus == "axis" and net.is_bayesian:
        raise BnnMramError("--bus axis: the AXI4-Stream bench checks one result per image; a Bayesian net's "
                           "T passes per image run on the native bus (omit --bus)")
    if args.mram_hash_stages and net.is_bayesian:
        raise BnnMramError("--mram-hash-stages: a Bayesian net's sampled macros program without the write-error "
                           "hash, so there is nothing to pipeline (omit the option)")
    if args.read_errors and (net.is_bayesian or memory != "stmram"):
        raise BnnMramError("--read-errors: read errors at each inference are built into ST-MRAM macros "
                           "(--memory stmram) of deterministic nets, not " +
                           ("a Bayesian net (its reads are samples already)" if net.is_bayesian else f"--memory {memory}"))
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
                                                 args.mram_init, args.mram_hash_lanes, memory,
                                                 args.xnor_in_memory, net.is_bayesian, args.read_errors,
                                                 args.mram_hash_stages, int(args.datapath_stage),
                                                 args.mram_shared_readback),
                           args.bus)
    with od:
        for name, text in files.items():
            od.write(name, text)
        od.commit()
    latency = (f"latency {man['latency_cycles']} cycles" if man["latency_cycles"] is not None
               else f"latency at most {man['latency_cycles_max']} cycles")
    print(f"gen: {out / man['verilog']} ({time.time() - t0:.1f} s): {man['cycles_per_image']} cycles/image "
          f"(analytic, steady state), {latency}, {man['mram_bits']} MRAM bits")
