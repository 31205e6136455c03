"""`bnnmram synth`: Yosys area of the generated logic, MRAM macros as black boxes (gen.yosys)."""
import json
import os
from pathlib import Path

from bnnmram.models.errors import BnnMramError

from .. import outputs
from ..outputs import OutputDir


def add_parser(sub):
    p = sub.add_parser("synth", help="Yosys area of the generated logic (MRAM macros as black boxes)")
    p.add_argument("--rtl", required=True)
    p.add_argument("--target", choices=("generic", "ice40", "xilinx", "asic"), default="generic",
                   help="asic: OSU 0.18 um cells, OpenSTA timing and power, macro area from the memory model (docs/asic.md)")
    p.add_argument("--keep-mram", action="store_true", help="synthesize the behavioural MRAM macros too")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


SYNTH_FILES = ["synth.json", "stat.txt", "stat.json", "yosys.log", "synth.ys"]
ASIC_FILES = SYNTH_FILES + ["mapped.v", "macros.lib", "sta_trial.txt", "sta_fmax.txt"]


def run(args):
    import shutil
    import tempfile
    from bnnmram.hdl.generate import load_manifest
    from ..yosys import synthesize, yosys_binary
    asic = args.target == "asic"
    files = ASIC_FILES if asic else SYNTH_FILES
    od = OutputDir(args.out, "synth", files).check()
    man = load_manifest(args.rtl)
    yosys_binary()
    if asic:
        from ..asic import liberty, sta_binary
        liberty()
        sta_binary()
        if args.keep_mram:
            raise BnnMramError("--keep-mram: the asic target keeps the memory macros as black boxes "
                               "(their area comes from the memory model)")
    boxes = [] if args.keep_mram else [l["mram_module"] for l in man["layers"] if "mram_module" in l]
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix=".synth-", dir=outputs.make_dir(out)))
    with od:
        if asic:
            from ..asic import synthesize_asic
            r = synthesize_asic(Path(args.rtl) / man["verilog"], man, work)
        else:
            r = synthesize(Path(args.rtl) / man["verilog"], man["top"], work, args.target, boxes)
        r["mram_bits"] = man["mram_bits"]
        for name in files[1:]:
            os.replace(work / name, od.stage(name))
        od.write("synth.json", json.dumps(r, indent=1) + "\n")
        od.commit()
    shutil.rmtree(work, ignore_errors=True)
    if asic:
        print(f"synth: asic (OSU 0.18 um): {r['cells']} cells, logic {r['logic_area_um2']:,.0f} um^2 + memory "
              f"{r['memory_area_um2']:,.0f} um^2 = die {r['die_area_um2']:,.0f} um^2; critical path "
              f"{r['critical_path_ns']} ns, Fmax {r['fmax_mhz']} MHz ({r['limited_by']}), slack at Fmax "
              f"{r['slack_at_fmax_ns']} ns; {r['images_per_second']:,.0f} images/s; power "
              f"{(r['power_w'] or {}).get('total', float('nan')) * 1e3:.2f} mW at activity {r['activity']} -> {out / 'synth.json'}")
        return
    key = {"generic": "transistors", "ice40": "lut4", "xilinx": "lut"}[args.target]
    print(f"synth: {args.target}: {r['cells']} cells, {key} {r[key]}, flip-flops {r['flip_flops']}, "
          f"MRAM bits {r['mram_bits']} (black box) in {r['yosys_seconds']} s -> {out / 'synth.json'}")
