"""Accuracy-vs-BER sweeps: trials, statistics, CSV/JSON/Markdown and the figure."""
import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from .campaign import Campaign
from ..errors import BnnMramError
from .model import FaultConfig

TOLERANCE = 0.01  # "tolerated": mean accuracy within 1 point of error-free


MAX_RATES = 1000


def parse_bers(text: str) -> list[float]:
    """'1e-6,1e-5,...,1e-1': a comma list; '...' fills in decades between its neighbours,
    which must be positive and increasing."""
    parts = [p.strip() for p in str(text).split(",")]
    usage = f"--ber {text!r} must be a comma list of rates, e.g. 1e-6,1e-5,...,1e-1"
    if not text or not all(parts):
        raise BnnMramError(usage)
    out = []
    try:
        for i, p in enumerate(parts):
            if p == "...":
                if i == 0 or i == len(parts) - 1 or parts[i + 1] == "...":
                    raise ValueError
                lo, hi = out[-1], float(parts[i + 1])
                if not (0 < lo < hi <= 1):
                    raise BnnMramError(f"--ber {text!r}: '...' fills decades between two rates in (0, 1], "
                                       f"the second larger, not {lo:g} and {hi:g}")
                v = lo * 10
                while v < hi * (1 - 1e-9):
                    out.append(float(f"{v:.6g}"))
                    v *= 10
            else:
                out.append(float(p))
    except (ValueError, IndexError):
        raise BnnMramError(usage) from None
    for b in out:
        if not 0 <= b <= 1:
            raise BnnMramError(f"bit error rate must be in [0, 1], not {b:g}")
    if len(set(out)) > MAX_RATES:
        raise BnnMramError(f"--ber {text!r}: more than {MAX_RATES} rates")
    return sorted(set(out))


@dataclass
class NetSweep:
    label: str
    clean_accuracy: float
    bers: list
    acc: np.ndarray      # [len(bers), trials]
    points: list | None = None   # per BER, what programming condition it is (condition sweeps)

    def summary(self) -> dict:
        rows = []
        for b, a in zip(self.bers, self.acc):
            n = len(a)
            mean = float(a.mean())
            std = float(a.std(ddof=1)) if n > 1 else 0.0
            half = float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)) if n > 1 else 0.0
            rows.append({"ber": b, "mean": mean, "std": std, "ci95": [mean - half, mean + half],
                         "trials": n})
        tolerated = None
        for r in rows:
            if r["mean"] >= self.clean_accuracy - TOLERANCE:
                tolerated = r["ber"]
            else:
                break
        if self.points:
            for r, p in zip(rows, self.points):
                r.update(p.info())
        return {"label": self.label, "clean_accuracy": self.clean_accuracy, "per_ber": rows,
                "tolerated_ber": tolerated, "tolerance": TOLERANCE}


def trial_config(seed: int, t: int, point) -> FaultConfig:
    """The fault pattern of trial t at one point: fault seed `seed + t` at every point (nested
    fault sets, less noise). A point is a BER (ST-MRAM's rate) or an object whose
    `config(seed)` gives the FaultConfig (a memory technology's condition, models.memory.points)."""
    s = (seed + t) % 2**32
    return point.config(s) if hasattr(point, "config") else FaultConfig(seed=s, ber=point)


def point_ber(point) -> float:
    return point.ber if hasattr(point, "config") else point


def run(campaign: Campaign, label: str, points, trials: int, seed: int, progress=None) -> NetSweep:
    """Every trial at every point (trial_config), and the error-free accuracy."""
    acc = np.zeros((len(points), trials))
    clean = campaign.accuracy(FaultConfig())
    for t in range(trials):
        for i, p in enumerate(points):
            acc[i, t] = campaign.accuracy(trial_config(seed, t, p))
            if progress:
                progress(1)
    return sweep_of(label, clean, points, acc)


def sweep_of(label, clean, points, acc) -> NetSweep:
    """A NetSweep from its points (BERs, or condition points carrying their own BER)."""
    conditions = any(hasattr(p, "config") for p in points)
    return NetSweep(label, clean, [point_ber(p) for p in points], acc, list(points) if conditions else None)


ERRORS = {"write": "MRAM write errors", "read": "MRAM read errors at each inference"}


def describe(doc) -> str:
    """What the sweep injected, for captions: kind, thresholds, layers."""
    text = ERRORS[doc.get("errors", "write")]
    if doc.get("thresholds"):
        text += " in weights and thresholds"
    if doc.get("layers") is not None:
        text += f", layers {', '.join(map(str, doc['layers']))} only"
    if doc.get("per_layer"):
        text += ", one layer at a time"
    return text


def document(sweeps: list[NetSweep], seed: int, errors: str = "write", thresholds: bool = False,
             layers: list[int] | None = None, sources: list[dict] | None = None, per_layer: bool = False) -> dict:
    """sweep.json: what was injected (`errors`, `thresholds`, `layers`, `per_layer`: each
    weighted layer swept alone), and per net (per layer) its summary plus where it came from
    (`net_path`, `net_sha256`, `dataset`, `layers` with errors: null = all)."""
    nets = [s.summary() for s in sweeps]
    for n, src in zip(nets, sources or []):
        n.update({"net_path": src["path"], "net_sha256": src["sha256"], "dataset": src["dataset"],
                  "layers": src.get("layers")})
    return {"seed": seed, "errors": errors, "thresholds": thresholds, "layers": layers, "per_layer": per_layer,
            "nets": nets}


