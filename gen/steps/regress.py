"""`bnnmram regress`: a sign-off regression, the matrix nets x foldings x simulators x BERs x
fault modes x seeds x stalls, every co-simulation a Dask task (gen.cluster).

The RTL is generated once per (net, folding) in this process (`bnnmram gen` into
OUT/rtl/<design>); each simulator model is built once per design by a build task that the
design's runs wait for (the build cache in cosim.runner is locked, so concurrent workers never
build one model twice); each run is exactly one `bnnmram sim` into OUT/runs/<run id>, and its
row names that command. A run's result depends on its parameters only, not on the worker or the
order, so any number of workers gives the same regress.json apart from the `timing` fields.

The matrix file (TOML, docs in README "bnnmram regress"): every key optional, command-line
options override it.

    nets = ["build/demo/net/net.json"]   # paths relative to the file
    dataset = "fashion-mnist"
    foldings = ["default", "0:8:16,1:4:16"]
    simulators = ["verilator", "icarus"]
    bers = [0.0, 1e-3, 1e-2]
    fault_modes = ["ber"]                # "switch": failure to switch, 0->1 and 1->0 at the BER
    seeds = [1, 2, 3, 4]
    images = 100
    stalls = [false]
"""
import itertools
import json
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from tqdm import tqdm

from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import netfile
from ..conditions import refuse_bayesian
from ..outputs import OutputDir
from ..args import add_cluster_args, ber_list, dataset, fault_modes, memories, positive, seed_list, simulators

FILES = ["regress.json", "regress.xml", "regress.md"]
KEYS = {"nets": list, "dataset": str, "foldings": list, "simulators": list, "bers": list, "fault_modes": list,
        "seeds": list, "images": int, "stalls": list, "memories": list}
TYPE_NAMES = {list: "a list", str: "a string", int: "an integer"}
FAULT_MODES = ("ber", "switch")
DEFAULTS = {"dataset": "fashion-mnist", "foldings": ["default"], "simulators": ["verilator", "icarus"],
            "bers": [0.0, 1e-3, 1e-2], "fault_modes": ["ber"], "seeds": [1], "images": 100, "stalls": [False],
            "memories": ["stmram"]}


def add_parser(sub):
    p = sub.add_parser("regress", help="a matrix of co-simulations (nets x foldings x simulators x BERs x "
                       "fault modes x seeds x stalls) on Dask, with JSON, JUnit XML and Markdown reports")
    p.add_argument("--matrix", default=None, help="TOML file describing the matrix (options below override it)")
    p.add_argument("--net", action="append", default=None, help="net file; repeat for more nets")
    p.add_argument("--dataset", type=dataset, default=None, help="test images from this dataset (default fashion-mnist)")
    p.add_argument("--folding", action="append", default=None,
                   help="'default' or LAYER:PE:SIMD[,LAYER:PE:SIMD...]; repeat for more foldings")
    p.add_argument("--sims", type=simulators, default=None, help="comma list (default verilator,icarus)")
    p.add_argument("--ber", type=ber_list, default=None, help="comma list of bit error rates (default 0,1e-3,1e-2)")
    p.add_argument("--fault-modes", type=fault_modes, default=None, help="comma list of ber, switch (default ber)")
    p.add_argument("--seeds", type=seed_list, default=None, help="comma list of fault seeds (default 1)")
    p.add_argument("--images", type=positive, default=None, help="test images per run (default 100)")
    p.add_argument("--stalls", choices=("off", "on", "both"), default=None,
                   help="input gaps and output backpressure (default off)")
    p.add_argument("--memory", type=memories, default=None,
                   help="comma list of memory technologies, one design each (default stmram)")
    add_cluster_args(p)
    p.add_argument("--out", required=True, help="output folder: regress.json, regress.xml, regress.md, rtl/, builds/, runs/")
    p.set_defaults(step=__name__)


