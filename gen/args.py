"""Argument types and option groups of the `bnnmram` subcommands, each value checked when
parsed (before any work); each step's parser is in its module (gen.steps)."""
import argparse
import math
import os
import re

from bnnmram.models.errors import BnnMramError
from bnnmram.models.memory import NAMES as MEMORIES  # noqa: F401 (the step parsers' choices)
from bnnmram.models.net import stochastic
from bnnmram.models.net.netfile import MAX_WIDTH


DATA_DIR_HELP = "CIFAR-10: folder of your python batches (or $BNNMRAM_CIFAR10_DIR)"
MAX_WEIGHTS = 1 << 26  # weights of a whole net trained here


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (`bnnmram sub: error: ...`), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _typed(fn):
    """Turn a BnnMramError of a type function into argparse's one-line error."""
    def wrapped(text):
        try:
            return fn(text)
        except BnnMramError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    wrapped.__name__ = fn.__name__.lstrip("_")
    return wrapped


def _convert(text: str, convert, what: str):
    """`convert(text)`, or argparse's one-line error `what 'text' is not ...`."""
    try:
        return convert(text)
    except ValueError:
        kind = "an integer" if convert is not float else "a number"
        raise argparse.ArgumentTypeError(f"{what}{text!r} is not {kind}") from None


def _refuse(message: str):
    raise argparse.ArgumentTypeError(message)


def ber(text: str) -> float:
    v = _convert(text, float, "bit error rate ")
    if not (0.0 <= v <= 1.0):  # NaN fails too
        _refuse(f"bit error rate must be in [0, 1], not {text}")
    return v


def seed(text: str) -> int:
    v = _convert(text, lambda t: int(t, 0), "seed ")
    if not 0 <= v < 2**32:
        _refuse(f"seed must be a 32-bit unsigned integer, not {text}")
    return v


def positive(text: str) -> int:
    v = _convert(text, int, "")
    if v < 1:
        _refuse(f"must be a positive integer, not {text}")
    if v > 10**9:
        _refuse(f"{text} is absurdly large")
    return v


def sc_samples(text: str) -> int:
    v = _convert(text, int, "sc samples ")
    if v not in stochastic.SAMPLES:
        _refuse(f"sc samples must be a power of two in 1..64, not {text}")
    return v


def learning_rate(text: str) -> float:
    v = _convert(text, float, "learning rate ")
    if not (math.isfinite(v) and 0 < v <= 1):
        _refuse(f"learning rate must be in (0, 1], not {text}")
    return v


def kl_weight(text: str) -> float:
    v = _convert(text, float, "KL weight ")
    if not (math.isfinite(v) and 0 <= v <= 1000):
        _refuse(f"KL weight must be in [0, 1000], not {text}")
    return v


def samples(text: str) -> int:
    """T, the stochastic passes per image of a Bayesian net."""
    v = _convert(text, int, "samples ")
    if not 1 <= v <= 1024:
        _refuse(f"samples per image must be in 1..1024, not {text}")
    return v


def arch(text: str) -> list:
    """MLP sizes (784-256-10) or a conv spec (conv64k3-pool2-dense256-dense10)."""
    from bnnmram.models.net.cnn import is_spec, parse_spec
    if is_spec(text):
        return _typed(parse_spec)(text)
    parts = str(text).split("-")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"architecture {text!r} must look like 784-256-256-10 "
                                         "(at least an input and an output size) or "
                                         "conv32k3-pool2-dense256-dense10")
    sizes = [int(p) for p in parts]
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"architecture {text!r}: every size must be positive")
    if max(sizes) > MAX_WIDTH:
        raise argparse.ArgumentTypeError(f"architecture {text!r}: a layer of {max(sizes)} is wider than "
                                         f"the fault model's {MAX_WIDTH} neurons or inputs")
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if weights > MAX_WEIGHTS:
        raise argparse.ArgumentTypeError(f"architecture {text!r} has {weights} weights, more than "
                                         f"{MAX_WEIGHTS} (too large to train here)")
    return sizes


def ber_list(text: str) -> list[float]:
    from bnnmram.models.faults.sweep import parse_bers
    return _typed(parse_bers)(text)


