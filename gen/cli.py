"""`bnnmram` entry point: parses arguments and turns user-facing problems into one line.

Ctrl-C (SIGINT) anywhere, imports and interpreter shutdown included, ends in one line on stderr
and exit code 130: the previous set of outputs stays, or the complete new set if its commit had
begun (gen.outputs), and the line says which. This module imports nothing heavy at its top, so
an interrupt during the imports is caught here too."""
import os
import signal
import sys


def parser():
    from .steps import STEPS, flow_parser
    return flow_parser(description=__doc__.splitlines()[0], steps=STEPS)


def _interrupted(command: str | None) -> str:
    from .outputs import interrupt_text
    return f"bnnmram{f' {command}' if command else ''}: {interrupt_text()}"


def _arm_shutdown(command: str | None):
    """From here to the process's end (atexit callbacks, library teardown) Ctrl-C prints the
    one line and leaves with 130 at once, without a traceback."""
    def on_sigint(signum, frame):
        sys.stderr.write(_interrupted(command) + "\n")
        sys.stderr.flush()
        os._exit(130)
    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread (an embedding host): leave its handler alone
        pass


def run(command: str | None, work, *, arm_shutdown: bool = True) -> int:
    """Run `work()` (a command's body, returning its exit code) with the CLI's error contract:
    BnnMramError and file-system errors give one line and 2, Ctrl-C one line and 130.
    `arm_shutdown`: Ctrl-C after the work (the process's end) is handled too."""
    from bnnmram.models.errors import BnnMramError
    from .outputs import COMMITTED
    COMMITTED.clear()
    name = f"bnnmram {command}" if command else "bnnmram"
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:
        pass
    try:
        rc = work() or 0
    except BnnMramError as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        rc = 2
    except OSError as e:  # a file system problem outside the checked paths: still one line
        where = f" ({e.filename})" if e.filename else ""
        print(f"{name}: error: {e.strerror or e}{where}", file=sys.stderr)
        rc = 2
    except KeyboardInterrupt:
        print(_interrupted(command), file=sys.stderr)
        rc = 130
    if arm_shutdown:
        _arm_shutdown(command)
    return rc


def main(argv=None):
    """The console script (argv None: sys.argv, Ctrl-C at shutdown handled too) or a call from
    Python with a list of arguments."""
    state = {}

    def parse_and_run():
        args = parser().parse_args(argv)   # argparse's own errors: its usage line and exit 2
        state["command"] = args.command
        from .steps import step_function
        return run(args.command, lambda: step_function(args)(args), arm_shutdown=argv is None)
    try:
        rc = parse_and_run()
    except KeyboardInterrupt:  # during the imports or the parsing
        print(_interrupted(state.get("command")), file=sys.stderr)
        if argv is None:
            _arm_shutdown(state.get("command"))
        rc = 130
    sys.exit(rc)


if __name__ == "__main__":
    main()
