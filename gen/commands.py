"""The flow steps behind each `bnnmram` subcommand."""
import json
import time
from pathlib import Path

import numpy as np
import torch

from models import bnn, datasets, golden, netfile
from models.errors import BnnMramError
from models.faults import FaultConfig, faulty_net


def fault_config(args) -> FaultConfig:
    return FaultConfig(seed=args.seed, ber=args.ber, mode=args.fault_mode, rate_01=args.rate01,
                       rate_10=args.rate10, init_state=args.init_state)


def train(args):
    out = Path(args.out)
    net_path = out / "net.json"
    if net_path.exists() and not args.force:
        raise BnnMramError(f"{net_path} exists; pass --force to overwrite it or choose another --out")
    arch = bnn.parse_arch(args.arch)
    ds = datasets.load(args.dataset)
    print(f"train: {ds.name} {len(ds.train_x)} train / {len(ds.test_x)} test images, arch "
          f"{'-'.join(map(str, arch))}, {args.epochs} epochs, seed {args.seed}", flush=True)
    t0 = time.time()

    def progress(epoch, loss, seconds):
        print(f"  epoch {epoch:3d}/{args.epochs}  loss {loss:.4f}  {seconds:6.1f} s", flush=True)

    model = bnn.train(arch, ds.train_x, ds.train_y, epochs=args.epochs, seed=args.seed,
                      batch=args.batch, lr=args.lr, binarize_input=args.binarize_input,
                      train_ber=args.train_ber, progress=progress)
    train_seconds = time.time() - t0
    meta = {"dataset": ds.name, "epochs": args.epochs, "seed": args.seed, "train_ber": args.train_ber}
    net = bnn.export(model, meta)
    out.mkdir(parents=True, exist_ok=True)
    netfile.save(net, net_path)
    torch.save(model.state_dict(), out / "model.pt")
    float_pred = model.predict(torch.from_numpy(ds.test_x))
    g = golden.run(net, ds.test_x)
    report = {
        "dataset": ds.name, "arch": arch, "epochs": args.epochs, "seed": args.seed,
        "binarize_input": args.binarize_input, "train_ber": args.train_ber,
        "test_images": int(len(ds.test_y)),
        "test_accuracy": float((g.pred == ds.test_y).mean()),
        "float_test_accuracy": float((float_pred == ds.test_y).mean()),
        "golden_float_disagreements": int((g.pred != float_pred).sum()),
        "train_seconds": round(train_seconds, 2),
        "net": str(net_path),
    }
    (out / "train.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"train: integer golden test accuracy {report['test_accuracy']:.4f} "
          f"(float {report['float_test_accuracy']:.4f}, {report['golden_float_disagreements']} "
          f"disagreements), {train_seconds:.1f} s -> {net_path}")
    if report["golden_float_disagreements"]:
        raise BnnMramError("integer golden model disagrees with the float BNN: export bug")


def test_images(ds, limit):
    x, y = ds.test_x, ds.test_y
    return (x[:limit], y[:limit]) if limit else (x, y)


def check_net_matches(net, ds):
    if net.arch[0] != ds.pixels:
        raise BnnMramError(f"net input size {net.arch[0]} does not match dataset {ds.name} "
                           f"({ds.pixels} pixels)")


def infer(args):
    net = netfile.load(args.net)
    ds = datasets.load(args.dataset)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    x, y = test_images(ds, args.limit)
    g = golden.run(faulty_net(net, cfg), x)
    acc = float((g.pred == y).mean())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, scores=g.scores, pred=g.pred, labels=y)
    r01, r10 = cfg.realised_rates
    print(f"infer: {len(y)} images, accuracy {acc:.4f} (BER realised {r01:.3g}/{r10:.3g}, "
          f"seed {cfg.seed}) -> {out}")


def register_more(sub, add_fault_args, ber, seed, positive):
    """Later flow steps register here (gen, sim, synth, sweep, energy, demo)."""
