"""The co-simulation top level `bnnmram_tb`: the generated accelerator plus what makes cocotb
cheap per cycle. The clock is generated in Verilog (no Python or VPI call per edge), and the
image and result streams move in batches: Python writes a batch of input words in one wide
port and wakes once when it has been sent; results collect in a wide port with the cycle each
one left, and Python wakes once per batch of results. Random input gaps and output stalls come
from LFSRs seeded by Python, so a stalled run still costs no Python per cycle.

Ports of bnnmram_tb seen by the testbench: the accelerator's own but its clock and its input
and output streams (reset, prog, prog_busy, prog_error, dump, fault: the manifest's names),
`clk` and `cycle` (outputs), the batch ports, and the pause generators' `stalls`, `stall_seed`,
`gap_per256` and `stall_per256` (the chance per cycle, in 256ths, that a burst of 1..31 idle
cycles starts; defaults GAP_PER_256 and STALL_PER_256).
"""
from .ports import Ports, port_width

TB_TOP = "bnnmram_tb"
CLOCK_HALF_NS = 5
BATCH_BITS = 65536   # input bits per batch at most


def batch_images(man: dict) -> int:
    """Images per batch: whole images, at most 64 kbit of input words and 16 images."""
    image_bits = man["input"]["words_per_image"] * port_width(man, man["streams"]["input"]["payload"])
    return max(1, min(16, BATCH_BITS // image_bits))


def _xorshift(name: str) -> str:
    """Verilog wires `<name>_next`: one xorshift32 step (13, 17, 5) of register `name`."""
    return (f"  wire [31:0] {name}_a = {name} ^ ({name} << 13);\n"
            f"  wire [31:0] {name}_b = {name}_a ^ ({name}_a >> 17);\n"
            f"  wire [31:0] {name}_next = {name}_b ^ ({name}_b << 5);")


GAP_PER_256 = 8      # default chance per cycle, in 256ths, that an input gap burst starts (about 30 % of cycles idle)
STALL_PER_256 = 12   # the same for output stalls (about 40 % of cycles)


def _ports_and_instance(man: dict, ports: Ports, iw: int, ow: int) -> tuple[list[str], str]:
    """The accelerator's own ports passed through (declarations) and its instance, every name
    from the manifest; the clock and the two data streams are the wrapper's."""
    own = {ports.clock, *vars(ports.input).values(), *vars(ports.output).values()}
    passthrough = [p for p in man["ports"] if p["name"] not in own]
    decl = [f"  {p['direction']} " + (f"[{p['width'] - 1}:0] " if p["width"] > 1 else "") + f"{p['name']}," for p in passthrough]
    conns = ",\n".join(f"    .{p['name']}({p['name']})" for p in passthrough)
    i, o = ports.input, ports.output
    instance = f"""  wire [{iw - 1}:0] inp_payload;
  wire inp_valid, inp_ready, out_valid, out_ready;
  wire [{ow - 1}:0] out_payload;
  {man["top"]} dut (
    .{ports.clock}(clk),
    .{i.payload}(inp_payload), .{i.valid}(inp_valid), .{i.ready}(inp_ready),
    .{o.payload}(out_payload), .{o.valid}(out_valid), .{o.ready}(out_ready),
{conns}
  );"""
    return decl, instance


def _batch_ports(iw: int, ow: int, words: int, results: int, wb: int, rb: int) -> str:
    return f"""  input  [{words * iw - 1}:0] src_data,     // a batch of input words, word k in bits [k*{iw}, (k+1)*{iw})
  input  [{wb - 1}:0] src_words,            // words in this batch
  input  [7:0] src_seq,                     // a new value starts the batch
  output reg [7:0] src_ack,                 // = src_seq once the batch has been sent
  input  [{rb - 1}:0] sink_results,         // results to collect in this batch
  input  [7:0] sink_seq,                    // a new value starts collecting
  output reg [7:0] sink_ack,                // = sink_seq once the batch is complete
  output reg [{results * ow - 1}:0] sink_data,    // result k in bits [k*{ow}, (k+1)*{ow})
  output reg [{results * 32 - 1}:0] sink_cycles,  // cycle of result k's transfer
  input  stalls,                            // random input gaps and output stalls
  input  [31:0] stall_seed,
  input  [7:0] gap_per256,                  // chance per cycle (/256) that an input gap burst starts
  input  [7:0] stall_per256,                // chance per cycle (/256) that an output stall burst starts
  output reg clk,
  output reg [31:0] cycle"""


def _pause_generators() -> str:
    """Input gaps and output stalls: two xorshift32 streams, each starting a burst of 1..31
    idle cycles with the chance its rate port gives (cocotbext-axi's pause generators, in
    Verilog so a stalled run costs no Python per cycle)."""
    return f"""  // xorshift32 streams: input gaps and output stalls, in bursts of 1..31 idle cycles
  reg [31:0] rnd_in, rnd_out;
{_xorshift("rnd_in")}
{_xorshift("rnd_out")}
  reg [4:0] gap_left, hold_left;
  wire gap = stalls && gap_left != 5'd0;
  wire hold = stalls && hold_left != 5'd0;"""


def _batch_logic(iw: int, ow: int, wb: int, rb: int) -> str:
    """The source sends src_words words of src_data; the sink stores sink_results results and
    their cycles; the pause generators count down and restart; rst clears everything."""
    return f"""  reg [{wb - 1}:0] src_idx;
  reg [{rb - 1}:0] sink_idx;
  wire src_busy = src_seq != src_ack;
  wire sink_busy = sink_seq != sink_ack;
  assign inp_valid = src_busy && !gap;
  assign inp_payload = src_data[src_idx * {iw} +: {iw}];
  assign out_ready = sink_busy && !hold;

  always @(posedge clk) begin
    cycle <= cycle + 32'd1;
    rnd_in <= rnd_in_next;
    rnd_out <= rnd_out_next;
    if (gap_left != 5'd0) gap_left <= gap_left - 5'd1;
    else if (rnd_in[7:0] < gap_per256) gap_left <= rnd_in[12:8] | 5'd1;
    if (hold_left != 5'd0) hold_left <= hold_left - 5'd1;
    else if (rnd_out[7:0] < stall_per256) hold_left <= rnd_out[12:8] | 5'd1;
    if (rst) begin
      gap_left <= 5'd0;
      hold_left <= 5'd0;
      src_idx <= 0;
      sink_idx <= 0;
      src_ack <= src_seq;
      sink_ack <= sink_seq;
      sink_data <= 0;
      sink_cycles <= 0;
      rnd_in <= stall_seed | 32'd1;
      rnd_out <= ~stall_seed | 32'd2;
      cycle <= 32'd0;
    end else begin
      if (inp_valid && inp_ready) begin
        if (src_idx == src_words - 1) begin
          src_idx <= 0;
          src_ack <= src_seq;
        end else
          src_idx <= src_idx + 1'b1;
      end
      if (out_valid && out_ready) begin
        sink_data[sink_idx * {ow} +: {ow}] <= out_payload;
        sink_cycles[sink_idx * 32 +: 32] <= cycle;
        if (sink_idx == sink_results - 1) begin
          sink_idx <= 0;
          sink_ack <= sink_seq;
        end else
          sink_idx <= sink_idx + 1'b1;
      end
    end
  end"""


def verilog(man: dict) -> str:
    """Verilog text of bnnmram_tb for the accelerator described by `man`."""
    ports = Ports.of(man)
    iw, ow = port_width(man, ports.input.payload), port_width(man, ports.output.payload)
    words = batch_images(man) * man["input"]["words_per_image"]
    results = batch_images(man)
    wb, rb = max(1, words.bit_length()), max(1, results.bit_length())
    decl, instance = _ports_and_instance(man, ports, iw, ow)
    return f"""`timescale 1ns/1ps
// Co-simulation top level for {man["top"]} (generated by bnnmram cosim/wrapper.py; not part of the RTL).
module {TB_TOP} (
{chr(10).join(decl)}
{_batch_ports(iw, ow, words, results, wb, rb)}
);
  initial clk = 1'b0;
  always #{CLOCK_HALF_NS} clk = ~clk;

{instance}

{_pause_generators()}

{_batch_logic(iw, ow, wb, rb)}
endmodule
"""