@dataclass
class Matrix:
    nets: list
    dataset: str = DEFAULTS["dataset"]
    foldings: list = field(default_factory=lambda: list(DEFAULTS["foldings"]))
    simulators: list = field(default_factory=lambda: list(DEFAULTS["simulators"]))
    bers: list = field(default_factory=lambda: list(DEFAULTS["bers"]))
    fault_modes: list = field(default_factory=lambda: list(DEFAULTS["fault_modes"]))
    seeds: list = field(default_factory=lambda: list(DEFAULTS["seeds"]))
    images: int = DEFAULTS["images"]
    stalls: list = field(default_factory=lambda: list(DEFAULTS["stalls"]))
    memories: list = field(default_factory=lambda: list(DEFAULTS["memories"]))

    def check(self, where: str) -> "Matrix":
        """One line naming the first bad entry."""
        from bnnmram.cosim.tools import SIMULATORS
        from bnnmram.models.data.datasets import NAMES
        if not self.nets:
            raise BnnMramError(f"{where}: no nets (give nets = [...] or --net)")
        from bnnmram.models.memory import NAMES as MEMORIES
        for k in ("nets", "foldings", "simulators", "bers", "fault_modes", "seeds", "stalls", "memories"):
            v = getattr(self, k)
            if not isinstance(v, list) or not v:
                raise BnnMramError(f"{where}: {k} must be a non-empty list")
            if len(set(map(repr, v))) != len(v):
                raise BnnMramError(f"{where}: {k} lists a value twice")
        for p in self.nets:
            if not isinstance(p, str):
                raise BnnMramError(f"{where}: nets entry {p!r} is not a path")
            if Path(p).is_dir():
                raise BnnMramError(f"{where}: net file {p!r} is a folder")
            if not Path(p).is_file():
                raise BnnMramError(f"{where}: net file {p!r} does not exist")
        if self.dataset not in NAMES:
            raise BnnMramError(f"{where}: unknown dataset {self.dataset!r} (one of {', '.join(NAMES)})")
        for f in self.foldings:
            fold_args(f, where)
        for s in self.simulators:
            if s not in SIMULATORS:
                raise BnnMramError(f"{where}: unknown simulator {s!r} (one of {', '.join(SIMULATORS)})")
        for b in self.bers:
            if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1:
                raise BnnMramError(f"{where}: bit error rate {b!r} is not a number in [0, 1]")
        for m in self.fault_modes:
            if m not in FAULT_MODES:
                raise BnnMramError(f"{where}: unknown fault mode {m!r} (ber or switch)")
        for mem in self.memories:
            if mem not in MEMORIES:
                raise BnnMramError(f"{where}: unknown memory technology {mem!r} (one of {', '.join(MEMORIES)})")
        if "switch" in self.fault_modes and set(self.memories) != {"stmram"}:
            raise BnnMramError(f"{where}: fault mode switch is ST-MRAM's; resistive memories take bers only")
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2 ** 32:
                raise BnnMramError(f"{where}: seed {s!r} is not a 32-bit unsigned integer")
        if isinstance(self.images, bool) or not isinstance(self.images, int) or self.images < 2:
            raise BnnMramError(f"{where}: images must be an integer >= 2, not {self.images!r}")
        for s in self.stalls:
            if not isinstance(s, bool):
                raise BnnMramError(f"{where}: stalls entries must be true or false, not {s!r}")
        self.bers = [float(b) for b in self.bers]
        return self


def fold_args(text, where: str = "folding") -> list[str]:
    """`bnnmram gen` arguments of a folding: "default", or "L:PE:SIMD[,L:PE:SIMD...]"."""
    from ..args import fold
    if not isinstance(text, str):
        raise BnnMramError(f"{where}: folding {text!r} must be a string")
    if text == "default":
        return []
    out = []
    for part in text.split(","):
        try:
            fold(part.strip())
        except Exception:
            raise BnnMramError(f"{where}: folding {text!r} must be 'default' or LAYER:PE:SIMD[,LAYER:PE:SIMD...]") from None
        out += ["--fold", part.strip()]
    return out


