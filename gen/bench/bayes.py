"""Bayesian BNNs against deterministic BNNs of the same size: accuracy, NLL, ECE, reliability
and out-of-distribution AUROC as a function of the passes per image T, with plots.

    python -m bnnmram.gen.bench.bayes --out build/bench/bayes [--epochs 20] [--conv-epochs 5] [--images 2000]

Steps (each prints its command; finished steps are reused, so an interrupted run resumes):
1. train, with `bnnmram train`, the demo MLP 784-256-256-256-10 and the demo conv net
   conv32k3-conv32k3-pool2-conv64k3-conv64k3-pool2-dense256-dense10 on Fashion-MNIST, each
   deterministic and `--bayesian`, and the MLP pair on MNIST (the reverse OOD direction);
2. draw T_MAX = 32 passes of every test image once (models.bayes.predictive, the definition
   `infer --samples` uses) and read every T of --samples off their first T passes (the same
   draws, fewer of them: the curves are nested, as a user adding passes would see);
3. in distribution: the first --images test images of the net's own data set; out of
   distribution: the first --images test images of the other (Fashion-MNIST nets shown MNIST
   digits and the reverse), AUROC of the predictive entropy (and of the mutual information);
4. writes bayes.json, bayes.md (the README table), metrics_vs_T.png and reliability.png.
The deterministic nets' probabilities are softmax(scale * scores) with the output scale their
own training learned (model.pt's log_scale), the same rule the Bayesian nets' score_scale is.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from bnnmram.models.bayes import metrics, predictive
from bnnmram.models.data import datasets
from bnnmram.models.net import golden, netfile
from ..steps import run_step
from ..steps.demo import CONV_ARCH, DEMO_ARCH, trained_set_ok

SAMPLES = (1, 2, 4, 8, 16, 32)
OTHER = {"fashion-mnist": "mnist", "mnist": "fashion-mnist"}


def step(argv):
    print("bench_bayes: bnnmram " + " ".join(argv), flush=True)
    code = run_step(argv)
    if code:
        raise SystemExit(f"bench_bayes: step failed ({code}): bnnmram {' '.join(argv)}")


def train(out: Path, name: str, dataset: str, arch: str, epochs: int, bayesian: bool) -> Path:
    net = out / "nets" / name / "net.json"
    if not trained_set_ok(net):
        step(["train", "--dataset", dataset, "--arch", arch, "--epochs", str(epochs), "--seed", "0",
              "--out", str(net.parent), "--force"] + (["--bayesian"] if bayesian else []))
    return net


def score_scale(net_path: Path, net) -> float:
    """The Bayesian net's score_scale, or the deterministic net's learned output scale."""
    if net.is_bayesian:
        return net.score_scale
    import torch
    return float(torch.load(net_path.parent / "model.pt", weights_only=True)["log_scale"].exp())


def all_scores(net, x, samples: int, seed: int, label: str) -> np.ndarray:
    """[N, T, classes] scores: T passes of a Bayesian net, the one deterministic pass otherwise."""
    t0 = time.time()
    if not net.is_bayesian:
        return golden.run(net, x).scores[:, None, :]
    last = [0.0]

    def progress(done, total):
        if time.time() - last[0] > 30 or done == total:
            last[0] = time.time()
            print(f"  {label}: {done}/{total} passes, {time.time() - t0:.0f} s", flush=True)
    return predictive.sample_scores(net, x, samples, seed, progress=progress)


def evaluate(name, net_path, dataset, images, samples, seed, cache: Path) -> dict:
    """Metrics vs T of one net, in distribution and on the other data set."""
    net = netfile.load(net_path)
    scale = score_scale(net_path, net)
    ts = [t for t in SAMPLES if t <= samples] if net.is_bayesian else [1]
    out = {"net": str(net_path), "bayesian": net.is_bayesian, "score_scale": scale, "dataset": dataset,
           "ood_dataset": OTHER[dataset], "images": images, "by_samples": {}}
    scores = {}
    for which, ds_name in (("in", dataset), ("ood", OTHER[dataset])):
        f = cache / f"{name}-{which}.npy"
        if f.exists():
            scores[which] = np.load(f)
        else:
            x, _ = datasets.load(ds_name).test_subset(images)
            scores[which] = all_scores(net, x, max(ts), seed, f"{name} on {ds_name}")
            np.save(f, scores[which])
    _, y = datasets.load(dataset).test_subset(images)
    for t in ts:
        p_in = predictive.summarise(scores["in"][:, :t], scale)
        p_out = predictive.summarise(scores["ood"][:, :t], scale)
        conf, acc, count = metrics.reliability(p_in.probs, y)
        out["by_samples"][t] = {
            "accuracy": metrics.accuracy(p_in.pred, y), "nll": metrics.nll(p_in.probs, y),
            "ece": metrics.ece(p_in.probs, y),
            "ood_auroc_entropy": metrics.ood_auroc(p_in.entropy, p_out.entropy),
            "ood_auroc_mutual_information": (metrics.ood_auroc(p_in.mutual_information, p_out.mutual_information)
                                             if t > 1 else None),
            "reliability": {"confidence": _nan_none(conf), "accuracy": _nan_none(acc), "images": count.tolist()},
        }
    return out


def _nan_none(a):
    return [None if math.isnan(v) else float(v) for v in a]


def table(results: dict) -> str:
    lines = ["| net | data (OOD) | T | accuracy | NLL | ECE | OOD AUROC (entropy) | OOD AUROC (MI) |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        for t, m in r["by_samples"].items():
            mi = "" if m["ood_auroc_mutual_information"] is None else f"{m['ood_auroc_mutual_information']:.3f}"
            kind = "Bayesian" if r["bayesian"] else "deterministic"
            lines.append(f"| {name} ({kind}) | {r['dataset']} ({r['ood_dataset']}) | {t} | {100 * m['accuracy']:.2f} % | "
                         f"{m['nll']:.3f} | {m['ece']:.3f} | {m['ood_auroc_entropy']:.3f} | {mi} |")
    return "\n".join(lines) + "\n"


def plots(results: dict, out: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = [("accuracy", "accuracy"), ("nll", "NLL (nats)"), ("ece", "ECE"), ("ood_auroc_entropy", "OOD AUROC (entropy)")]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for ax, (k, label) in zip(axes, keys):
        for i, (name, r) in enumerate(results.items()):
            ts = [int(t) for t in r["by_samples"]]
            ys = [r["by_samples"][t][k] for t in r["by_samples"]]
            color = f"C{i // 2}" if len(results) > 1 else "C0"
            if r["bayesian"]:
                ax.plot(ts, ys, "o-", color=color, label=name)
            else:
                ax.axhline(ys[0], color=color, ls="--", label=f"{name} (deterministic)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("passes per image T")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    tmp = out / ".metrics_vs_T.png.part"
    fig.savefig(tmp, dpi=110, format="png")
    tmp.replace(out / "metrics_vs_T.png")
    plt.close(fig)

    shown = [(n, r) for n, r in results.items() if r["dataset"] == "fashion-mnist"]
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 4), squeeze=False)
    for ax, (name, r) in zip(axes[0], shown):
        t = max(r["by_samples"], key=int)
        rel = r["by_samples"][t]["reliability"]
        bins = len(rel["images"])
        centers = (np.arange(bins) + 0.5) / bins
        acc = [np.nan if a is None else a for a in rel["accuracy"]]
        ax.bar(centers, acc, width=1 / bins, edgecolor="k", alpha=0.7, label="accuracy")
        ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
        ax.set_title(f"{name}, T = {t}\nECE {r['by_samples'][t]['ece']:.3f}", fontsize=9)
        ax.set_xlabel("confidence")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    tmp = out / ".reliability.png.part"
    fig.savefig(tmp, dpi=110, format="png")
    tmp.replace(out / "reliability.png")
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="build/bench/bayes")
    p.add_argument("--epochs", type=int, default=20, help="MLP epochs")
    p.add_argument("--conv-epochs", type=int, default=5, help="conv net epochs (the demo's short schedule)")
    p.add_argument("--images", type=int, default=2000, help="test images per data set")
    p.add_argument("--samples", type=int, default=32, help="largest T")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--no-conv", action="store_true", help="MLPs only")
    a = p.parse_args(argv)
    out = Path(a.out)
    cache = out / "scores"
    cache.mkdir(parents=True, exist_ok=True)
    plan = [("mlp", "fashion-mnist", DEMO_ARCH, a.epochs), ("mlp-mnist", "mnist", DEMO_ARCH, a.epochs)]
    if not a.no_conv:
        plan.insert(1, ("conv", "fashion-mnist", CONV_ARCH, a.conv_epochs))
    results = {}
    for base, dataset, arch, epochs in plan:
        for bayesian in (False, True):
            name = f"{base}-{'bayes' if bayesian else 'det'}"
            net = train(out, name, dataset, arch, epochs, bayesian)
            print(f"bench_bayes: evaluating {name}", flush=True)
            results[name] = evaluate(name, net, dataset, a.images, a.samples, a.seed, cache)
    doc = {"images": a.images, "samples": a.samples, "seed": a.seed, "epochs": a.epochs,
           "conv_epochs": a.conv_epochs, "results": results}
    (out / "bayes.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "bayes.md").write_text(table(results))
    plots(results, out)
    print(table(results))
    print(f"bench_bayes: {out}/bayes.json, bayes.md, metrics_vs_T.png, reliability.png")


if __name__ == "__main__":
    main()
