"""QONNX round trip of trained nets (README, "QONNX in and out"): export -> qonnx's executor
on every test image (scores equal to the golden model's?) -> import -> the same layers?

    python -m bnnmram.gen.bench.qonnx_roundtrip --net build/demo/net/net.json --dataset fashion-mnist --out build/bench/qonnx
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from bnnmram.gen.steps import run_step
from bnnmram.models.data import datasets
from bnnmram.models.interop.qonnx_export import execute, model_input
from bnnmram.models.net import golden, netfile


def same_layers(a, b) -> bool:
    return all(np.array_equal(x.weights, y.weights) and x.input == y.input and
               (x.thresholds is None or (np.array_equal(x.thresholds, y.thresholds) and np.array_equal(x.flip, y.flip)))
               for x, y in zip(a.layers, b.layers)) and len(a.layers) == len(b.layers)


def roundtrip(net_path: Path, dataset: str, out: Path) -> dict:
    net, ds = netfile.load(net_path), datasets.load(dataset)
    name = net_path.parent.name
    model = out / f"{name}.onnx"
    t = time.time()
    assert run_step(["export", "--net", net_path, "--out", model]) == 0
    export_s = time.time() - t
    t = time.time()
    scores = execute(model, model_input(net, ds.test_x))
    exec_s = time.time() - t
    g = golden.run(net, ds.test_x)
    t = time.time()
    assert run_step(["import", model, "--out", out / f"import-{name}", "--force"]) == 0
    import_s = time.time() - t
    back = netfile.load(out / f"import-{name}" / "net.json")
    return {"net": str(net_path), "arch": netfile.describe_arch(net), "images": int(len(ds.test_x)),
            "scores_equal_every_image": bool(np.array_equal(scores.astype(np.int64), g.scores)),
            "reimported_layers_identical": same_layers(net, back),
            "golden_accuracy": float((g.pred == ds.test_y).mean()),
            "export_s": round(export_s, 1), "qonnx_exec_s": round(exec_s, 1), "import_s": round(import_s, 1)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", action="append", required=True)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--out", default="build/bench/qonnx")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [roundtrip(Path(n), args.dataset, out) for n in args.net]
    for r in rows:
        print(json.dumps(r))
    (out / "roundtrip.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