CSV_COLUMNS = ["net", "ber", "trial", "seed", "accuracy", "net_sha256", "net_path"]


def csv_text(sweeps: list[NetSweep], seed: int, sources: list[dict]) -> str:
    """sweep.csv: one row per (net, point, trial); condition sweeps add the memory, its
    condition and the programming energy per bit after the columns of a BER sweep."""
    fh = io.StringIO()
    w = csv.writer(fh, lineterminator="\n")
    extra = next((list(s.points[0].info()) for s in sweeps if s.points), [])
    w.writerow(CSV_COLUMNS + extra)
    for s, src in zip(sweeps, sources):
        for k, (b, row) in enumerate(zip(s.bers, s.acc)):
            more = [v if isinstance(v, str) else f"{v:g}" for v in s.points[k].info().values()] if s.points else []
            for t, a in enumerate(row):
                w.writerow([s.label, f"{b:g}", t, seed + t, f"{a:.6f}", src["sha256"], src["path"]] + more)
    return fh.getvalue()


def _point_text(r) -> str:
    if "condition" not in r:
        return f"{r['ber']:g}"
    return f"{r['condition']} (BER {r['ber']:.3g}, {r['energy_pj_per_bit']:.3g} pJ/bit)"


def markdown(doc) -> str:
    nets = doc["nets"]
    bers = nets[0]["per_ber"]
    what = "programming condition" if "condition" in bers[0] else "BER"
    head = f"| {what} | " + " | ".join(n["label"] for n in nets) + " |\n|---|" + "---|" * len(nets) + "\n"
    lines = ["| error-free | " + " | ".join(f"{n['clean_accuracy'] * 100:.2f}" for n in nets) + " |"]
    for i, r in enumerate(bers):
        cells = []
        for n in nets:
            p = n["per_ber"][i]
            cells.append(f"{p['mean'] * 100:.2f} ± {(p['ci95'][1] - p['mean']) * 100:.2f}")
        lines.append(f"| {_point_text(r)} | " + " | ".join(cells) + " |")
    lines.append("| **tolerated BER** (within 1 point) | " + " | ".join(
        f"{n['tolerated_ber']:g}" if n["tolerated_ber"] is not None else "< smallest" for n in nets) + " |")
    return (f"Test accuracy (%) under {describe(doc)}, mean ± 95% confidence half-width over "
            f"{bers[0]['trials']} fault patterns per point.\n\n" + head + "\n".join(lines) + "\n")


def plot(doc, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    if "condition" in doc["nets"][0]["per_ber"][0]:
        return plot_energy(doc, path, fig, ax, plt)
    for n in doc["nets"]:
        b = [r["ber"] for r in n["per_ber"] if r["ber"] > 0]
        m = [r["mean"] * 100 for r in n["per_ber"] if r["ber"] > 0]
        lo = [r["ci95"][0] * 100 for r in n["per_ber"] if r["ber"] > 0]
        hi = [r["ci95"][1] * 100 for r in n["per_ber"] if r["ber"] > 0]
        line, = ax.semilogx(b, m, "o-", ms=3, label=f"{n['label']} (error-free {n['clean_accuracy'] * 100:.1f}%)")
        ax.fill_between(b, lo, hi, color=line.get_color(), alpha=0.2)
        if n["tolerated_ber"]:
            ax.axvline(n["tolerated_ber"], color=line.get_color(), ls=":", lw=1)
    what = describe(doc)
    ax.set_xlabel(f"bit error rate ({what}, no ECC)", fontsize=8 if len(what) > 40 else None)
    finish_accuracy_plot(fig, ax, plt, path, "BNN accuracy vs. ST-MRAM bit error rate (dotted: tolerated, "
                         "within 1 point)", "lower left")


def plot_energy(doc, path: Path, fig, ax, plt):
    """Condition sweeps: accuracy against programming energy per bit, one point a condition."""
    for n in doc["nets"]:
        rows = sorted(n["per_ber"], key=lambda r: r["energy_pj_per_bit"])
        e = [r["energy_pj_per_bit"] for r in rows]
        m = [r["mean"] * 100 for r in rows]
        err = [[(r["mean"] - r["ci95"][0]) * 100 for r in rows], [(r["ci95"][1] - r["mean"]) * 100 for r in rows]]
        ax.errorbar(e, m, yerr=err, fmt="o-", ms=3, capsize=2,
                    label=f"{n['label']} (error-free {n['clean_accuracy'] * 100:.1f}%)")
    energy_axis(ax)
    finish_accuracy_plot(fig, ax, plt, path, "BNN accuracy vs. programming energy (each point a programming "
                         "condition)", "lower right")


def energy_axis(ax):
    ax.set_xscale("log")
    ax.set_xlabel("programming energy per weight bit (pJ, no ECC)")


def finish_accuracy_plot(fig, ax, plt, path: Path, title: str, legend: str):
    """The accuracy axis, title, grid and legend of an accuracy figure; write it as PNG."""
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc=legend)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
