"""Accuracy against programming energy per bit for the three memory technologies: one
`bnnmram sweep` per technology over a grid of programming conditions (each point a condition,
10 fault patterns, the full test set), merged into one figure and one Markdown table.

    python -m bnnmram.gen.bench.memory --net build/demo/net/net.json --out build/bench/memory
"""
import argparse
import json
from pathlib import Path

from bnnmram.models.faults.sweep import energy_axis, finish_accuracy_plot

from ..steps import run_step

GRIDS = {   # programming-condition lists per technology (every combination is a point)
    "stmram": ["--write-ua", "90,95,100,105,110,120,140,180", "--pulse-ns", "10"],
    "rram": ["--compliance-ua", "5,7,10,15,20", "--reset-v", "0.7,0.8,0.9,1.0,1.1"],
    "rram2t2r": ["--compliance-ua", "5,7,10,15,20", "--reset-v", "0.7,0.8,0.9,1.0,1.1"],
}
TITLES = {"stmram": "ST-MRAM", "rram": "RRAM 1T1R", "rram2t2r": "RRAM 2T2R"}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", required=True)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    out = Path(a.out)
    docs = {}
    for mem, grid in GRIDS.items():
        argv = ["sweep", "--net", a.net, "--dataset", a.dataset, "--memory", mem, *grid,
                "--trials", str(a.trials), "--label", TITLES[mem], "--out", str(out / mem)]
        if a.limit:
            argv += ["--limit", str(a.limit)]
        if not (out / mem / "sweep.json").exists():
            if run_step(argv):
                raise SystemExit(f"bench_memory: the {mem} sweep failed")
        docs[mem] = json.loads((out / mem / "sweep.json").read_text())
    plot(docs, out / "accuracy_vs_energy.png")
    (out / "accuracy_vs_energy.md").write_text(markdown(docs))
    print(markdown(docs))


def frontier(rows):
    """The conditions no other condition beats on both energy and accuracy, by energy."""
    rows = sorted(rows, key=lambda r: (r["energy_pj_per_bit"], -r["mean"]))
    best, out = -1.0, []
    for r in rows:
        if r["mean"] > best:
            out.append(r)
            best = r["mean"]
    return out


def markdown(docs) -> str:
    lines = ["| memory | condition | modelled BER | programming energy (pJ/bit) | accuracy (%, 95% CI) |",
             "|---|---|---|---|---|"]
    for mem, doc in docs.items():
        n = doc["nets"][0]
        for r in frontier(n["per_ber"]):
            lines.append(f"| {TITLES[mem]} | {r['condition']} | {r['modelled_ber']:.2g} | "
                         f"{r['energy_pj_per_bit']:.3g} | {r['mean'] * 100:.2f} "
                         f"[{r['ci95'][0] * 100:.2f}, {r['ci95'][1] * 100:.2f}] |")
        lines.append(f"| {TITLES[mem]} | error-free | 0 | | {n['clean_accuracy'] * 100:.2f} |")
    return ("Each technology's Pareto frontier (no other condition both cheaper and more accurate) "
            "of its condition grid (gen/bench_memory.py).\n\n" + "\n".join(lines) + "\n")


def plot(docs, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    for mem, doc in docs.items():
        rows = doc["nets"][0]["per_ber"]
        line = ax.scatter([r["energy_pj_per_bit"] for r in rows], [r["mean"] * 100 for r in rows], s=12,
                          label=TITLES[mem], alpha=0.6)
        f = frontier(rows)
        ax.plot([r["energy_pj_per_bit"] for r in f], [r["mean"] * 100 for r in f], "-",
                color=line.get_facecolor()[0])
    clean = docs["stmram"]["nets"][0]["clean_accuracy"] * 100
    ax.axhline(clean - 1, color="grey", ls=":", lw=1, label="error-free - 1 point")
    ax.set_ylim(max(0, clean - 30), clean + 2)
    energy_axis(ax)
    finish_accuracy_plot(fig, ax, plt, path, "Demo MLP: accuracy vs. programming energy (each point a "
                         "condition, 10 patterns)", "lower right")


if __name__ == "__main__":
    main()
