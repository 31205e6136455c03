"""`bnnmram` entry point: parses arguments and turns user-facing problems into one line."""
import argparse
import sys

from models.errors import BnnMramError

from . import commands


def _ber(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bit error rate {text!r} is not a number") from None
    if not (0.0 <= v <= 1.0):
        raise argparse.ArgumentTypeError(f"bit error rate must be in [0, 1], not {text}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed {text!r} is not an integer") from None
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"seed must be a 32-bit unsigned integer, not {text}")
    return v


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return v


def add_fault_args(p: argparse.ArgumentParser):
    g = p.add_argument_group("MRAM write errors")
    g.add_argument("--ber", type=_ber, default=0.0, help="bit error rate of every write (default 0)")
    g.add_argument("--seed", type=_seed, default=0, help="fault pattern seed (32-bit, default 0)")
    g.add_argument("--fault-mode", choices=("ber", "switch"), default="ber",
                   help="'ber': every written bit fails at --ber; 'switch': only switching writes fail")
    g.add_argument("--rate01", type=_ber, default=None, help="failure rate of 0->1 writes (default --ber)")
    g.add_argument("--rate10", type=_ber, default=None, help="failure rate of 1->0 writes (default --ber)")
    g.add_argument("--init-state", type=int, choices=(0, 1), default=0,
                   help="'switch' mode: MRAM content before programming")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bnnmram", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a BNN and export its net file")
    t.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist, mnist or digits")
    t.add_argument("--arch", default="784-256-256-256-10")
    t.add_argument("--epochs", type=_positive, default=20)
    t.add_argument("--seed", type=_seed, default=0)
    t.add_argument("--batch", type=_positive, default=100)
    t.add_argument("--lr", type=float, default=5e-3)
    t.add_argument("--binarize-input", action="store_true", help="binarize pixels (>= 128) instead of 8-bit inputs")
    t.add_argument("--train-ber", type=_ber, default=0.0, help="error-aware training: flip weights at this rate per minibatch")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--force", action="store_true", help="overwrite an existing net in --out")
    t.set_defaults(func=commands.train)

    i = sub.add_parser("infer", help="run the integer golden model on a dataset's test set")
    i.add_argument("--net", required=True)
    i.add_argument("--dataset", default="fashion-mnist")
    i.add_argument("--limit", type=_positive, default=None, help="first K test images only")
    add_fault_args(i)
    i.add_argument("--out", required=True, help="output .npz file (scores, pred, labels)")
    i.set_defaults(func=commands.infer)

    commands.register_more(sub, add_fault_args, _ber, _seed, _positive)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        rc = args.func(args)
    except BnnMramError as e:
        print(f"bnnmram {args.command}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"bnnmram {args.command}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
