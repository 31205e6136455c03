"""`bnnmram infer`: the integer golden model on a dataset's test set, with or without write errors."""
import io
from pathlib import Path

import numpy as np

from bnnmram.models.data import datasets
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import faulty_net
from bnnmram.models.net import golden, netfile

from .. import outputs
from ..conditions import check_net_matches, fault_config, fault_text
from ..args import DATA_DIR_HELP, add_fault_args, add_memory_args, dataset, positive


def add_parser(sub):
    p = sub.add_parser("infer", help="run the integer golden model on a dataset's test set")
    p.add_argument("--net", required=True)
    p.add_argument("--dataset", type=dataset, default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--limit", type=positive, default=None, help="first K test images only")
    add_fault_args(p)
    add_memory_args(p)
    p.add_argument("--out", required=True, help="output .npz file (scores, pred, labels)")
    p.set_defaults(step=__name__)


def _check_npz_target(path: Path):
    """An existing --out file may be replaced only if it is an infer result (scores, pred, labels)."""
    outputs.check_file_target(path, ".npz")
    if path.exists():
        try:
            with np.load(path) as d:
                ours = set(d.files) == {"scores", "pred", "labels"}
        except Exception:
            ours = False
        if not ours:
            raise BnnMramError(f"--out {path} exists and is not a `bnnmram infer` result; "
                               "move it or choose another --out")


def run(args):
    out = Path(args.out)
    _check_npz_target(out)
    net = netfile.load(args.net)
    ds = datasets.load(args.dataset, args.data_dir)
    check_net_matches(net, ds)
    cfg = fault_config(args)
    x, y = ds.test_subset(args.limit)
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
