"""Memory technologies behind the weights, one interface (models/memory/technology.py):
ST-MRAM (stmram), HfO2 RRAM 1T1R (rram), HfO2 RRAM 2T2R with a PCSA (rram2t2r)."""
from ..errors import BnnMramError
from .rram import Rram1T1R
from .rram2t2r import Rram2T2R
from .stmram import StMram
from .technology import Technology

TECHNOLOGIES: dict[str, Technology] = {t.name: t for t in (StMram(), Rram1T1R(), Rram2T2R())}
NAMES = tuple(TECHNOLOGIES)
DEFAULT = "stmram"


def technology(name: str) -> Technology:
    try:
        return TECHNOLOGIES[name]
    except KeyError:
        raise BnnMramError(f"unknown memory technology {name!r}: one of {', '.join(NAMES)}") from None