def load_matrix(path) -> dict:
    """The matrix file's keys (paths of nets made relative to the file's folder)."""
    path = Path(path)
    if path.is_dir():
        raise BnnMramError(f"matrix file {path} is a folder; give the TOML file")
    if not path.is_file():
        raise BnnMramError(f"matrix file {path} does not exist")
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BnnMramError(f"matrix file {path} is not valid TOML ({str(e).splitlines()[0]})") from None
    for k, v in doc.items():
        if k not in KEYS:
            raise BnnMramError(f"matrix file {path}: unknown key {k!r} (known: {', '.join(KEYS)})")
        if not isinstance(v, KEYS[k]) or isinstance(v, bool):
            raise BnnMramError(f"matrix file {path}: {k} must be {TYPE_NAMES[KEYS[k]]}, not {v!r}")
    if "nets" in doc:
        doc["nets"] = [str((path.parent / p).resolve()) if isinstance(p, str) else p for p in doc["nets"]]
    return doc


def matrix_from(args) -> Matrix:
    """The matrix file (if any) with the command-line options on top."""
    doc = load_matrix(args.matrix) if args.matrix else {}
    cli = {"nets": args.net, "dataset": args.dataset, "foldings": args.folding, "simulators": args.sims,
           "bers": args.ber, "fault_modes": args.fault_modes, "seeds": args.seeds, "images": args.images,
           "stalls": {"off": [False], "on": [True], "both": [False, True]}.get(args.stalls),
           "memories": args.memory}
    doc.update({k: v for k, v in cli.items() if v is not None})
    if "nets" not in doc:
        raise BnnMramError("regress: no nets (give --net or a --matrix file with nets = [...])")
    return Matrix(**doc).check(args.matrix or "regress")


@dataclass(frozen=True)
class Run:
    index: int
    design: str
    net: str
    folding: str
    simulator: str
    ber: float
    fault_mode: str
    seed: int
    images: int
    stalls: bool
    dataset: str

    @property
    def id(self) -> str:
        return (f"{self.design}-{self.simulator}-{self.fault_mode}{self.ber:g}-seed{self.seed}"
                + ("-stalls" if self.stalls else ""))

    def sim_argv(self, rtl: Path, out: Path) -> list[str]:
        """The one `bnnmram sim` command of this run."""
        argv = ["sim", "--rtl", str(rtl), "--net", self.net, "--dataset", self.dataset, "--sim", self.simulator,
                "--images", str(self.images), "--seed", str(self.seed), "--out", str(out)]
        if self.fault_mode == "switch":
            argv += ["--fault-mode", "switch", "--rate01", f"{self.ber:g}", "--rate10", f"{self.ber:g}"]
        else:
            argv += ["--ber", f"{self.ber:g}"]
        return argv + (["--stalls"] if self.stalls else [])


def plan(m: Matrix) -> tuple[dict, list[Run]]:
    """Designs {name: (net, folding, memory)} and the runs, in matrix order."""
    designs, runs = {}, []
    for (i, net), (j, folding), memory in itertools.product(enumerate(m.nets), enumerate(m.foldings), m.memories):
        name = f"net{i}-fold{j}" + ("" if memory == "stmram" else f"-{memory}")
        designs[name] = (net, folding, memory)
        for sim, mode, ber, seed, stalls in itertools.product(m.simulators, m.fault_modes, m.bers, m.seeds, m.stalls):
            runs.append(Run(len(runs), name, net, folding, sim, ber, mode, seed, m.images, stalls, m.dataset))
    return designs, runs


