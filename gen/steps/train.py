"""`bnnmram train`: train a BNN (MLP or conv net) and export its net file, model and report."""
import json
import time
from pathlib import Path

import numpy as np

from bnnmram.models.data import datasets
from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import cnn, golden, netfile

from .. import outputs
from ..outputs import OutputDir
from ..args import DATA_DIR_HELP, arch, ber, dataset, kl_weight, learning_rate, positive, sc_samples, seed


def add_parser(sub):
    p = sub.add_parser("train", help="train a BNN and export its net file")
    p.add_argument("--dataset", type=dataset, default="fashion-mnist", help="fashion-mnist, mnist, digits or cifar10 (your own copy: --data-dir)")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--arch", type=arch, default=arch("784-256-256-256-10"))
    p.add_argument("--epochs", type=positive, default=20)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--batch", type=positive, default=100)
    p.add_argument("--lr", type=learning_rate, default=5e-3)
    p.add_argument("--input", choices=("pixel", "binarized", "sc"), default=None,
                   help="first layer input: 8-bit pixels (default), binarized pixels (>= 128), or sc: "
                        "--sc-samples stochastic bits per pixel (docs/netfile.md)")
    p.add_argument("--binarize-input", action="store_true", help="the same as --input binarized")
    p.add_argument("--sc-samples", type=sc_samples, default=None, help="N stochastic samples per pixel "
                   "for --input sc: a power of two in 1..64 (default 16)")
    p.add_argument("--sc-seed", type=seed, default=0, help="seed of the sc samples' hash (default 0)")
    p.add_argument("--train-ber", type=ber, default=0.0, help="error-aware training: flip weights at this rate per minibatch")
    p.add_argument("--bayesian", action="store_true", help="Bayesian binary weights: a Bernoulli posterior per "
                   "weight, quantised to 16 programmable levels (net file version 3; sample it with infer --samples)")
    p.add_argument("--kl-weight", type=kl_weight, default=None, help="--bayesian: weight of the ELBO's KL term "
                   f"(1 = the plain ELBO; default {DEFAULT_KL_WEIGHT})")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--force", action="store_true", help="overwrite an existing net in --out")
    p.set_defaults(step=__name__)


TRAIN_FILES = ["net.json", "model.pt", "train.json"]


DEFAULT_SC_SAMPLES = 16  # --input sc without --sc-samples
DEFAULT_KL_WEIGHT = 0.1  # --bayesian without --kl-weight (a tempered ELBO, see README)


def input_choice(args) -> str:
    """The first layer's input kind from --input, --binarize-input and --sc-samples (one line
    if they contradict each other); fills in the default --sc-samples of sc nets."""
    kind = args.input or ("binarized" if args.binarize_input else "pixel")
    if args.binarize_input and kind != "binarized":
        raise BnnMramError(f"--binarize-input contradicts --input {kind}")
    if args.sc_samples is not None and kind != "sc":
        raise BnnMramError(f"--sc-samples needs --input sc (the input is {kind})")
    if kind == "sc" and args.sc_samples is None:
        args.sc_samples = DEFAULT_SC_SAMPLES
    return kind


def run(args):
    import torch   # here, not at the top: building the parser stays light
    from bnnmram.models.net import training
    out = Path(args.out)
    net_path = out / "net.json"
    od = OutputDir(out, "train", TRAIN_FILES)
    if net_path.exists() and not args.force:
        raise BnnMramError(f"{net_path} exists; pass --force to overwrite it or choose another --out")
    if args.force:
        outputs.check_dir(out)
    else:
        od.check()
    arch = args.arch
    input_kind = input_choice(args)
    if args.kl_weight is not None and not args.bayesian:
        raise BnnMramError("--kl-weight needs --bayesian")
    kl = DEFAULT_KL_WEIGHT if args.kl_weight is None else args.kl_weight
    ds = datasets.load(args.dataset, args.data_dir)
    training.check_arch(arch, ds.train_x, ds.train_y, ds.shape)
    print(f"train: {ds.name} {len(ds.train_x)} train / {len(ds.test_x)} test images {'x'.join(map(str, ds.shape))}, "
          f"arch {cnn.spec_text(arch)}, {args.epochs} epochs, seed {args.seed}, input {input_kind}"
          + (f" ({args.sc_samples} samples/pixel, sc seed {args.sc_seed})" if input_kind == "sc" else "")
          + (f", Bayesian weights (KL weight {kl})" if args.bayesian else ""), flush=True)
    t0 = time.time()

    def progress(epoch, loss, seconds):
        print(f"  epoch {epoch:3d}/{args.epochs}  loss {loss:.4f}  {seconds:6.1f} s", flush=True)

    model = training.train(arch, ds.train_x, ds.train_y, epochs=args.epochs, seed=args.seed,
                      batch=args.batch, lr=args.lr, binarize_input=input_kind == "binarized",
                      train_ber=args.train_ber, progress=progress, input_shape=ds.shape,
                      sc_samples=args.sc_samples if input_kind == "sc" else 0, sc_seed=args.sc_seed,
                      bayesian=args.bayesian, kl_weight=kl)
    train_seconds = time.time() - t0
    meta = {"dataset": ds.name, "epochs": args.epochs, "seed": args.seed, "train_ber": args.train_ber,
            **({"bayesian": True, "kl_weight": kl} if args.bayesian else {})}
    net = training.export(model, meta)
    float_pred = model.predict(torch.from_numpy(np.array(ds.test_x)))
    g = golden.run(net, ds.test_x)
    report = {
        "dataset": ds.name, "arch": net.arch, "arch_spec": netfile.describe_arch(net),
        "input_shape": list(ds.shape),
        "epochs": args.epochs, "seed": args.seed, "batch": args.batch, "lr": args.lr,
        "binarize_input": input_kind == "binarized", "input": input_kind, "train_ber": args.train_ber,
        "sc": net.sc,
        "bayesian": args.bayesian, **({"kl_weight": kl, "score_scale": net.score_scale} if args.bayesian else {}),
        "test_images": int(len(ds.test_y)),
        "test_accuracy": float((g.pred == ds.test_y).mean()),
        "float_test_accuracy": float((float_pred == ds.test_y).mean()),
        "golden_float_disagreements": int((g.pred != float_pred).sum()),
        "train_seconds": round(train_seconds, 2),
        "net": str(net_path),
        "net_sha256": netfile.digest(net),
    }
    if report["golden_float_disagreements"]:
        raise BnnMramError("integer golden model disagrees with the float BNN: export bug (nothing written)")
    # the three files replace any old set together (see gen.outputs)
    with od:
        od.write("net.json", netfile.dumps(net))
        torch.save(model.state_dict(), od.stage("model.pt"))
        od.write("train.json", json.dumps(report, indent=1) + "\n")
        od.commit()
    print(f"train: integer golden test accuracy {report['test_accuracy']:.4f}"
          f"{' (most probable weights; infer --samples T samples them)' if args.bayesian else ''} "
          f"(float {report['float_test_accuracy']:.4f}, {report['golden_float_disagreements']} "
          f"disagreements), {train_seconds:.1f} s -> {net_path}")
