"""`bnnmram sweep`: Monte Carlo accuracy against bit error rate (the papers' figure), in this process or on Dask."""
import json
from pathlib import Path

from bnnmram.models.data import datasets
from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import netfile

from ..conditions import check_net_matches, given_condition, refuse_bayesian
from ..outputs import OutputDir
from ..args import DATA_DIR_HELP, add_cluster_args, add_memory_args, ber_list, dataset, layer_list, positive, seed


def add_parser(sub):
    p = sub.add_parser("sweep", help="Monte Carlo accuracy vs BER campaign (the papers' figure)")
    p.add_argument("--net", action="append", required=True, help="net file; repeat to compare nets")
    p.add_argument("--dataset", type=dataset, action="append", help="dataset per --net (one applies to all)")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--label", action="append", help="legend label per --net")
    p.add_argument("--ber", type=ber_list, default=ber_list("1e-6,1e-5,...,1e-1"),
                   help="rates: comma list, '...' fills decades")
    p.add_argument("--trials", type=positive, default=10, help="fault patterns per BER")
    p.add_argument("--seed", type=seed, default=0, help="trial t uses fault seed SEED+t")
    p.add_argument("--layers", type=layer_list, default=None, help="only these layers get errors, e.g. 0,1")
    p.add_argument("--per-layer", action="store_true",
                   help="sensitivity: sweep each weighted layer alone (one curve per layer)")
    p.add_argument("--thresholds", action="store_true",
                   help="thresholds stored in MRAM too: their bits get write errors (sweep model only)")
    p.add_argument("--read-errors", action="store_true",
                   help="the BER is of weight reads at each inference (every image its own errors), "
                        "not of writes (sweep model only)")
    p.add_argument("--limit", type=positive, default=None, help="first K test images only")
    add_memory_args(p, lists=True)
    add_cluster_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


SWEEP_FILES = ["sweep.csv", "sweep.json", "sweep.md", "sweep.png"]


def _labels(args, nets, dsets) -> list[str]:
    """One distinct legend label per net: given, or dataset + arch (+ folder if two clash)."""
    if args.label:
        if len(set(args.label)) != len(args.label):
            raise BnnMramError(f"--label values must differ: {args.label}")
        return list(args.label)
    labels = [_net_label(net, dsets[i % len(dsets)]) for i, net in enumerate(nets)]
    for i, l in enumerate(labels):
        if labels.count(l) > 1:
            labels = [f"{x} ({args.net[j]})" if x == l else x for j, x in enumerate(labels)]
    return labels


def sweep_points(args) -> list:
    """The sweep's x positions: --ber's rates (for a resistive --memory, the conditions they
    stand for), or every combination of the programming-condition lists given."""
    import math
    from bnnmram.models.faults.sweep import MAX_RATES
    from bnnmram.models.memory import points, technology
    memory = args.memory or "stmram"
    tech = technology(memory)
    grid = given_condition(args, tech)
    if args.read_errors and memory != "stmram":
        raise BnnMramError(f"--read-errors is modelled for ST-MRAM only, not --memory {memory}")
    if not grid:
        return points.ber_points(memory, args.ber)
    if math.prod(len(v) for v in grid.values()) > MAX_RATES:
        raise BnnMramError(f"the programming-condition lists give more than {MAX_RATES} points")
    return points.condition_points(memory, grid)


def _net_label(net, dataset):
    tb = net.meta.get("train_ber", 0)
    tb = tb if isinstance(tb, (int, float)) and not isinstance(tb, bool) else 0
    return f"{dataset} {netfile.describe_arch(net)}" + (f", error-aware {tb:g}" if tb else "")


def run(args):
    from tqdm import tqdm
    from bnnmram.models.faults import sweep as sw
    from bnnmram.models.faults.reference import campaign_for
    n = len(args.net)
    dsets = args.dataset or ["fashion-mnist"]
    if len(dsets) not in (1, n):
        raise BnnMramError(f"give one --dataset, or one per --net ({n})")
    if args.label and len(args.label) != n:
        raise BnnMramError(f"give one --label per --net ({n})")
    od = OutputDir(args.out, "sweep", SWEEP_FILES).check()
    nets = [netfile.load(p) for p in args.net]
    for p_, net in zip(args.net, nets):
        refuse_bayesian(net, p_, "sweep")
    layers = args.layers
    if layers:
        for p_, net in zip(args.net, nets):
            if layers[-1] >= len(net.layers):
                raise BnnMramError(f"--layers {','.join(map(str, layers))}: {p_} has layers 0..{len(net.layers) - 1}")
    data = {name: datasets.load(name, args.data_dir) for name in dict.fromkeys(dsets)}
    for i, net in enumerate(nets):
        check_net_matches(net, data[dsets[i % len(dsets)]])
    if args.read_errors and not all(net.is_dense for net in nets):
        raise BnnMramError("--read-errors: read errors at each inference are modelled for MLPs only "
                           "(conv nets: write errors)")
    if args.per_layer and layers:
        raise BnnMramError("give --per-layer or --layers, not both")
    labels = _labels(args, nets, dsets)
    points = sweep_points(args)
    # runs: (net index, layers with errors, label); --per-layer: each weighted layer alone
    runs = [(i, layers, labels[i]) for i in range(n)] if not args.per_layer else [
        (i, [k], f"{labels[i]}: layer {k} {netfile.describe_layer(l)}")
        for i, net in enumerate(nets) for k, l in enumerate(net.layers) if l.has_weights]
    sources = [{"path": str(args.net[i]), "sha256": netfile.digest(nets[i]), "dataset": dsets[i % len(dsets)],
                "layers": run_layers} for i, run_layers, _ in runs]
    if args.workers or args.scheduler:   # the points as Dask tasks (gen.cluster.sweep_shards)
        from ..cluster import sweep_shards
        keys = [(str(Path(args.net[i]).resolve()), src["sha256"], src["dataset"], args.data_dir, args.limit,
                 None if run_layers is None else tuple(run_layers), args.thresholds, args.read_errors)
                for (i, run_layers, _), src in zip(runs, sources)]
        results = sweep_shards.sweep(keys, [r[2] for r in runs], points, args.trials, args.seed,
                                     args.scheduler, args.workers)
    else:
        results = []
        bar = tqdm(total=len(runs) * args.trials * len(points), unit="trial", desc="sweep")
        for i, run_layers, label in runs:
            x, y = data[dsets[i % len(dsets)]].test_subset(args.limit)
            camp = campaign_for(nets[i], x, y, run_layers, thresholds=args.thresholds, read_errors=args.read_errors)
            results.append(sw.run(camp, label, points, args.trials, args.seed, progress=bar.update))
        bar.close()
    doc = sw.document(results, args.seed, "read" if args.read_errors else "write", args.thresholds,
                      None if args.per_layer else layers, sources, per_layer=args.per_layer)
    if (args.memory or "stmram") != "stmram":
        doc["memory"] = args.memory
    with od:
        od.write("sweep.csv", sw.csv_text(results, args.seed, sources))
        od.write("sweep.json", json.dumps(doc, indent=1) + "\n")
        od.write("sweep.md", sw.markdown(doc))
        sw.plot(doc, od.stage("sweep.png"))
        od.commit()
    for s in doc["nets"]:
        print(f"sweep: {s['label']}: error-free {s['clean_accuracy']:.4f}, tolerated BER "
              f"{s['tolerated_ber']} (mean within 1 point)")
    print(f"sweep: {args.out}/sweep.csv, sweep.json, sweep.md, sweep.png")
