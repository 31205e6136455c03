"""Energy of one inference: the accelerator's logic plus its MRAM weight reads, so designs of
the same net (8-bit pixel vs stochastic first layer) can be compared.

Logic is costed by switched capacitance from Yosys' transistor estimate (`bnnmram synth
--target generic`, the logic without the MRAM macros):

    E_logic = transistors * cycles_per_image * ACTIVITY * C_TRANSISTOR * VDD**2

(each transistor's gate and wiring load C_TRANSISTOR, charged and discharged a fraction
ACTIVITY of the cycles). MRAM reads: every weight bit is read once per inference at
physics.read_energy_pj() (models/mram/physics.py). Leakage, clocking beyond ACTIVITY and I/O
are left out. The constants are assumptions of a 28 nm-class node, listed in ASSUMPTIONS; the
ratio of two designs' logic energy at the same cycles per image does not depend on them.
"""
from dataclasses import dataclass

from . import physics as phy

VDD = 0.9               # V
C_TRANSISTOR_FF = 0.2   # fF per transistor: gate plus its share of local wiring
ACTIVITY = 0.1          # transitions per transistor per cycle (0 -> 1 -> 0 counts as 2 x 0.5)

ASSUMPTIONS = [
    f"Logic energy per inference = transistors (Yosys generic estimate, MRAM macros excluded) x "
    f"cycles per image x activity {ACTIVITY} x {C_TRANSISTOR_FF} fF x ({VDD} V)^2; leakage and I/O left out.",
    "MRAM: every weight bit read once per inference at the physics model's read energy "
    "(models/mram/physics.py).",
    "Both designs run at the same cycles per image, so their logic-energy ratio is their "
    "transistor ratio whatever the constants; the MRAM share depends on the constants.",
]


@dataclass(frozen=True)
class InferenceEnergy:
    logic_pj: float
    mram_read_pj: float

    @property
    def total_pj(self) -> float:
        return self.logic_pj + self.mram_read_pj


def logic_energy_pj(transistors: int, cycles: int) -> float:
    """Switched-capacitance energy of `transistors` over `cycles` clock cycles, pJ."""
    return transistors * cycles * ACTIVITY * C_TRANSISTOR_FF * 1e-3 * VDD ** 2


def inference_energy(transistors: int, cycles: int, weight_bits: int) -> InferenceEnergy:
    """Energy of one inference, pJ: logic plus one read of every weight bit."""
    return InferenceEnergy(logic_energy_pj(transistors, cycles), weight_bits * phy.read_energy_pj())
