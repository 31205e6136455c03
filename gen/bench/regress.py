"""Scaling of `bnnmram regress`: the demo net's regression (both simulators, 3 BERs, 4 seeds) on
1 and then 2 local Dask workers, in one run, each regression building its own simulator models;
then the per-core rates a cluster plan needs (docs/scaling.md).

    python -m bnnmram.gen.bench.regress [--net build/demo/net/net.json] [--images 20] --out build/bench/regress
"""
import argparse
import json
from pathlib import Path

from ..steps import run_step

SIGNOFF = {"images": 10_000, "seeds": 20, "bers": 3}   # the sign-off regression to plan for


def rates(out: Path) -> dict:
    """Per simulator: streaming images/s of one core, and a run's fixed seconds (vectors,
    start-up, programming): the run's seconds minus its streaming time."""
    doc = json.loads((out / "regress.json").read_text())
    per = {}
    for r in doc["runs"]:
        sim = json.loads((out / "runs" / r["id"] / "sim.json").read_text())
        p = per.setdefault(r["simulator"], {"images": 0, "stream_s": 0.0, "fixed_s": []})
        p["images"] += sim["images"]
        p["stream_s"] += sim["stream_seconds"]
        p["fixed_s"].append(doc["timing"]["run_seconds"][r["id"]] - sim["stream_seconds"])
    return {s: {"images_per_second_per_core": round(p["images"] / p["stream_s"], 2),
                "fixed_seconds_per_run": round(sum(p["fixed_s"]) / len(p["fixed_s"]), 1)} for s, p in per.items()}


def plan(rate: dict) -> dict:
    """Cores that run the sign-off regression (per simulator) in one hour at these rates."""
    runs = SIGNOFF["seeds"] * SIGNOFF["bers"]
    out = {}
    for sim, r in rate.items():
        core_s = runs * (r["fixed_seconds_per_run"] + SIGNOFF["images"] / r["images_per_second_per_core"])
        out[sim] = {"runs": runs, "core_hours": round(core_s / 3600, 2), "cores_for_one_hour": -(-int(core_s) // 3600)}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", default="build/demo/net/net.json")
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--out", default="build/bench/regress")
    args = p.parse_args(argv)
    out = Path(args.out)
    walls = {}
    for w in (1, 2):
        d = out / f"workers{w}"
        argv = ["regress", "--net", args.net, "--dataset", "fashion-mnist", "--sims", "verilator,icarus",
                "--ber", "0,1e-3,1e-2", "--seeds", "1,2,3,4", "--images", str(args.images), "--workers", str(w),
                "--out", str(d)]
        print("bench_regress: bnnmram " + " ".join(argv), flush=True)
        code = run_step(argv)
        doc = json.loads((d / "regress.json").read_text())
        walls[w] = doc["timing"]["wall_seconds"]
        if code:
            raise SystemExit(f"bench_regress: the {w}-worker regression failed: {d / 'regress.md'}")
    rate = rates(out / "workers1")
    doc = {"wall_seconds": walls, "speedup": round(walls[1] / walls[2], 2), "images_per_run": args.images,
           "rates": rate, "signoff": SIGNOFF, "plan": plan(rate)}
    (out / "bench_regress.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