def layer_list(text: str) -> list[int]:
    try:
        layers = sorted({int(v) for v in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers {text!r} must be a comma list of layer numbers") from None
    if layers[0] < 0:
        raise argparse.ArgumentTypeError(f"--layers {text!r}: layer numbers start at 0")
    return layers


def fold(text: str):
    try:
        layer, pe, simd = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fold {text!r} must be LAYER:PE:SIMD, e.g. 0:16:16") from None
    if layer < 0 or pe < 1 or simd < 1:
        raise argparse.ArgumentTypeError(f"--fold {text!r}: LAYER >= 0, PE and SIMD >= 1")
    return layer, (pe, simd)


def seed_list(text: str) -> list[int]:
    return [seed(t.strip()) for t in text.split(",")]


def memories(text: str) -> list[str]:
    from bnnmram.models.memory import NAMES
    out = [t.strip() for t in text.split(",")]
    for m in out:
        if m not in NAMES:
            _refuse(f"unknown memory technology {m!r}: one of {', '.join(NAMES)}")
    return out


def fault_modes(text: str) -> list[str]:
    modes = [t.strip() for t in text.split(",")]
    for m in modes:
        if m not in ("ber", "switch"):
            _refuse(f"unknown fault mode {m!r}: ber or switch")
    return modes


def dataset(text: str) -> str:
    from bnnmram.models.data.datasets import NAMES
    if text not in NAMES:
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}: choose one of {', '.join(NAMES)}")
    return text


def simulators(text: str) -> list[str]:
    from bnnmram.cosim.tools import SIMULATORS
    sims = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in sims if s not in SIMULATORS]
    if not sims or bad:
        raise argparse.ArgumentTypeError(f"--sims {text!r}: choose from {', '.join(SIMULATORS)}, comma separated")
    return sims


def add_fault_args(p: argparse.ArgumentParser):
    g = p.add_argument_group("MRAM write errors")
    g.add_argument("--ber", type=ber, default=0.0, help="bit error rate of every write (default 0)")
    g.add_argument("--seed", type=seed, default=0, help="fault pattern seed (32-bit, default 0)")
    g.add_argument("--fault-mode", choices=("ber", "switch"), default="ber",
                   help="'ber': every written bit fails at --ber; 'switch': only switching writes fail")
    g.add_argument("--rate01", type=ber, default=None, help="failure rate of 0->1 writes (default --ber)")
    g.add_argument("--rate10", type=ber, default=None, help="failure rate of 1->0 writes (default --ber)")
    g.add_argument("--init-state", type=int, choices=(0, 1), default=0,
                   help="'switch' mode: MRAM content before programming")


def number(text: str) -> float:
    v = _convert(text, float, "")
    if not (v > 0 and math.isfinite(v)):
        _refuse(f"{text} must be a positive number")
    return v


def number_list(text: str) -> list[float]:
    parts = [t.strip() for t in str(text).split(",")]
    if not all(parts):
        _refuse(f"{text!r} must be a comma list of positive numbers")
    return [number(t) for t in parts]


def condition_flags() -> dict:
    """Every programming-condition option of every memory technology: flag -> help."""
    from bnnmram.models.memory import TECHNOLOGIES
    out = {}
    for t in TECHNOLOGIES.values():
        for o in t.options:
            out.setdefault(o.flag, []).append(f"{t.name}: {o.help}, {o.unit}")
    return out


def add_memory_args(p: argparse.ArgumentParser, lists: bool = False):
    """--memory and the programming conditions of every technology (sweep: comma lists)."""
    from bnnmram.models.memory import NAMES
    g = p.add_argument_group("memory technology and programming condition")
    g.add_argument("--memory", choices=NAMES, default=None,
                   help="weight memory: stmram (default), rram (HfO2 1T1R) or rram2t2r (HfO2 2T2R, PCSA)")
    for flag, helps in condition_flags().items():
        g.add_argument(flag, type=number_list if lists else number, default=None,
                       help="; ".join(helps) + (" (comma list: one point each)" if lists else ""))


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def per256(text: str) -> int:
    """A chance per cycle in 256ths: an integer 0..255."""
    v = _convert(text, int, "")
    if not 0 <= v <= 255:
        _refuse(f"must be a chance in 256ths, an integer 0..255, not {text}")
    return v


def scheduler(text: str) -> str:
    """A Dask scheduler address, SCHEME://HOST:PORT (tcp, tls, ws, wss or ucx)."""
    m = re.fullmatch(r"([a-z]+)://([^\s/:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", text)
    if not m or m[1] not in SCHEDULER_SCHEMES or not 1 <= int(m[3]) <= 65535:
        _refuse(f"{text!r} is not a Dask scheduler address SCHEME://HOST:PORT "
                f"(schemes {', '.join(SCHEDULER_SCHEMES)}; port 1..65535)")
    return text


WORKERS_PER_CORE = 4   # local worker processes per core at most (simulators and campaigns are CPU-bound)


def local_workers(text: str) -> int:
    """Worker processes of a local Dask cluster: 1 .. WORKERS_PER_CORE x the machine's cores."""
    v, most = positive(text), WORKERS_PER_CORE * (os.cpu_count() or 1)
    if v > most:
        _refuse(f"{v} local workers is more than {WORKERS_PER_CORE} per core of this machine ({most}); "
                "for more, start a Dask cluster and pass --scheduler")
    return v


def add_cluster_args(p):
    """--workers / --scheduler: run the command's tasks on Dask (gen.cluster)."""
    p = p.add_mutually_exclusive_group()   # an existing cluster or a local one, not both
    p.add_argument("--workers", type=local_workers, default=None,
                   help="run on a local Dask cluster of this many worker processes (regress: "
                        "default one per core; sweep: default in this process, no Dask)")
    p.add_argument("--scheduler", type=scheduler, default=None,
                   help="run on an existing Dask cluster: its scheduler address, tcp://HOST:PORT")
