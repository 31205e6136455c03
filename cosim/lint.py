"""`verilator --lint-only -Wall` on generated RTL with its shipped waivers (lint.vlt) only."""
import subprocess
from pathlib import Path

from bnnmram.hdl.generate import load_manifest
from bnnmram.models.errors import BnnMramError
from . import tools


def lint(rtl_dir) -> list[str]:
    """Verilator's warnings and errors on the folder's Verilog (empty: lint clean)."""
    rtl_dir = Path(rtl_dir)
    man = load_manifest(rtl_dir)
    tools.prepare("verilator")
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", man["top"],
           man["lint_waivers"], man["verilog"]]
    try:
        p = subprocess.run(cmd, cwd=rtl_dir, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BnnMramError(f"verilator --lint-only failed to run on {rtl_dir}: {e}") from None
    lines = [l for l in (p.stdout + p.stderr).splitlines() if l.startswith("%")]
    if p.returncode and not lines:
        lines = [f"%Error: verilator exited {p.returncode}"]
    return lines
