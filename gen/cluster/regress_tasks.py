"""The tasks of `bnnmram regress` that run on the Dask workers: build one simulator model of a
design, run one co-simulation; each returns its result (an error is a result, not an exception)."""
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from bnnmram.models.errors import BnnMramError


@contextlib.contextmanager
def _output_to(path: Path):
    """The process's stdout and stderr (file descriptors, so simulators too) into `path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build_task(rtl: str, simulator: str, log: str) -> str | None:
    """Build one simulator model of one design (its output into `log`); the error line, or None."""
    from bnnmram.cosim import runner, tools
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _output_to(Path(log)):
            tools.prepare(simulator)
            runner.build(rtl, simulator)
        return None
    except BnnMramError as e:
        return str(e)


def sim_task(run, rtl: str, out: str, build_error: str | None) -> dict:
    """One co-simulation (`bnnmram sim`); its row of regress.json."""
    from ..steps import run_step
    t0 = time.time()
    row = {"status": "error", "error": build_error}
    if build_error is None:
        Path(out).mkdir(parents=True, exist_ok=True)
        try:
            with _output_to(Path(out) / "sim.log"):
                code = run_step(run.sim_argv(Path(rtl), Path(out)))
            r = json.loads((Path(out) / "sim.json").read_text())
            row = {"status": "pass" if code == 0 and r["passed"] else "fail", "error": None,
                   **{k: r[k] for k in ("mismatches", "weights_flipped", "accuracy", "golden_accuracy",
                                        "cycles_per_image", "cycles_per_image_analytic", "prog_error")},
                   "readback_mismatches": len(r["readback_mismatches"]),
                   # the macros' write counters, read back (sim.json `endurance`)
                   "writes_per_word_max": r.get("endurance", {}).get("writes_per_word_max"),
                   "words_beyond_endurance": r.get("endurance", {}).get("words_beyond_endurance")}
        except BnnMramError as e:
            row = {"status": "error", "error": str(e)}
        except (OSError, ValueError, KeyError) as e:
            row = {"status": "error", "error": f"no usable sim.json ({e})"}
    row["seconds"] = round(time.time() - t0, 2)
    return row


# ---- the command ------------------------------------------------------------------------------