def run(args):
    from ..cluster import client, gather
    from ..cluster.regress_tasks import build_task, sim_task
    from . import run_step
    m = matrix_from(args)
    out = Path(args.out)
    od = OutputDir(out, "regress", FILES).check()
    designs, runs = plan(m)
    nets = {p: netfile.load(p) for p in m.nets}
    for p_, net in nets.items():
        refuse_bayesian(net, p_, "regress")
    print(f"regress: {len(runs)} runs: {len(m.nets)} net(s) x {len(m.foldings)} folding(s) x "
          f"{len(m.simulators)} simulator(s) x {len(m.fault_modes)} fault mode(s) x {len(m.bers)} BER(s) x "
          f"{len(m.seeds)} seed(s) x {len(m.stalls)} stall setting(s), {m.images} images each", flush=True)
    t0 = time.time()
    with client(args.scheduler, args.workers, "regress") as c:   # first: an unreachable cluster costs no RTL
        workers = len(c.scheduler_info()["workers"])
        rtl, t_gen = {}, time.time()
        for name, (net, folding, memory) in designs.items():
            rtl[name] = (out / "rtl" / name).resolve()
            print(f"regress: {name}: bnnmram gen --net {net} {' '.join(fold_args(folding))}".rstrip(), flush=True)
            code = run_step(["gen", "--net", net, "--memory", memory, "--out", str(rtl[name])] + fold_args(folding))
            if code:
                raise BnnMramError(f"regress: bnnmram gen failed for {name}")
        t_gen = time.time() - t_gen   # not part of the wall time (the cluster and the runs)
        builds = {(d, s): c.submit(build_task, str(rtl[d]), s, str((out / "builds" / f"{d}-{s}.log").resolve()),
                                   pure=False, key=f"build-{d}-{s}-{time.time_ns()}")
                  for d in designs for s in m.simulators}
        futures = {}
        for r in runs:
            f = c.submit(sim_task, r, str(rtl[r.design]), str((out / "runs" / r.id).resolve()),
                         builds[(r.design, r.simulator)], pure=False, key=f"sim-{r.id}-{time.time_ns()}")
            futures[f] = r
        rows = [None] * len(runs)
        for fut, row in gather(c, list(futures), "regress"):
            r = futures[fut]
            rows[r.index] = _row(r, row, rtl[r.design], out.resolve())
            if row["status"] != "pass":
                tqdm.write(f"regress: {row['status'].upper()} {r.id}: "
                           f"{row.get('error') or str(row.get('mismatches')) + ' mismatches'}; reproduce: "
                           f"{rows[r.index]['reproduce']}")
    wall = time.time() - t0 - t_gen
    doc = report(m, designs, rtl, nets, rows, {"wall_seconds": round(wall, 2), "workers": workers,
                                                 "scheduler": args.scheduler or "local"})
    with od:
        od.write("regress.json", json.dumps(doc, indent=1) + "\n")
        od.write("regress.xml", junit(doc))
        od.write("regress.md", markdown(doc))
        od.commit()
    s = doc["summary"]
    print(f"regress: {s['passed']} passed, {s['failed']} failed, {s['errors']} errors of {s['runs']} runs "
          f"in {wall:.1f} s on {workers} worker(s) -> {out / 'regress.json'}, regress.xml, regress.md")
    return 0 if s["passed"] == s["runs"] else 1


def _row(r: Run, row: dict, rtl: Path, out: Path) -> dict:
    argv = r.sim_argv(rtl, out / "rerun" / r.id)   # a new folder: the run's own stays as it was
    return {"id": r.id, "design": r.design, "net": r.net, "folding": r.folding, "simulator": r.simulator,
            "fault_mode": r.fault_mode, "ber": r.ber, "seed": r.seed, "images": r.images, "stalls": r.stalls,
            **row, "reproduce": "bnnmram " + " ".join(argv)}


