"""What infer, sim and sweep share: the write-error model and programming condition of the
options, the realised rates, the memory and endurance reports, the net-against-dataset check."""
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import FaultConfig


def given_condition(args, tech) -> dict:
    """The programming-condition options given (field -> value), refusing another technology's."""
    from .args import condition_flags
    own = {o.flag: o.field for o in tech.options}
    given = {}
    for flag in condition_flags():
        v = getattr(args, flag[2:].replace("-", "_"), None)
        if v is None:
            continue
        if flag not in own:
            raise BnnMramError(f"{flag} is not a programming condition of --memory {tech.name} "
                               f"(it takes {', '.join(own)})")
        given[own[flag]] = v
    return given


def fault_setting(args, memory: str | None = None) -> tuple[FaultConfig, object | None]:
    """(write-error model, programming condition or None) of infer/sim: ST-MRAM from --ber and
    its modes as before; a programming condition (--write-ua/--pulse-ns,
    --compliance-ua/--reset-v/--pulse-ns) through the technology's physics; --ber alone: the
    condition it stands for (none for BER 0, switch mode or per-direction rates)."""
    from bnnmram.models.memory import technology
    tech = technology(memory or args.memory or "stmram")
    given = given_condition(args, tech)
    rates = args.rate01 is not None or args.rate10 is not None or args.fault_mode != "ber"
    if given:
        if args.ber or rates:
            raise BnnMramError("give --ber (and its rates and mode) or a programming condition, not both")
        cond = tech.condition(**given)
        return tech.fault_config(cond, args.seed), cond
    if tech.name == "stmram":
        cfg = FaultConfig(seed=args.seed, ber=args.ber, mode=args.fault_mode, rate_01=args.rate01,
                          rate_10=args.rate10, init_state=args.init_state)
        return cfg, None if rates or args.ber == 0 else tech.condition_for_ber(args.ber)
    if rates:
        raise BnnMramError(f"--rate01/--rate10 and --fault-mode switch are ST-MRAM's; --memory {tech.name} "
                           "takes --ber or a programming condition")
    cond = None if args.ber == 0 else tech.condition_for_ber(args.ber)
    return (tech.error_free(args.seed) if cond is None else tech.fault_config(cond, args.seed)), cond


def fault_config(args, memory: str | None = None) -> FaultConfig:
    return fault_setting(args, memory)[0]


def fault_text(cfg: FaultConfig) -> str:
    """The realised error rates (and device codes) of a fault configuration, for progress lines."""
    r1, r0 = cfg.realised_rates
    dev = f", {cfg.device.cell} device codes {cfg.device.ports()}" if cfg.device is not None else ""
    return f"BER realised {r1:.3g}/{r0:.3g}, seed {cfg.seed}{dev}"


def memory_report(memory: str, cfg: FaultConfig, cond) -> dict:
    """sim_config's `memory`: the technology, its condition and what the model gives there
    (programming energy, the write cycles a word survives at that condition)."""
    from bnnmram.models.memory import technology
    tech = technology(memory)
    r1, r0 = cfg.realised_rates
    out = {"technology": memory, "ber_write1": r1, "ber_write0": r0, "fault_ports": cfg.ports()}
    if cond is not None:
        d = tech.describe(cond)
        out.update({"condition": d["condition"], "program_energy_pj_per_bit": d["program_energy_pj_per_bit"],
                    "endurance_cycles": d["endurance_cycles"]})
    return out


def endurance_report(endurance_cycles: float | None, write_counts: dict[str, int]) -> dict:
    """sim.json's `endurance`: the write counters read back from the macros ({count: words})
    against the cycles a word survives (None: no programming condition, not judged)."""
    counts = {int(c): n for c, n in write_counts.items()}
    out = {"writes_per_word_max": max(counts, default=0), "words": sum(counts.values()),
           "endurance_cycles": endurance_cycles}
    if endurance_cycles is not None:
        out["words_beyond_endurance"] = sum(n for c, n in counts.items() if c > endurance_cycles)
        out["endurance_used"] = max(counts, default=0) / endurance_cycles
    return out


def check_net_matches(net, ds):
    if net.input_shape is not None and tuple(net.input_shape) != tuple(ds.shape):
        raise BnnMramError(f"net input shape {'x'.join(map(str, net.input_shape))} does not match dataset "
                           f"{ds.name} ({'x'.join(map(str, ds.shape))})")
    if net.arch[0] != ds.pixels:
        raise BnnMramError(f"net input size {net.arch[0]} does not match dataset {ds.name} "
                           f"({ds.pixels} pixels)")


def refuse_bayesian(net, path, command: str):
    """One line if `net` is Bayesian: `command` does not take read-time sampled nets (yet)."""
    if net.is_bayesian:
        raise BnnMramError(f"{path} is a Bayesian net (version 3): `bnnmram {command}` takes deterministic nets; "
                           "`bnnmram infer --samples T` evaluates it")


def refuse_samples(net, path, samples):
    """One line if --samples is given for a deterministic net (every pass would be the same)."""
    if samples is not None and not net.is_bayesian:
        raise BnnMramError(f"--samples needs a Bayesian net (net file version 3, train --bayesian); {path} "
                           "is deterministic: every pass would be the same")


def refuse_write_errors_with_sampling(cfg: FaultConfig):
    """One line if write errors are asked for beside read-time sampling: a Bayesian net's levels
    are programmed exactly, write errors beside sampling are not modelled."""
    if any(cfg.realised_rates):
        raise BnnMramError("a Bayesian net's levels are programmed exactly: write errors beside read-time "
                           "sampling are not modelled")
