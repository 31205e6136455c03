"""`bnnmram energy`: the table of programming options for one net (models/mram/energy.py)."""
import dataclasses
import json
import math
import shutil
import tempfile
from pathlib import Path

from bnnmram.hdl.generate import load_manifest
from bnnmram.hdl.secded import SecdedDecoder, SecdedEncoder
from bnnmram.models.data import datasets
from bnnmram.models.mram import energy, physics as phy
from bnnmram.models.net import kinds, netfile
from bnnmram.models.faults.reference import campaign_for
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.sweep import describe, parse_bers
from ..conditions import refuse_samples
from ..outputs import OutputDir, make_dir
from ..yosys import transistors
from ..args import DATA_DIR_HELP, MEMORIES, dataset, positive, samples, seed

SWEEP_BERS = "1e-6,1e-4,2e-4,5e-4,1e-3,2e-3,5e-3,1e-2,2e-2,5e-2,1e-1"


def add_parser(sub):
    p = sub.add_parser("energy", help="energy/area table: strong, ECC, write-verify, weak programming")
    p.add_argument("--net", required=True)
    p.add_argument("--rtl", default=None, help="generated RTL (sizes the ECC decoders per read cycle)")
    p.add_argument("--sweep", default=None, help="sweep.json giving the tolerated BER (else a sweep runs)")
    p.add_argument("--dataset", type=dataset, default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--trials", type=positive, default=5, help="fault patterns per BER of that sweep")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--inferences-per-load", type=positive, default=1,
                   help="system energy scenario: inferences per full weight load")
    p.add_argument("--memory", choices=MEMORIES, default="stmram",
                   help="the weight memory whose programming options are costed")
    p.add_argument("--samples", type=samples, default=None,
                   help="Bayesian nets: the largest T of the sampling-energy table (default 32)")
    p.add_argument("--out", required=True)
    p.set_defaults(step=__name__)


def ecc_transistors(work: Path, decoders: int) -> dict:
    """Transistors of one SECDED encoder and `decoders` decoders (ABC needs about 90 s on the XOR
    trees of the (72,64) encoder the first time; cached afterwards)."""
    counts = {name: transistors(work, comp, f"secded_{name}")
              for name, comp in (("encoder", SecdedEncoder(energy.ECC_DATA_BITS)),
                                 ("decoder", SecdedDecoder(energy.ECC_DATA_BITS)))}
    counts["decoders"] = decoders
    counts["total"] = counts["encoder"] + decoders * counts["decoder"]
    return counts


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _sweep_problem(full) -> str | None:
    """What makes a sweep.json unusable here (None: nothing)."""
    if not isinstance(full, dict):
        return f"a JSON {type(full).__name__}, not an object"
    nets = full.get("nets")
    if not isinstance(nets, list) or not nets:
        return "field 'nets' missing or empty"
    doc = nets[0]
    if not isinstance(doc, dict):
        return "nets[0] is not an object"
    if not _number(doc.get("clean_accuracy")) or not 0 <= doc["clean_accuracy"] <= 1:
        return "nets[0].clean_accuracy missing or not an accuracy in [0, 1]"
    tol = doc.get("tolerated_ber", "missing")
    if tol is not None and not (_number(tol) and 0 <= tol <= 1):
        return "nets[0].tolerated_ber missing or not a rate in [0, 1] (or null)"
    rows = doc.get("per_ber")
    if not isinstance(rows, list) or not rows:
        return "nets[0].per_ber missing or empty"
    for k, r in enumerate(rows):
        if not (isinstance(r, dict) and _number(r.get("ber")) and 0 <= r["ber"] <= 1
                and _number(r.get("mean")) and 0 <= r["mean"] <= 1):
            return f"nets[0].per_ber[{k}] lacks a ber in [0, 1] or a mean accuracy in [0, 1]"
    if tol is not None and tol not in {r["ber"] for r in rows}:
        return f"nets[0].tolerated_ber {tol:g} is not one of its per_ber rates"
    for k, t in (("errors", str), ("thresholds", bool), ("per_layer", bool)):
        if k in full and not isinstance(full[k], t):
            return f"field {k!r} is not a {t.__name__}"
    if full.get("errors", "write") not in ("write", "read"):
        return f"field 'errors' is {full['errors']!r}, not 'write' or 'read'"
    if full.get("layers") is not None and not (isinstance(full["layers"], list)
                                               and all(isinstance(v, int) for v in full["layers"])):
        return "field 'layers' is not null or a list of layer numbers"
    return None


def _write_error_sweep(path: Path) -> dict:
    """The first net of a sweep.json of write errors in all weights (what programming sets)."""
    try:
        full = json.loads(path.read_text())
    except OSError as e:
        raise BnnMramError(f"--sweep {path}: cannot read it ({e.strerror})") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BnnMramError(f"--sweep {path}: not a sweep.json written by `bnnmram sweep` (not valid JSON)") from None
    problem = _sweep_problem(full)
    if problem:
        raise BnnMramError(f"--sweep {path}: not a sweep.json written by `bnnmram sweep` ({problem})")
    if (full.get("errors", "write") != "write" or full.get("thresholds") or full.get("layers") is not None
            or full.get("per_layer")):
        raise BnnMramError(f"--sweep {path}: a sweep of {describe(full)}; the energy model needs write "
                           "errors in all weights only (no --read-errors, --thresholds, --layers or --per-layer)")
    return full["nets"][0]


