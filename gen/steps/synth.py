"""`bnnmram synth`: Yosys area of the generated logic, MRAM macros as black boxes (gen.yosys)."""
import json
import os
from pathlib import Path

from .. import outputs
from ..outputs import OutputDir


def add_parser(sub):
    p = sub.add_parser("synth", help="Yosys area of the generated logic (MRAM macros as black boxes)")
    p.add_argument("--rtl", required=True)
    p.add_argument("--target", choices=("generic", "ice40", "xilinx"), default="generic")
    p.add_argument("--keep-mram", action="store_true", help="synthesize the behavioural MRAM macros too")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


SYNTH_FILES = ["synth.json", "stat.txt", "stat.json", "yosys.log", "synth.ys"]


def run(args):
    import shutil
    import tempfile
    from bnnmram.hdl.generate import load_manifest
    from ..yosys import synthesize, yosys_binary
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
