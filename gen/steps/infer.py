"""`bnnmram infer`: the integer golden model on a dataset's test set, with or without write errors."""
import io
from pathlib import Path

import numpy as np

from bnnmram.models.data import datasets
from bnnmram.models.faults.model import faulty_net
from bnnmram.models.net import golden, netfile

from .. import outputs
from ..conditions import (check_net_matches, fault_config, fault_text, refuse_samples,
                          refuse_write_errors_with_sampling)
from ..args import DATA_DIR_HELP, add_fault_args, add_memory_args, dataset, positive, samples, seed


def add_parser(sub):
    p = sub.add_parser("infer", help="run the integer golden model on a dataset's test set")
    p.add_argument("--net", required=True)
    p.add_argument("--dataset", type=dataset, default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--limit", type=positive, default=None, help="first K test images only")
    add_fault_args(p)
    add_memory_args(p)
    p.add_argument("--samples", type=samples, default=None, help="Bayesian nets: T stochastic passes per image, "
                   "weights sampled at every read (docs/fault-model.md); the npz gains the predictive distribution")
    p.add_argument("--sample-seed", type=seed, default=0, help="seed of the read-time sampling (default 0)")
    p.add_argument("--out", required=True, help="output .npz file (scores, pred, labels; with --samples also "
                   "probs, entropy, mutual_information)")
    p.set_defaults(step=__name__)


RESULT_KEYS = {"scores", "pred", "labels"}
SAMPLED_KEYS = RESULT_KEYS | {"probs", "entropy", "mutual_information"}


def _is_infer_result(path: Path) -> bool:
    """Its arrays are exactly those of an infer run with or without --samples."""
    with np.load(path) as d:
        return set(d.files) in (RESULT_KEYS, SAMPLED_KEYS)


def run(args):
    out = Path(args.out)
    outputs.check_owned_file(out, ".npz", _is_infer_result, "infer")
    net = netfile.load(args.net)
    ds = datasets.load(args.dataset, args.data_dir)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    x, y = ds.test_subset(args.limit)
    if args.samples is not None:
        return _run_sampled(args, out, net, x, y, cfg)
    fnet = faulty_net(net, cfg)
    flipped = sum(int((a.weights != b.weights).sum()) for a, b in zip(net.layers, fnet.layers))
    total = sum(l.weights.size for l in net.layers)
    g = golden.run(fnet, x)
    acc = float((g.pred == y).mean())
    buf = io.BytesIO()
    np.savez(buf, scores=g.scores, pred=g.pred, labels=y)
    outputs.write_file_atomic(out, buf.getvalue())
    print(f"infer: {len(y)} images, accuracy {acc:.4f}; {flipped} of {total} weights flipped "
          f"({fault_text(cfg)}) -> {out}")


def _run_sampled(args, out: Path, net, x, y, cfg):
    """T passes per image of a Bayesian net, weights sampled at every read (models.bayes)."""
    from bnnmram.models.bayes import metrics, predictive
    refuse_samples(net, args.net, args.samples)
    refuse_write_errors_with_sampling(cfg)
    t = args.samples
    print(f"infer: {len(y)} images x {t} passes, sampling seed {args.sample_seed}", flush=True)
    step = max(1, len(y) * t // 10)

    def progress(done, total):
        if done % step < 256 or done == total:
            print(f"  {done}/{total} passes", flush=True)
    p = predictive.run(net, x, t, args.sample_seed, net.score_scale, progress=progress)
    buf = io.BytesIO()
    np.savez(buf, scores=p.scores, pred=p.pred, labels=y, probs=p.probs, entropy=p.entropy,
             mutual_information=p.mutual_information)
    outputs.write_file_atomic(out, buf.getvalue())
    print(f"infer: {len(y)} images, T = {t}: accuracy {metrics.accuracy(p.pred, y):.4f}, NLL "
          f"{metrics.nll(p.probs, y):.4f}, ECE {metrics.ece(p.probs, y):.4f}, mean entropy {p.entropy.mean():.4f} nats, "
          f"mean mutual information {p.mutual_information.mean():.4f} nats -> {out}")