def tolerated(net, ds_name, trials, seed, sweep_json, data_dir=None, memory="stmram"):
    """(tolerated BER, accuracy at 1e-6, accuracy at the tolerated BER, sweep summary)."""
    if sweep_json:
        doc = _write_error_sweep(Path(sweep_json))
    else:
        from bnnmram.models.faults import sweep as sw
        ds = datasets.load(ds_name, data_dir)
        if ds.pixels != net.arch[0]:
            raise BnnMramError(f"net input size {net.arch[0]} does not match dataset {ds.name} ({ds.pixels} pixels)")
        camp = campaign_for(net, ds.test_x, ds.test_y)
        print(f"energy: sweeping {trials} fault patterns per BER on {ds_name} for the tolerated BER", flush=True)
        from bnnmram.models.memory.points import ber_points
        doc = sw.run(camp, "net", ber_points(memory, parse_bers(SWEEP_BERS)), trials, seed).summary()
    per = {r["ber"]: r["mean"] for r in doc["per_ber"]}
    tol = doc["tolerated_ber"]
    if tol is None:
        raise BnnMramError("the net tolerates none of the swept BERs (accuracy drops > 1 point at the smallest)")
    at_target = per.get(energy.TARGET_BER, doc["clean_accuracy"])
    return tol, at_target, per[tol], doc


FILES = ["energy.json", "energy.md", "energy_vs_ber.png"]
BAYES_FILES = ["energy.json", "energy.md", "energy_vs_samples.png"]


def run(args):
    net = netfile.load(args.net)
    if net.is_bayesian:
        from .energy_bayes import run_bayesian
        return run_bayesian(args, net, OutputDir(args.out, "energy", BAYES_FILES).check())
    refuse_samples(net, args.net, args.samples)
    od = OutputDir(args.out, "energy", FILES).check()
    out = Path(args.out)
    if args.sweep:
        _write_error_sweep(Path(args.sweep))  # refuse a bad sweep before any work
    bits = sum(l.n_in * l.n_out for l in net.layers)
    decoders = None
    if args.rtl:
        man = load_manifest(args.rtl)
        decoders = sum(math.ceil(l["mram_word_bits"] / energy.ECC_DATA_BITS) for l in man["layers"]
                       if kinds.KINDS[l["kind"]].has_weights)   # max-pool layers have no MRAM
    else:
        decoders = sum(l.has_weights for l in net.layers)
    if args.sweep and json.loads(Path(args.sweep).read_text()).get("memory", "stmram") != args.memory:
        raise BnnMramError(f"--sweep {args.sweep} was swept for another memory than --memory {args.memory}")
    tol, acc_target, acc_tol, sweep_doc = tolerated(net, args.dataset, args.trials, args.seed, args.sweep,
                                                    args.data_dir, args.memory)
    print("energy: synthesizing the SECDED (72,64) encoder and decoder for area", flush=True)
    work = Path(tempfile.mkdtemp(prefix=".energy-", dir=make_dir(out)))
    ecc_area = ecc_transistors(work, decoders)
    shutil.rmtree(work, ignore_errors=True)
    opts = energy.options(bits, tol, acc_target, acc_tol, ecc_area["total"], args.memory)
    a, b, c, d = opts
    n = args.inferences_per_load
    doc = {
        "net": str(args.net), "memory": args.memory, "weight_bits": bits, "target_ber": energy.TARGET_BER, "tolerated_ber": tol,
        "inferences_per_load": n, "mtj_params": phy.params_dict(), "read_energy_per_bit_pj": phy.read_energy_pj(),
        "ecc_logic": ecc_area, "assumptions": energy.ASSUMPTIONS,
        "options": [dict(dataclasses.asdict(o), system_energy_nj=o.system_energy_nj(n)) for o in opts],
        "saving": {
            "programming_d_over_a": a.load_energy_nj / d.load_energy_nj,
            "programming_d_over_b": b.load_energy_nj / d.load_energy_nj,
            "programming_d_over_c": c.load_energy_nj / d.load_energy_nj,
            "system_d_over_a": a.system_energy_nj(n) / d.system_energy_nj(n),
            "system_d_over_b": b.system_energy_nj(n) / d.system_energy_nj(n),
            "cell_area_d_over_a": a.cell_area_um2 / d.cell_area_um2,
            "cell_area_d_over_b": b.cell_area_um2 / d.cell_area_um2,
        },
    }
    with od:
        od.write("energy.json", json.dumps(doc, indent=1) + "\n")
        od.write("energy.md", markdown(doc, opts))
        plot(od.stage("energy_vs_ber.png"), opts)
        od.commit()
    s = doc["saving"]
    print(f"energy: tolerated BER {tol:g}; programming energy saving of (d): {s['programming_d_over_a']:.2f}x "
          f"over (a), {s['programming_d_over_b']:.2f}x over (b); system ({n} inferences/load): "
          f"{s['system_d_over_a']:.2f}x / {s['system_d_over_b']:.2f}x -> {out / 'energy.md'}")


