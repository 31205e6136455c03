"""`bnnmram synth --target asic`: the generated logic mapped to a real standard-cell library
(OSU 0.18 um, Debian's qflow-tech-osu018) with Yosys and ABC, its timing and power from OpenSTA
(Debian's opensta) on the mapped netlist; the memory macros stay black boxes with a timing stub
(`macro_liberty`) and their area from the memory technology's model (docs/asic.md).

Steps: Yosys `synth -flatten`, `dfflibmap`, delay-driven `abc -D` with buffering and sizing,
`insbuf`; then `buffer_fanout` gives every flip-flop output with more than MAX_FANOUT loads a
buffer tree (Yosys has no such pass and ABC sees flip-flop outputs as primary inputs); then
OpenSTA at a trial period, and again at the period the critical path gives (Fmax), which must
meet timing."""
import re
import shutil
import subprocess
from pathlib import Path

from bnnmram.models.errors import BnnMramError

LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
LIB_NAME = "osu018_stdcells.lib"
NODE_NM = 180
BUFFER, BUFFER_IN, BUFFER_OUT = "BUFX4", "A", "Y"
MAX_FANOUT = 8
OUTPUT_PINS = {"Y", "Q", "YC", "YS"}     # the OSU018 cells' outputs
TRIAL_PERIOD_NS = 50.0
ABC_DELAY_PS = 5000
ACTIVITY = 0.1          # switching activity of every net per clock cycle (dynamic power assumption)
MACRO_CLK_TO_Q_NS = 0.5  # the black-box macros: read data registered inside, launched at the clock
MACRO_SETUP_NS = 0.2     # and their inputs captured at it
OUTPUT_LOAD_PF = 0.01


def liberty() -> Path:
    if not LIBERTY.is_file():
        raise BnnMramError(f"the OSU 0.18 um cell library {LIBERTY} is missing: install it with "
                           "'apt-get install qflow-tech-osu018' (or run 'make setup')")
    return LIBERTY


def sta_binary() -> str:
    exe = shutil.which("sta")
    if not exe:
        raise BnnMramError("OpenSTA (sta) not found: install it with 'apt-get install opensta' (or run 'make setup')")
    return exe


def yosys_script(verilog: str, top: str, blackboxes: list[str]) -> str:
    lines = [f"read_verilog -sv {verilog}"]
    if blackboxes:
        lines.append("blackbox " + " ".join("\\" + b for b in blackboxes))
    d = ABC_DELAY_PS
    lines += [f"hierarchy -top {top}", f"synth -flatten -top {top}", f"dfflibmap -liberty {LIB_NAME}",
              f"abc -D {d} -liberty {LIB_NAME} -script +strash;ifraig;scorr;dc2;dretime;strash;&get,-n;&dch,-f;"
              f"&nf,-D,{d};&put;buffer,-p,-N,{MAX_FANOUT};upsize,-D,{d};dnsize,-D,{d};stime,-p",
              "opt_clean -purge", "insbuf -buf BUFX2 A Y", "delete t:$scopeinfo", "opt_clean", "setundef -zero",
              f"tee -q -o stat.json stat -json -liberty {LIB_NAME}", f"tee -q -o stat.txt stat -liberty {LIB_NAME}",
              "write_verilog -noattr -noexpr mapped.v"]
    return "\n".join(lines) + "\n"


_INSTANCE = re.compile(r"^  (\S+) (\S+) \(\n(.*?)\n  \);\n", re.S | re.M)
_PIN = re.compile(r"^    \.(\w+)\((.*)\),?$", re.M)