def report(m: Matrix, designs, rtl, nets, rows, timing) -> dict:
    """regress.json: the matrix, the designs, every run's row, the summary; timings apart."""
    seconds = [r.pop("seconds") for r in rows]
    count = {s: sum(r["status"] == s for r in rows) for s in ("pass", "fail", "error")}
    return {"format": "bnnmram-regress", "version": 1, "matrix": asdict(m),
            "designs": {d: {"net": n, "net_sha256": netfile.digest(nets[n]), "folding": f, "memory": mem,
                            "rtl": str(rtl[d])} for d, (n, f, mem) in designs.items()},
            "runs": rows,
            "summary": {"runs": len(rows), "passed": count["pass"], "failed": count["fail"], "errors": count["error"],
                        "mismatches": sum(r.get("mismatches") or 0 for r in rows)},
            "timing": {**timing, "run_seconds": {r["id"]: s for r, s in zip(rows, seconds)},
                       "sum_run_seconds": round(sum(seconds), 2)}}


def junit(doc) -> str:
    """JUnit XML: one testsuite per design, one testcase per run (CI systems read this)."""
    suites = ET.Element("testsuites", name="bnnmram regress", tests=str(doc["summary"]["runs"]),
                        failures=str(doc["summary"]["failed"]), errors=str(doc["summary"]["errors"]))
    secs = doc["timing"]["run_seconds"]
    for d in doc["designs"]:
        runs = [r for r in doc["runs"] if r["design"] == d]
        s = ET.SubElement(suites, "testsuite", name=d, tests=str(len(runs)),
                          failures=str(sum(r["status"] == "fail" for r in runs)),
                          errors=str(sum(r["status"] == "error" for r in runs)),
                          time=f"{sum(secs[r['id']] for r in runs):.2f}")
        for r in runs:
            case = ET.SubElement(s, "testcase", classname=f"regress.{d}", name=r["id"], time=f"{secs[r['id']]:.2f}")
            if r["status"] == "fail":
                ET.SubElement(case, "failure", message=f"{r['mismatches']} mismatches, "
                              f"{r['readback_mismatches']} read-back mismatches").text = "reproduce: " + r["reproduce"]
            elif r["status"] == "error":
                ET.SubElement(case, "error", message=r["error"] or "error").text = "reproduce: " + r["reproduce"]
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def markdown(doc) -> str:
    s, t = doc["summary"], doc["timing"]
    lines = [f"# bnnmram regress: {s['passed']} passed, {s['failed']} failed, {s['errors']} errors of {s['runs']} runs",
             "", f"Wall time {t['wall_seconds']} s on {t['workers']} worker(s) ({t['scheduler']}); the runs took "
             f"{t['sum_run_seconds']} s together.", "",
             "| design | net | folding |", "|---|---|---|"]
    lines += [f"| {d} | {v['net']} | {v['folding']} |" for d, v in doc["designs"].items()]
    lines += ["", "| run | status | mismatches | accuracy | golden | cycles/image (analytic) | writes/word (max) | "
              "words beyond endurance | s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["runs"]:
        acc = f"{100 * r['accuracy']:.2f} %" if r.get("accuracy") is not None else ""
        gold = f"{100 * r['golden_accuracy']:.2f} %" if r.get("golden_accuracy") is not None else ""
        cyc = (f"{r['cycles_per_image']} ({r['cycles_per_image_analytic']})"
               if r.get("cycles_per_image") is not None else "")
        beyond = r.get("words_beyond_endurance")
        lines.append(f"| {r['id']} | {r['status']} | {r.get('mismatches', '')} | {acc} | {gold} | {cyc} | "
                     f"{r.get('writes_per_word_max') or ''} | {'' if beyond is None else beyond} | "
                     f"{t['run_seconds'][r['id']]} |")
    bad = [r for r in doc["runs"] if r["status"] != "pass"]
    if bad:
        lines += ["", "## Failing runs (each reproduced by one command)", ""]
        lines += [f"- {r['id']}: {r.get('error') or str(r['mismatches']) + ' mismatches'}  \n  `{r['reproduce']}`"
                  for r in bad]
    return "\n".join(lines) + "\n"