def markdown(doc, opts) -> str:
    rows = "\n".join(
        f"| {o.name} | {o.raw_ber:.3g} | {o.effective_ber:.3g} | {o.condition}"
        f"{f', <= {o.retries} retries' if o.retries else ''} | {o.write_time_ns:.1f} | {o.energy_per_bit_pj:.3f} | "
        f"{o.load_energy_nj:.1f} | "
        f"{o.memory_bits} | {o.cell_area_f2:.1f} F^2, {o.cell_area_um2 / 1e3:.2f}e3 um^2 | {o.ecc_logic_transistors} | "
        f"{o.read_energy_per_inference_nj:.2f} | {o.system_energy_nj(doc['inferences_per_load']):.1f} | "
        f"{o.endurance_cycles:.2g} | {'' if o.accuracy is None else f'{o.accuracy * 100:.2f}'} |" for o in opts)
    s = doc["saving"]
    assumptions = "\n".join(f"{i + 1}. {a}" for i, a in enumerate(doc["assumptions"]))
    p = doc["mtj_params"]
    return f"""# Programming the weights: energy, area, accuracy

Net: `{doc['net']}`, {doc['weight_bits']} weight bits in **{doc['memory']}**. Target effective BER {doc['target_ber']:g};
largest tolerated BER (mean accuracy within 1 point of error-free): **{doc['tolerated_ber']:g}**.

| option | raw BER | effective BER | write condition | expected write time / bit (ns) | programming energy / data bit (pJ) | full weight load (nJ) | memory bits | cell area (one, all) | ECC logic (transistors) | read energy / inference (nJ) | system energy, {doc['inferences_per_load']} inference(s)/load (nJ) | endurance (cycles) | accuracy (%) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}

**Savings of (d), weak programming without ECC:** programming energy
{s['programming_d_over_a']:.2f}x less than (a) and {s['programming_d_over_b']:.2f}x less than (b)
({s['programming_d_over_c']:.2f}x less than write-verify (c)); system level with
{doc['inferences_per_load']} inference(s) per load: {s['system_d_over_a']:.2f}x over (a),
{s['system_d_over_b']:.2f}x over (b); cell area {s['cell_area_d_over_a']:.2f}x / {s['cell_area_d_over_b']:.2f}x
smaller. The seed papers report about 2x at system level.

![programming energy per bit vs BER](energy_vs_ber.png)

## Assumptions (all in one place)
{assumptions}

{rram_text(doc)}MTJ parameters (ST-MRAM): Delta {p['delta']}, alpha {p['alpha']}, mu0 Hk {p['mu0_hk_t']} T, Ic0 {p['ic0_ua']} uA,
R_P {p['r_p_kohm']} kOhm, TMR {p['tmr']}, V_write {p['v_write']} V, pulse {p['t_min_ns']}-{p['t_max_ns']} ns,
I <= {p['i_max_ua']} uA, I_on {p['ion_ua_per_um']} uA/um, F = {p['feature_nm']} nm; read {p['i_read_ua']} uA x
{p['t_read_ns']} ns at {p['v_read']} V = {doc['read_energy_per_bit_pj']:.3f} pJ/bit.
"""


def rram_text(doc) -> str:
    """The RRAM physics line of energy.md for a resistive --memory (empty for ST-MRAM)."""
    if doc["memory"] == "stmram":
        return ""
    from bnnmram.models.memory import rram_physics as rp
    p = rp.RRAM_PARAMS
    return (f"RRAM parameters (models/memory/rram_physics.py, sources there): R_LRS = {p.v_c} V / I_C, "
            f"sigma_LRS {p.s_lrs0} at {p.i_0_ua} uA, RESET onset {p.v_onset} V, {p.v_per_neper} V per neper of "
            f"window, V_set {p.v_set} V, read {p.v_read} V x {p.t_read_ns} ns plus a PCSA of {p.c_bl_ff} fF "
            f"bit lines, F = {p.feature_nm} nm; endurance fit {p.endurance_ref:.0e} cycles at "
            f"{p.endurance_i_ua} uA / {p.endurance_v} V.\n\n")


def plot(path: Path, opts):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    bers = np.logspace(-9, -0.7, 60)
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=120)
    from bnnmram.models.memory import technology
    tech = technology(opts[0].memory)
    if tech.name == "stmram":
        label = "least-energy write (Butler 2012 model)"
    else:   # the standard path's strongest condition reaches about 1e-9
        bers, label = bers[bers > 2e-9], f"{tech.title}: condition for each BER on the standard path"
    ax.semilogx(bers, energy.energy_curve(bers, tech.name), "-", label=label)
    for o in opts:
        ax.plot(o.raw_ber, tech.program_energy_pj(tech.condition_for_ber(o.raw_ber)), "o",
                label=f"{o.name}: raw BER {o.raw_ber:.2g}")
    ax.set_xlabel("raw write error rate per bit")
    ax.set_ylabel("programming energy per write (pJ)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