def buffer_fanout(text: str, sequential=("DFFPOSX1", "DFFNEGX1", "DFFSR"), max_fanout: int = MAX_FANOUT) -> tuple[str, int]:
    """Buffer trees (BUFX4, at most `max_fanout` loads each) on every flip-flop output net that
    drives more than `max_fanout` cell inputs; returns (netlist, buffers added). Loads connected
    through a concatenation (the macros' bus pins) stay on the original net."""
    instances = [(m.start(), m.end(), m.group(1), m.group(2), _PIN.findall(m.group(3))) for m in _INSTANCE.finditer(text)]
    drivers = {net: cell for _, _, cell, _, pins in instances if cell in sequential
               for pin, net in pins if pin in OUTPUT_PINS}
    sinks: dict[str, list[tuple[int, int]]] = {}
    for k, (_, _, cell, _, pins) in enumerate(instances):
        for j, (pin, net) in enumerate(pins):
            if pin not in OUTPUT_PINS and pin != "CLK" and net in drivers:
                sinks.setdefault(net, []).append((k, j))
    new_wires, buffers, rename = [], [], {}
    count = 0
    for net, loads in sinks.items():
        if len(loads) <= max_fanout:
            continue
        level = [(net, loads)]
        while level:   # split the loads into groups, each driven by a buffer from the source net
            src, group_loads = level.pop()
            groups = [group_loads[i:i + max_fanout] for i in range(0, len(group_loads), max_fanout)]
            if len(groups) > max_fanout:   # a deeper tree: buffers driving buffers
                chunk = -(-len(group_loads) // max_fanout)
                groups = [group_loads[i:i + chunk] for i in range(0, len(group_loads), chunk)]
            for g in groups:
                count += 1
                wire = f"_fanout{count}_"
                new_wires.append(f"  wire {wire};")
                buffers.append(f"  {BUFFER} _fanoutbuf{count}_ (\n    .{BUFFER_IN}({src}),\n    .{BUFFER_OUT}({wire})\n  );")
                if len(g) > max_fanout:
                    level.append((wire, g))
                else:
                    for k, j in g:
                        rename[(k, j)] = wire
    if not count:
        return text, 0
    out, pos = [], 0
    for k, (start, end, cell, name, pins) in enumerate(instances):
        if not any((k, j) in rename for j in range(len(pins))):
            continue
        out.append(text[pos:start])
        body = ",\n".join(f"    .{pin}({rename.get((k, j), net)})" for j, (pin, net) in enumerate(pins))
        out.append(f"  {cell} {name} (\n{body}\n  );\n")
        pos = end
    out.append(text[pos:])
    text = "".join(out)
    cut = text.index(";\n", text.index("\nmodule ") if "\nmodule " in text else text.index("module ")) + 2
    end = text.rindex("endmodule")
    text = text[:cut] + "\n".join(new_wires) + "\n" + text[cut:end] + "\n".join(buffers) + "\n" + text[end:]
    return text, count


def module_ports(verilog_text: str, module: str) -> list[tuple[str, str, int]]:
    """(name, direction, width) of a module's ports in Amaranth's Verilog."""
    m = re.search(r"^module \\?" + re.escape(module) + r" \(.*?\);\n(.*?)^endmodule", verilog_text, re.S | re.M)
    if not m:
        raise BnnMramError(f"module {module} not found in the RTL")
    return [(name, d, int(w) + 1 if w else 1)
            for d, w, name in re.findall(r"^  (input|output) (?:\[(\d+):0\] )?(\S+);", m.group(1), re.M)]


def macro_liberty(macros: dict[str, tuple[list, float]]) -> str:
    """A liberty library of the black-box macros {module: (ports, area um^2)}: every input set up
    MACRO_SETUP_NS before the clock, every output launched MACRO_CLK_TO_Q_NS after it (their
    read data is registered inside; the memory's own access time is a separate bound)."""
    head = ['library (bnnmram_macros) {', '  delay_model : table_lookup;', '  time_unit : "1ns";',
            '  voltage_unit : "1V";', '  current_unit : "1mA";', '  capacitive_load_unit (1,pf);',
            '  leakage_power_unit : "1nW";', '  pulling_resistance_unit : "1kohm";']
    head += [f"  {k}_{d} : {v};" for d in ("rise", "fall") for k, v in
             (("input_threshold_pct", 50), ("output_threshold_pct", 50),
              ("slew_lower_threshold_pct", 20), ("slew_upper_threshold_pct", 80))]
    widths, cells = set(), []
    setup = (f'timing () {{ related_pin : "clk"; timing_type : setup_rising; rise_constraint (scalar) '
             f'{{ values ("{MACRO_SETUP_NS}"); }} fall_constraint (scalar) {{ values ("{MACRO_SETUP_NS}"); }} }}')
    launch = (f'timing () {{ related_pin : "clk"; timing_type : rising_edge; cell_rise (scalar) {{ values '
              f'("{MACRO_CLK_TO_Q_NS}"); }} cell_fall (scalar) {{ values ("{MACRO_CLK_TO_Q_NS}"); }} rise_transition '
              f'(scalar) {{ values ("0.1"); }} fall_transition (scalar) {{ values ("0.1"); }} }}')
    for module, (ports, area) in macros.items():
        cells.append(f'  cell ("{module}") {{')
        cells.append(f"    area : {area:.1f};")
        for name, d, w in ports:
            kind = "pin" if w == 1 else "bus"
            if w > 1:
                widths.add(w)
            body = f"{kind} ({name}) {{" + (f" bus_type : bus{w};" if w > 1 else "") + f" direction : {d};"
            if name == "clk":
                cells.append(f"    {body} clock : true; capacitance : 0.01; }}")
            elif d == "input":
                cells.append(f"    {body} capacitance : 0.01; {setup} }}")
            else:
                cells.append(f"    {body} {launch} }}")
        cells.append("  }")
    types = [f"  type (bus{w}) {{ base_type : array; data_type : bit; bit_width : {w}; bit_from : {w - 1}; "
             f"bit_to : 0; downto : true; }}" for w in sorted(widths)]
    return "\n".join(head + types + cells + ["}"]) + "\n"


def sta_script(top: str, period_ns: float, macros: bool) -> str:
    return "\n".join([
        f"read_liberty {LIB_NAME}", *(["read_liberty macros.lib"] if macros else []),
        "read_verilog mapped.v", f"link_design {top}",
        f"create_clock -name clk -period {period_ns:.4f} [get_ports clk]",
        "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]",
        "set_output_delay 0 -clock clk [all_outputs]",
        f"set_load {OUTPUT_LOAD_PF} [all_outputs]",
        "report_worst_slack -digits 4",
        "report_checks -path_delay max -digits 3",
        f"set_power_activity -global -activity {ACTIVITY}",
        "report_power -digits 4", "exit", ""])


def run_sta(work: Path, top: str, period_ns: float, macros: bool, name: str) -> dict:
    """OpenSTA at `period_ns`: worst slack (ns), the critical path text, power (W)."""
    (work / f"{name}.tcl").write_text(sta_script(top, period_ns, macros))
    proc = subprocess.run([sta_binary(), "-no_splash", f"{name}.tcl"], cwd=work, capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    (work / f"{name}.txt").write_text(text)
    errors = [l for l in text.splitlines() if l.startswith("Error")]
    m = re.search(r"worst slack (-?[\d.]+)", text)
    if proc.returncode or errors or not m:
        raise BnnMramError(f"OpenSTA failed on the mapped netlist: {(errors or [text.strip()[-200:]])[0]} "
                           f"(log: {work / (name + '.txt')})")
    power = re.search(r"^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    path = text[text.index("Startpoint"):text.index("slack (")].strip() if "Startpoint" in text else ""
    return {"period_ns": period_ns, "worst_slack_ns": float(m.group(1)), "critical_path": path,
            "power_w": {k: float(v) for k, v in zip(("internal", "switching", "leakage", "total"), power.groups())}
            if power else None}


ARRAY_EFFICIENCY = 0.7      # cell area / macro area (decoders, sense amplifiers, drivers): an assumption
MACRO_BER = 1e-6            # the programming condition whose cell size the macro area assumes
MODERN_NODE_NM = 28         # the scaled estimate (the seed's BNN-MRAM chips are 28 nm class)


def macro_area(man: dict) -> dict:
    """Each macro's area from the memory technology's cell model: bits x cell area / ARRAY_EFFICIENCY,
    at the memory's own node and scaled (F^2) to the logic's NODE_NM."""
    from bnnmram.models.memory import technology
    from bnnmram.hdl.generate import memory_of
    tech = technology(memory_of(man))
    f2, um2 = tech.cell_area(tech.condition_for_ber(MACRO_BER))
    f_nm = (um2 / f2) ** 0.5 * 1000
    out = {}
    for l in man["layers"]:
        if "mram_module" not in l:
            continue
        bits = l["mram_words"] * l["mram_word_bits"]
        native = bits * um2 / ARRAY_EFFICIENCY
        out[l["mram_module"]] = {"bits": bits, "um2_native": native, "um2_at_logic_node": native * (NODE_NM / f_nm) ** 2}
    return {"technology": tech.name, "cell_f2": f2, "cell_um2": um2, "node_nm": round(f_nm, 1), "macros": out}


def synthesize_asic(verilog: Path, man: dict, work: Path) -> dict:
    """The whole ASIC estimate in `work` (files: synth.ys, yosys.log, stat.*, mapped.v, macros.lib,
    sta_trial.txt, sta_fmax.txt): see the module docstring and docs/asic.md."""
    import json
    import time
    from .yosys import _run_yosys
    lib = liberty()
    sta_binary()
    t0 = time.time()
    boxes = [l["mram_module"] for l in man["layers"] if "mram_module" in l]
    shutil.copy(lib, work / LIB_NAME)
    shutil.copy(verilog, work / verilog.name)
    print(f"synth: asic: Yosys + ABC to {LIB_NAME} ({NODE_NM} nm), macros as black boxes", flush=True)
    _run_yosys(work, yosys_script(verilog.name, man["top"], boxes))
    text, buffers = buffer_fanout((work / "mapped.v").read_text())
    (work / "mapped.v").write_text(text)
    mem = macro_area(man)
    rtl_text = verilog.read_text()
    (work / "macros.lib").write_text(macro_liberty(
        {b: (module_ports(rtl_text, b), mem["macros"][b]["um2_at_logic_node"]) for b in boxes}))
    print(f"synth: asic: {buffers} fan-out buffers; OpenSTA at a trial period of {TRIAL_PERIOD_NS} ns", flush=True)
    trial = run_sta(work, man["top"], TRIAL_PERIOD_NS, bool(boxes), "sta_trial")
    logic_ns = TRIAL_PERIOD_NS - trial["worst_slack_ns"]
    memory_ns = _memory_access_ns(man)
    period = max(logic_ns, memory_ns)
    period = float(f"{period + 0.005:.2f}")   # rounded up to 10 ps
    print(f"synth: asic: critical path {logic_ns:.3f} ns (memory access bound {memory_ns:.2f} ns); OpenSTA at "
          f"{period} ns", flush=True)
    fmax = run_sta(work, man["top"], period, bool(boxes), "sta_fmax")
    stat = json.loads((work / "stat.json").read_text())
    design = stat["design"]
    cells = {k: v for k, v in design.get("num_cells_by_type", {}).items() if k not in mem["macros"]
             and k.lstrip("\\") not in mem["macros"]}
    logic_um2 = float(design.get("area", 0.0))
    seq_um2 = float(design.get("sequential_area", 0.0)) if "sequential_area" in design else None
    mem_180 = sum(m["um2_at_logic_node"] for m in mem["macros"].values())
    f_mhz = 1000.0 / period
    cpi = man["cycles_per_image"]
    power = fmax["power_w"] or {}
    scale = (MODERN_NODE_NM / NODE_NM)
    return {
        "target": "asic", "library": str(lib), "node_nm": NODE_NM, "top": man["top"], "black_boxes": boxes,
        "cells": int(sum(cells.values())), "cells_by_type": cells, "fanout_buffers": buffers,
        "logic_area_um2": round(logic_um2, 1), "sequential_area_um2": seq_um2,
        "memory": mem, "memory_area_um2": round(mem_180, 1), "die_area_um2": round(logic_um2 + mem_180, 1),
        "critical_path_ns": round(logic_ns, 3), "memory_access_ns": memory_ns,
        "clock_period_ns": period, "fmax_mhz": round(f_mhz, 2),
        "limited_by": "logic" if logic_ns >= memory_ns else "memory access",
        "slack_at_fmax_ns": fmax["worst_slack_ns"], "timing_met": fmax["worst_slack_ns"] >= 0,
        "critical_path": fmax["critical_path"],
        "activity": ACTIVITY, "power_w": power,
        "cycles_per_image": cpi, "images_per_second": round(f_mhz * 1e6 / cpi, 1),
        "logic_energy_per_image_nj": round(power.get("total", 0.0) * cpi / (f_mhz * 1e6) * 1e9, 3) if power else None,
        "scaled": {"node_nm": MODERN_NODE_NM, "area_factor": round(scale ** 2, 5), "delay_factor": round(scale, 4),
                   "logic_area_um2": round(logic_um2 * scale ** 2, 1),
                   "memory_area_um2": round(sum(m["um2_native"] for m in mem["macros"].values())
                                            * (MODERN_NODE_NM / mem["node_nm"]) ** 2, 1),
                   "fmax_mhz": round(min(1000.0 / logic_ns / scale, 1000.0 / memory_ns), 1),
                   "images_per_second": round(min(1000.0 / logic_ns / scale, 1000.0 / memory_ns) * 1e6 / cpi, 1),
                   "rule": "ideal (Dennard) scaling, an estimate: area x (28/180)^2, logic delay x 28/180 (the memory "
                           "access time does not scale: Fmax is still bounded by it); the memory cells from their "
                           "own node by F^2"},
        "yosys_seconds": round(time.time() - t0, 1), "report": "stat.txt", "log": "yosys.log",
    }


def _memory_access_ns(man: dict) -> float:
    """The macros' read access time per clock: t_read / read_latency (the read must complete
    within read_latency cycles)."""
    from bnnmram.models.memory import technology
    from bnnmram.hdl.generate import memory_of
    tech = technology(memory_of(man))
    return round(tech.read_time_ns(tech.condition_for_ber(MACRO_BER)) / man["mram"]["read_latency"], 3)
