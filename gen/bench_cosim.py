"""Co-simulation speed benchmark on the demo net: Icarus, Verilator (ours) and Verilator as
cocotb's runner builds it by default (--public-flat-rw), side by side in one run.

    python -m gen.bench_cosim --out build/bench     (or: make bench)
"""
import argparse
import json
from pathlib import Path

from .demo import ensure_demo_net, run_step
from hdl.generate import load_manifest
from models.data import datasets
from models.net import netfile
from models.faults.model import FaultConfig

from cosim import runner, vectors


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--net", default="build/demo/net/net.json", help="trained by 'make demo' if missing")
    p.add_argument("--out", default="build/bench")
    p.add_argument("--images", type=int, default=200, help="images for the Verilator runs")
    p.add_argument("--icarus-images", type=int, default=20)
    args = p.parse_args(argv)
    out = Path(args.out)
    net_path = ensure_demo_net(Path(args.net))
    net = netfile.load(net_path)
    rtl = out / "rtl"
    run_step(["gen", "--net", str(net_path), "--out", str(rtl)])
    man = load_manifest(rtl)
    ds = datasets.load("fashion-mnist")
    rows = []
    for sim, n in (("icarus", args.icarus_images), ("verilator-stock", args.images), ("verilator", args.images)):
        d = (out / f"cosim_{sim}").resolve()
        d.mkdir(parents=True, exist_ok=True)
        vec = vectors.write(d / "vectors.npz", net, ds.test_x[:n], ds.test_y[:n], FaultConfig(seed=1, ber=1e-3))
        cfg = {"simulator": sim, "manifest": str((rtl / "manifest.json").resolve()), "vectors": str(vec),
               "result": str(d / "sim.json"), "ber": 1e-3, "seed": 1, "stalls": False}
        r = runner.run(rtl, sim, cfg, quiet=True)
        rows.append(r)
        print(f"bench: {sim:16s} {n:4d} images  {r['images_per_second']:8.2f} images/s  "
              f"{r['cycles_per_second']:9d} cycles/s  mismatches {r['mismatches']}", flush=True)
    print("\n| simulator | images | images/s | cycles/s | speed vs Icarus | mismatches |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['simulator']} | {r['images']} | {r['images_per_second']:.2f} | {r['cycles_per_second']} | "
              f"{r['cycles_per_second'] / rows[0]['cycles_per_second']:.1f}x | {r['mismatches']} |")
    (out / "bench_cosim.json").write_text(json.dumps(
        {"cycles_per_image": man["cycles_per_image"], "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
