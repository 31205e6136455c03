"""Verilog, lint waivers and manifest for one net + folding: the `bnnmram gen` step."""
import dataclasses
import json
import re
from pathlib import Path

from amaranth.back import verilog

from models import netfile
from models.errors import BnnMramError
from models.netfile import Net
from .accelerator import Accelerator
from .folding import LayerFold, cycles_per_image
from .mram import MramParams
from .mvtu import OUTPUT_FIFO_DEPTH, PIXEL_BITS, score_shape

TOP = "bnn_accel"
MANIFEST_VERSION = 1
FIFO_CYCLES = 2  # SyncFIFOBuffered: w_en in cycle c -> r_rdy in cycle c + 2

# Waivers for verilator --lint-only -Wall on Amaranth output, each with its reason.
LINT_WAIVERS = """\
`verilator_config
// Waivers for `verilator --lint-only -Wall` on Amaranth 0.5 output; every other warning stays on.
// Amaranth names every net and keeps helper wires it may not read in full (high bits of
// widened arithmetic, unused read-port outputs): harmless in generated code.
lint_off -rule UNUSEDSIGNAL
// Amaranth sizes arithmetic results by its own rules and truncates explicitly with slices;
// Verilog width inference then sees intentional width changes on assignment.
lint_off -rule WIDTHEXPAND
lint_off -rule WIDTHTRUNC
// Amaranth emits `case` statements over FSM states and switch values without `default`,
// after assigning the default value before the case: complete in effect.
lint_off -rule CASEINCOMPLETE
// Amaranth declares registers with their reset value (`reg x = 1'h0;`) and then assigns
// them in processes: the initial value is the intended power-on state.
lint_off -rule PROCASSINIT
// One Verilog file holds the whole hierarchy (`\\bnn_accel.layer0.mram` and so on).
lint_off -rule DECLFILENAME
"""


def latency_cycles(folds: list[LayerFold], read_latency: int) -> int:
    """Cycles from the edge that accepts an image's last input word to its result being valid
    on `out`, pipeline empty: per layer its NF*SF issue cycles, the MRAM read latency, one
    accumulate and one threshold/score cycle, and the output FIFO; plus one cycle to mark the
    pixel buffer full."""
    return 1 + sum(f.cycles + read_latency + FIFO_CYCLES + 1 for f in folds)


def _ports(text: str) -> list[dict]:
    header = text[text.index(f"module {TOP}("):]
    header = header[:header.index("endmodule")]
    ports = []
    for direction, rng, name in re.findall(r"^\s*(input|output)\s+(\[\d+:0\]\s+)?(\S+);", header, re.M):
        width = int(re.match(r"\[(\d+)", rng).group(1)) + 1 if rng else 1
        ports.append({"name": name, "direction": direction, "width": width})
    return ports


def manifest(net: Net, folds: list[LayerFold], top: Accelerator, text: str, params: dict) -> dict:
    out = net.layers[-1]
    sw = score_shape(out).width
    cls_bits = len(top.out.payload.cls)
    return {
        "format": "bnnmram-rtl", "version": MANIFEST_VERSION,
        "top": TOP, "verilog": f"{TOP}.v", "lint_waivers": "lint.vlt",
        "net_sha256": netfile.digest(net),
        "arch": net.arch,
        "ports": _ports(text),
        "clock": "clk", "reset": "rst (synchronous, active high)",
        "input": {"port": "inp__payload", "pixels_per_word": folds[0].simd, "pixel_bits": PIXEL_BITS,
                  "words_per_image": folds[0].sf,
                  "layout": "pixel k of a word in bits [8k, 8k+8); words in row-major pixel order"},
        "output": {"port": "out__payload", "class_bits": cls_bits, "classes": out.n_out,
                   "score_bits": sw, "layout": "class in bits [0, class_bits); score j, two's "
                   "complement, in bits [class_bits + j*score_bits, class_bits + (j+1)*score_bits)"},
        "prog": {"port": "prog__payload", "layer_bits": top.layer_bits, "addr_bits": top.addr_bits,
                 "data_bits": top.data_bits,
                 "layout": "layer in bits [0, layer_bits), addr next, then data (word of the layer's "
                           "MRAM, bit p*SIMD+s = weight of neuron nf*PE+p, input sf*SIMD+s at "
                           "addr nf*SF+sf; 1 codes +1)"},
        "fault_ports": {"seed": "fault__seed", "t01": "fault__t01", "t10": "fault__t10",
                        "switch_only": "fault__switch_only",
                        "threshold": "T = round(rate * 2**32), 33 bits; see docs/fault-model.md"},
        "mram": params,
        "output_fifo_depth": OUTPUT_FIFO_DEPTH,
        "layers": [{"index": i, "n_in": f.n_in, "n_out": f.n_out, "input": l.input,
                    "pe": f.pe, "simd": f.simd, "nf": f.nf, "sf": f.sf, "cycles": f.cycles,
                    "mram_words": f.words, "mram_word_bits": f.word_bits,
                    "mram_module": f"{TOP}.layer{i}.mram"}
                   for i, (l, f) in enumerate(zip(net.layers, folds))],
        "cycles_per_image": cycles_per_image(folds),
        "latency_cycles": latency_cycles(folds, params["read_latency"]),
        "mram_bits": sum(l.n_in * l.n_out for l in net.layers),
    }


def load_manifest(rtl_dir) -> dict:
    """The manifest of generated RTL, or a one-line error saying how to make it."""
    path = Path(rtl_dir) / "manifest.json"
    if not path.is_file():
        raise BnnMramError(f"{path} not found: generate the RTL with 'bnnmram gen --out {rtl_dir}'")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BnnMramError(f"{path} is corrupt: {e}") from None


def generate(net: Net, folds: list[LayerFold], out_dir, mram: MramParams = MramParams()) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = Accelerator(net, folds, mram)
    text = verilog.convert(top, name=TOP, emit_src=False)
    (out_dir / f"{TOP}.v").write_text(text)
    (out_dir / "lint.vlt").write_text(LINT_WAIVERS)
    params = dict(dataclasses.asdict(mram), pulse_cycles=[u.mram.pulse_cycles for u in top.units],
                  lanes=[u.mram.lanes for u in top.units])
    man = manifest(net, folds, top, text, params)
    (out_dir / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")
    return man
