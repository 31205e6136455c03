"""The flow steps of `bnnmram`, one module each: its parser (`add_parser(sub)`) and its run
(`run(args)`). Building the parser imports every step module, so a step imports what its run
needs inside `run` when that is heavy (torch, Amaranth, cocotb).

    train -> net.json      infer -> scores      gen -> RTL + manifest     sim -> sim.json
    sweep -> accuracy vs BER   regress -> a matrix of sims on Dask   synth -> area   energy -> table
    import: QONNX -> net.json   export: net.json -> QONNX   pnr: FPGA place and route
    demo: all of them with defaults, and a report
"""
import argparse
import importlib

from ..args import Parser

FLOW = ("train", "infer", "gen", "sim", "sweep", "regress", "synth", "energy")   # demo runs these
STEPS = FLOW + ("pnr", "import_net", "export_net", "demo")   # modules; import_net and export_net are `import` and `export`


def flow_parser(prog="bnnmram", description=None, steps=FLOW) -> argparse.ArgumentParser:
    """The parser of the given steps' subcommands."""
    p = Parser(prog=prog, description=description)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in steps:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return p


def step_function(args):
    """The run of the parsed subcommand (looked up when called, so a test may wrap it)."""
    return importlib.import_module(args.step).run


def run_step(argv) -> int:
    """Run one flow subcommand in-process (demo, regress, benchmarks); return its exit code."""
    args = flow_parser(steps=STEPS).parse_args([str(a) for a in argv])
    return step_function(args)(args) or 0
