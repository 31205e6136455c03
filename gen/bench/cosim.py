"""Co-simulation speed benchmark on the demo nets (the MLP and the conv net), side by side in
one run: Icarus, Verilator as cocotb's runner builds it by default (--public-flat-rw),
Verilator as bnnmram builds it, and the same Verilator RTL under the plain C++ harness
(cosim/harness, no cocotb): the simulator's own limit. Every run is checked bit-exact.

    python -m bnnmram.gen.bench.cosim --out build/bench     (or: make bench)
"""
import argparse
import json
from pathlib import Path

from ..steps import run_step
from ..steps.demo import CONV_ARCH, ensure_demo_net, trained_set_ok
from bnnmram.hdl.generate import load_manifest
from bnnmram.models.data import datasets
from bnnmram.models.net import netfile
from bnnmram.models.faults.model import FaultConfig

from bnnmram.cosim import plain, runner, vectors


def ensure_conv_net(net: Path, epochs: int = 5) -> Path:
    """The demo's conv net (as `make demo` trains it) at `net`, trained if missing."""
    if not trained_set_ok(net):
        run_step(["train", "--dataset", "fashion-mnist", "--arch", CONV_ARCH, "--epochs", str(epochs),
                  "--seed", "0", "--out", str(net.parent), "--force"])
    return net


def bench_net(name, net_path, out: Path, images: int, icarus_images: int) -> list[dict]:
    net = netfile.load(net_path)
    rtl = out / f"rtl_{name}"
    run_step(["gen", "--net", str(net_path), "--out", str(rtl)])
    man = load_manifest(rtl)
    ds = datasets.load("fashion-mnist")
    rows = []
    for sim, n in (("icarus", icarus_images), ("verilator-stock", images), ("verilator", images)):
        d = (out / f"cosim_{name}_{sim}").resolve()
        d.mkdir(parents=True, exist_ok=True)
        vec = vectors.write(d / "vectors.npz", net, ds.test_x[:n], ds.test_y[:n], FaultConfig(seed=1, ber=1e-3))
        cfg = {"simulator": sim, "manifest": str((rtl / "manifest.json").resolve()), "vectors": str(vec),
               "result": str(d / "sim.json"), "ber": 1e-3, "seed": 1, "stalls": False}
        r = runner.run(rtl, sim, cfg, quiet=True)
        rows.append(r)
        if sim == "verilator":
            p = plain.run(rtl, vec, d)
            p["passed"] = p["mismatches"] == 0 and not p["prog_error"]
            rows.append(p)
    for r in rows:
        r["net"] = name
        r["cycles_per_image_analytic"] = man["cycles_per_image"]
        print(f"bench: {name:4s} {r['simulator']:20s} {r['images']:4d} images  {r['images_per_second']:9.2f} "
              f"images/s  {r['cycles_per_second']:9d} cycles/s  mismatches {r['mismatches']}", flush=True)
    return rows


def table(rows) -> str:
    lines = ["| net | simulator | images | images/s | cycles/s | plain C++ harness / this | mismatches |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        base = next(p for p in rows if p["net"] == r["net"] and p["simulator"] == "verilator-plain-c++")
        lines.append(f"| {r['net']} | {r['simulator']} | {r['images']} | {r['images_per_second']:.2f} | "
                     f"{r['cycles_per_second']} | {base['cycles_per_second'] / r['cycles_per_second']:.2f}x | "
                     f"{r['mismatches']} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--net", default="build/demo/net/net.json", help="MLP; trained by 'make demo' if missing")
    p.add_argument("--conv-net", default="build/demo/nets/fashion-conv/net.json",
                   help="conv net; trained by 'make demo' if missing")
    p.add_argument("--out", default="build/bench")
    p.add_argument("--images", type=int, default=200, help="images for the Verilator runs")
    p.add_argument("--icarus-images", type=int, default=20, help="images for the Icarus run of the MLP")
    p.add_argument("--conv-icarus-images", type=int, default=2, help="images for the Icarus run of the conv net")
    args = p.parse_args(argv)
    out = Path(args.out)
    rows = bench_net("mlp", ensure_demo_net(Path(args.net)), out, args.images, args.icarus_images)
    rows += bench_net("conv", ensure_conv_net(Path(args.conv_net)), out, args.images, args.conv_icarus_images)
    print("\n" + table(rows))
    (out / "bench_cosim.json").write_text(json.dumps({"runs": rows}, indent=1) + "\n")
    bad = [r for r in rows if not r["passed"]]
    if bad:
        raise SystemExit(f"bench: {len(bad)} run(s) not bit-exact")


if __name__ == "__main__":
    main()
