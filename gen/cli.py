"""`bnnmram` entry point: parses arguments and turns user-facing problems into one line."""
import sys

from models.errors import BnnMramError

from . import demo
from .args import flow_parser, positive, simulators


def parser():
    p, sub = flow_parser(description=__doc__)
    d = sub.add_parser("demo", help="the main job with defaults: train, gen, sim, synth, sweep, energy, report")
    d.add_argument("--out", default="build/demo")
    d.add_argument("--epochs", type=positive, default=20)
    d.add_argument("--images", type=positive, default=200, help="test images per Verilator run")
    d.add_argument("--icarus-images", type=positive, default=200, help="test images per Icarus run")
    d.add_argument("--sims", type=simulators, default=simulators("verilator,icarus"),
                   help="simulators, comma separated")
    d.add_argument("--trials", type=positive, default=3, help="fault patterns per BER in the sweeps")
    d.add_argument("--conv-epochs", type=positive, default=5, help="epochs of the demo's conv net (short schedule)")
    d.add_argument("--conv-images", type=positive, default=300, help="test images per Verilator run of the conv net")
    d.add_argument("--conv-icarus-images", type=positive, default=2,
                   help="test images per Icarus run of the conv net (Icarus evaluates its wide datapaths "
                        "net by net: about 20 s per image)")
    d.set_defaults(func=demo.run)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        rc = args.func(args)
    except BnnMramError as e:
        print(f"bnnmram {args.command}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:  # a file system problem outside the checked paths: still one line
        where = f" ({e.filename})" if e.filename else ""
        print(f"bnnmram {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"bnnmram {args.command}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
