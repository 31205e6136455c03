"""The weight memories' gateware: one macro (hdl/memory/macro.py: organisation, programming
port with its pulse and commit, read and dump ports, write counters) and one cell per memory
technology (its fault ports and its write-error logic): stmram.py, resistive.py. A new
technology is one cell class here beside its software model in models/memory/."""
from bnnmram.models.errors import BnnMramError

from .resistive import Rram1T1RCell, Rram2T2RCell
from .stmram import StMramCell

CELLS = {c.name: c for c in (StMramCell(), Rram1T1RCell(), Rram2T2RCell())}


def cell(name: str):
    try:
        return CELLS[name]
    except KeyError:
        raise BnnMramError(f"no hardware macro for memory technology {name!r}: one of {', '.join(CELLS)}") from None
