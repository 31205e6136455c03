"""Generated Verilog is `verilator --lint-only -Wall` clean with the shipped waivers only,
for the demo net and every kind of folding (one-word memories, one-bit SIMD, deep reads).
conftest.py lints the RTL of every other test's `bnnmram gen` too."""
import pytest

from bnnmram.cosim.lint import lint
from bnnmram.gen.cli import main
from nets import save_random_net

FOLDINGS = [
    ("784-256-256-256-10", "pixel", []),                                  # demo net, default folding
    ("784-32-32-10", "pixel", []),
    ("64-32-10", "pixel", ["--pe", "1", "--simd", "1"]),                  # one bit a cycle
    ("64-32-10", "pixel", ["--fold", "0:32:64", "--fold", "1:10:32"]),     # one MRAM word a layer
    ("64-32-10", "binarized", ["--fold", "0:1:64", "--fold", "1:1:32", "--mram-read-latency", "3"]),
    ("64-32-10", "pixel", ["--fold", "0:32:1", "--fold", "1:10:1", "--mram-hash-lanes", "1"]),
    ("64-48-10", "pixel", ["--fold", "0:4:16", "--fold", "1:2:12", "--mram-hash-lanes", "4",
                           "--mram-init", "1", "--mram-write-cycles", "9"]),
]


@pytest.mark.parametrize("arch,kind,flags", FOLDINGS, ids=[f"{a}-{k}-{'_'.join(f) or 'default'}"
                                                         for a, k, f in FOLDINGS])
def test_generated_verilog_is_lint_clean(tmp_path, arch, kind, flags):
    net = save_random_net(tmp_path / "net.json", [int(v) for v in arch.split("-")], kind=kind)
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(net), "--out", str(tmp_path / "rtl"), *flags])
    assert e.value.code == 0
    assert lint(tmp_path / "rtl") == []


def test_lint_catches_a_warning(tmp_path):
    """The check can fail: a 0-bit wire, as Amaranth emits for a one-value counter, is flagged."""
    net = save_random_net(tmp_path / "net.json", [64, 32, 10])
    rtl = tmp_path / "rtl"
    with pytest.raises(SystemExit):
        main(["gen", "--net", str(net), "--out", str(rtl)])
    v = rtl / "bnn_accel.v"
    v.write_text(v.read_text().replace("module bnn_accel(", "module bnn_accel(", 1)
                 .replace("\nendmodule", "\n  wire [-1:0] zero_width;\nendmodule", 1))
    assert any("ASCRANGE" in line for line in lint(rtl))
