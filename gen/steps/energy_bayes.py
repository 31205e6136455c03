"""`bnnmram energy` of a Bayesian net: the energy and area of read-time sampling per inference
(models.bayes.energy) against the deterministic net of the same shapes, for T = 1..--samples."""
import json
import shutil
import tempfile
from pathlib import Path

from bnnmram.hdl.generate import load_manifest
from bnnmram.hdl.sampler import LevelComparator, ReadSampler
from bnnmram.models.bayes import energy as sampling_energy
from bnnmram.models.memory import technology
from bnnmram.models.mram.inference import ACTIVITY, C_TRANSISTOR_FF, VDD
from bnnmram.models.net import kinds

from ..outputs import make_dir
from ..yosys import transistors

SAMPLES = (1, 2, 4, 8, 16, 32)


def folding(args, net) -> tuple[int, int]:
    """(samplers = sum of PE*SIMD over weight layers, cycles per pass) of --rtl or the default folding."""
    if args.rtl:
        from bnnmram.cosim.vectors import check_rtl_matches
        man = load_manifest(args.rtl)
        check_rtl_matches(net, man, args.rtl)
        lanes = sum(l["pe"] * l["simd"] for l in man["layers"] if kinds.KINDS[l["kind"]].has_weights)
        return lanes, man["cycles_per_image"]
    from bnnmram.hdl.net_folding import fold_net
    folds = fold_net(net, None, None, {})
    return sum(f.pe * f.simd for l, f in zip(net.layers, folds) if l.has_weights), max(f.cycles for f in folds)


def run_bayesian(args, net, od):
    out = Path(args.out)
    t_max = args.samples or max(SAMPLES)
    samplers, cycles = folding(args, net)
    rram = technology("rram")
    cond = rram.condition()
    read_pj = rram.read_energy_pj(cond)
    print(f"energy: Bayesian net, {samplers} samplers (PE*SIMD), {cycles} cycles per pass; synthesizing one "
          "read-bit sampler for area", flush=True)
    work = Path(tempfile.mkdtemp(prefix=".energy-", dir=make_dir(out)))
    try:
        per_sampler = transistors(work, ReadSampler(), "read_sampler")
        per_comparator = transistors(work, LevelComparator(), "level_comparator")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    det = sampling_energy.per_image(net, 1, read_pj, 0, cycles)
    rows = [sampling_energy.per_image(net, t, read_pj, samplers * per_sampler, cycles)
            for t in sorted({t for t in SAMPLES if t <= t_max} | {t_max})]
    doc = {"net": str(args.net), "bayesian": True, "memory": "rram", "condition": rram.condition_text(cond),
           "read_energy_per_bit_pj": read_pj, "reads_per_pass": sampling_energy.reads_per_pass(net),
           "cycles_per_pass": cycles, "samplers": samplers, "sampler_transistors_each": per_sampler,
           "sampler_transistors": samplers * per_sampler, "comparator_transistors_each": per_comparator,
           "assumptions": [sampling_energy.__doc__.strip().splitlines()[0],
                           f"sampler logic: activity {ACTIVITY}, {C_TRANSISTOR_FF} fF per transistor, {VDD} V "
                           "(models/mram/inference.py); RRAM read energy at its default condition"],
           "deterministic": {"samples": 1, "reads": det.reads, "read_pj": det.read_pj, "sampler_pj": 0.0,
                             "total_pj": det.total_pj},
           "by_samples": [{"samples": r.samples, "reads": r.reads, "read_pj": r.read_pj, "sampler_pj": r.sampler_pj,
                           "total_pj": r.total_pj, "vs_deterministic": r.total_pj / det.total_pj} for r in rows]}
    md = [f"# Sampling energy of {args.net}", "",
          f"RRAM 1T1R at {doc['condition']}: {read_pj:.4g} pJ per weight read; {doc['reads_per_pass']:,} weight "
          f"reads per pass, {cycles} cycles per pass; {samplers} samplers of {per_sampler:,} transistors each "
          f"({samplers * per_sampler:,} transistors, Yosys generic; the 33-bit level comparator is "
          f"{per_comparator:,} of them, the rest the 8-round hash).", "",
          "| T | reads per image | read energy (pJ) | sampler logic (pJ) | total (pJ) | vs deterministic |",
          "|---|---|---|---|---|---|",
          f"| deterministic | {det.reads:,} | {det.read_pj:.1f} | 0 | {det.total_pj:.1f} | 1.00x |"]
    md += [f"| {r.samples} | {r.reads:,} | {r.read_pj:.1f} | {r.sampler_pj:.1f} | {r.total_pj:.1f} | "
           f"{r.total_pj / det.total_pj:.2f}x |" for r in rows]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ts = [r.samples for r in rows]
    ax.plot(ts, [r.read_pj / 1e3 for r in rows], "o-", label="weight reads")
    ax.plot(ts, [r.total_pj / 1e3 for r in rows], "s-", label="reads + samplers")
    ax.axhline(det.total_pj / 1e3, color="k", ls="--", label="deterministic BNN")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("passes per image T")
    ax.set_ylabel("energy per image (nJ)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with od:
        od.write("energy.json", json.dumps(doc, indent=1) + "\n")
        od.write("energy.md", "\n".join(md) + "\n")
        fig.savefig(od.stage("energy_vs_samples.png"), dpi=110, format="png")
        od.commit()
    plt.close(fig)
    for line in md[2:]:
        print(line)
    print(f"energy: -> {out / 'energy.json'}, energy.md, energy_vs_samples.png")
    return 0
